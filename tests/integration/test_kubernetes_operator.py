"""`ripple operator` against kmock's Kubernetes emulator (tests/support/kube.py), with kopf
running for real in its own thread and the real Valkey the data plane reports through.

The operator's kopf watches fill its cache; the holder of the Lease reconciles with the
same reconcilers and applier as `ripple up`, writing children with ownerReferences and
status through `/status`; Revisions become Deployments and Services.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import aiohttp.web
import kubernetes
import pytest
import redis.asyncio
import yaml

from controllers.platforms.kubernetes import api as kube_api
from controllers.platforms.kubernetes import operator as kube_operator
from controllers.platforms.kubernetes.leases import KubeLease
from ripple import dataplane, scales
from tests.support import kube
from tests.support.mesh import free_port
from tests.support.waiting import until

pytestmark = pytest.mark.integration

INGRESS = "http://ripple-ingress.ripple-system.svc.cluster.local"
NS = "ns1"
RESOURCES = [
    *((f"{k.group}/{k.version}/{k.plural}" if k.group else f"{k.version}/{k.plural}",
       k.kind, k.namespaced) for k in kube_operator.watched_kinds()),
    ("apps/v1/deployments", "Deployment", True),
    ("v1/services", "Service", True),
    ("coordination.k8s.io/v1/leases", "Lease", True),
]


def path(resource: str, name: str = "", namespace: str = NS) -> str:
    group_version, plural = resource.rsplit("/", 1)
    base = f"/apis/{group_version}" if "." in group_version or "/" in group_version else f"/api/{group_version}"
    return f"{base}/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


def configuration(cluster: kube.Cluster) -> kubernetes.client.Configuration:
    config = kubernetes.client.Configuration()
    config.host = str(cluster.url).rstrip("/")
    return config


@pytest.fixture
async def cluster() -> AsyncIterator[kube.Cluster]:
    async with kube.serve(RESOURCES) as emulator:
        yield emulator


@contextlib.asynccontextmanager
async def running(cluster: kube.Cluster, redis_url: str | None,
                  identity: str = "replica-a", **options: Any) -> AsyncIterator[kube_operator.Operator]:
    operator = kube_operator.Operator(configuration(cluster), base_url=INGRESS,
                                      redis_url=redis_url, identity=identity, lease_ttl=2.0,
                                      **options)
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=operator.run_kopf, daemon=True,
                              kwargs={"stop_flag": stop, "ready_flag": ready})
    thread.start()
    try:
        assert await asyncio.to_thread(ready.wait, 30), "kopf did not start"
        # kmock cannot resume a watch from a resourceVersion: wait until kopf's are open.
        await until(lambda: len(cluster["watch eventing.knative.dev/v1/triggers"]) and
                    len(cluster["watch serving.knative.dev/v1/revisions"]),
                    what="kopf's watches")
        yield operator
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, 30)
        assert not thread.is_alive(), "kopf did not stop"


@contextlib.asynccontextmanager
async def data_plane(client: redis.asyncio.Redis) -> AsyncIterator[None]:
    """A data-plane process that has applied every resource, as `ripple.dataplane` says."""
    async def report() -> None:
        while True:
            await dataplane.write(client, "data-plane-0", 10**9)
            await asyncio.sleep(0.5)
    task = asyncio.create_task(report())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def ready(obj: dict[str, Any] | None) -> str | None:
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return str(condition.get("status"))
    return None


async def create(cluster: kube.Cluster, resource: str, body: dict[str, Any]) -> None:
    body.setdefault("metadata", {})["namespace"] = NS
    response = await cluster.post(path(resource), json=body)
    assert response.status in (200, 201), await response.text()


BROKERS = "eventing.knative.dev/v1/brokers"
TRIGGERS = "eventing.knative.dev/v1/triggers"


async def test_a_broker_and_trigger_become_ready_with_in_cluster_addresses(
        cluster: kube.Cluster, valkey_url: str, redis_client: redis.asyncio.Redis) -> None:
    async with running(cluster, valkey_url) as operator:
        await create(cluster, BROKERS, {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                                        "metadata": {"name": "default"}})
        await create(cluster, TRIGGERS, {
            "apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
            "metadata": {"name": "orders"},
            "spec": {"broker": "default", "filter": {"attributes": {"type": "order"}},
                     "subscriber": {"uri": "http://orders.ns1.svc.cluster.local/"}}})
        # No data-plane process has applied it yet: not Ready, waiting for the data plane.
        await until(lambda: ready(cluster.get_object(BROKERS, NS, "default")) == "Unknown",
                    what="the Broker waiting for the data plane")
        assert operator.leading.is_set()
        async with data_plane(redis_client):
            await until(lambda: ready(cluster.get_object(BROKERS, NS, "default")) == "True",
                        what="the Broker Ready")
            await until(lambda: ready(cluster.get_object(TRIGGERS, NS, "orders")) == "True",
                        what="the Trigger Ready")
        broker = cluster.get_object(BROKERS, NS, "default")
        trigger = cluster.get_object(TRIGGERS, NS, "orders")
    assert broker is not None and trigger is not None
    assert broker["status"]["address"]["url"] == f"{INGRESS}/{NS}/default"
    assert trigger["status"]["subscriberUri"] == "http://orders.ns1.svc.cluster.local/"
    assert broker["status"]["observedGeneration"] == 1
    # Status went through the status subresource, and only there.
    assert len(cluster["patch", path(BROKERS, "default") + "/status"]) >= 1
    assert len(cluster["patch", path(BROKERS, "default")]) == 0


def owner_of(obj: dict[str, Any] | None) -> dict[str, Any]:
    assert obj is not None
    (reference,) = obj["metadata"]["ownerReferences"]
    return reference


def owned_by(child: dict[str, Any] | None, owner: dict[str, Any] | None) -> bool:
    if child is None or owner is None:
        return False
    reference = owner_of(child)
    return (reference["uid"] == owner["metadata"]["uid"] and reference["kind"] == owner["kind"]
            and reference["controller"] is True and reference["blockOwnerDeletion"] is True)


SEQUENCES = "flows.knative.dev/v1/sequences"
CHANNELS = "messaging.knative.dev/v1/inmemorychannels"
SUBSCRIPTIONS = "messaging.knative.dev/v1/subscriptions"


async def test_a_sequence_creates_its_channels_and_subscriptions_as_owned_objects(
        cluster: kube.Cluster, valkey_url: str, redis_client: redis.asyncio.Redis) -> None:
    async with running(cluster, valkey_url), data_plane(redis_client):
        await create(cluster, SEQUENCES, {
            "apiVersion": "flows.knative.dev/v1", "kind": "Sequence",
            "metadata": {"name": "pipeline"},
            "spec": {"steps": [{"uri": "http://first.ns1.svc.cluster.local/"},
                               {"uri": "http://second.ns1.svc.cluster.local/"}]}})
        sequence = lambda: cluster.get_object(SEQUENCES, NS, "pipeline")  # noqa: E731
        for i in (0, 1):
            await until(lambda: owned_by(cluster.get_object(CHANNELS, NS, f"pipeline-kn-sequence-{i}"),
                                         sequence()), what=f"channel {i}")
            await until(lambda: owned_by(cluster.get_object(SUBSCRIPTIONS, NS, f"pipeline-kn-sequence-{i}"),
                                         sequence()), what=f"subscription {i}")
        await until(lambda: ready(sequence()) == "True", what="the Sequence Ready")
        channel = cluster.get_object(CHANNELS, NS, "pipeline-kn-sequence-0")
    assert channel is not None
    assert channel["status"]["address"]["url"] == \
        f"{INGRESS}/channels/{NS}/pipeline-kn-sequence-0"
    assert sequence()["status"]["address"]["url"] == channel["status"]["address"]["url"]


KSERVICES = "serving.knative.dev/v1/services"
CONFIGURATIONS = "serving.knative.dev/v1/configurations"
ROUTES = "serving.knative.dev/v1/routes"
REVISIONS = "serving.knative.dev/v1/revisions"
DEPLOYMENTS = "apps/v1/deployments"
SERVICES = "v1/services"


async def test_a_service_becomes_a_revision_deployment_and_service_and_scales(
        cluster: kube.Cluster, valkey_url: str, redis_client: redis.asyncio.Redis) -> None:
    async with running(cluster, valkey_url) as operator, data_plane(redis_client):
        await create(cluster, KSERVICES, {
            "apiVersion": "serving.knative.dev/v1", "kind": "Service",
            "metadata": {"name": "hello"},
            "spec": {"template": {"spec": {"containers": [{
                "image": "ghcr.io/knative/helloworld-go:latest",
                "env": [{"name": "TARGET", "value": "Ripple"}]}]}}}})
        ksvc = lambda: cluster.get_object(KSERVICES, NS, "hello")  # noqa: E731
        configuration = lambda: cluster.get_object(CONFIGURATIONS, NS, "hello")  # noqa: E731
        revision = lambda: cluster.get_object(REVISIONS, NS, "hello-00001")  # noqa: E731
        await until(lambda: owned_by(configuration(), ksvc()), what="the Configuration")
        await until(lambda: owned_by(cluster.get_object(ROUTES, NS, "hello"), ksvc()), what="the Route")
        await until(lambda: owned_by(revision(), configuration()), what="the Revision")
        deployment = lambda: cluster.get_object(DEPLOYMENTS, NS, "hello-00001")  # noqa: E731
        await until(lambda: owned_by(deployment(), revision()), what="the Deployment")
        await until(lambda: owned_by(cluster.get_object(SERVICES, NS, "hello-00001"), revision()),
                    what="the Revision's Service")
        pod = deployment()["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"] == "ghcr.io/knative/helloworld-go:latest"
        assert {"name": "PORT", "value": "8080"} in container["env"]
        assert {"name": "TARGET", "value": "Ripple"} in container["env"]
        assert deployment()["spec"]["replicas"] == 1  # the initial scale
        assert cluster.get_object(SERVICES, NS, "hello-00001")["spec"]["ports"] == \
            [{"name": "http", "port": 80, "targetPort": 8080}]

        # The kube-controller-manager's part: the pods are up.
        response = await cluster.patch(path(DEPLOYMENTS, "hello-00001") + "/status",
                                       json={"status": {"replicas": 1, "readyReplicas": 1}},
                                       headers={"Content-Type": "application/merge-patch+json"})
        assert response.status == 200
        await until(lambda: (revision() or {}).get("status", {}).get("actualReplicas") == 1,
                    what="the Revision reporting its ready replica")
        await until(lambda: ready(revision()) == "True", what="the Revision Ready")

        # The KPA decides three replicas (from the routers' concurrency): the Deployment follows.
        await scales.write(redis_client, {(NS, "hello-00001"): 3})
        await until(lambda: deployment()["spec"]["replicas"] == 3, what="replicas written")
        assert operator.leading.is_set()

        # Deleting the Service leaves its children to Kubernetes' garbage collector, by
        # their ownerReferences (the emulator has none): the operator deletes none itself.
        uid = ksvc()["metadata"]["uid"]
        response = await cluster.delete(path(KSERVICES, "hello"))
        assert response.status == 200
        await until(lambda: ksvc() is None, what="the Service gone")
        await until(lambda: operator.informer.get("Service", NS, "hello") is None,
                    what="the operator's cache without it")
        assert owner_of(configuration())["uid"] == uid
        assert owner_of(cluster.get_object(ROUTES, NS, "hello"))["uid"] == uid
    assert len(cluster["delete", path(CONFIGURATIONS, "hello")]) == 0


async def test_one_replica_reconciles_at_a_time_and_another_takes_over(
        cluster: kube.Cluster, valkey_url: str, redis_client: redis.asyncio.Redis) -> None:
    async with data_plane(redis_client), contextlib.AsyncExitStack() as replica_a:
        first = await replica_a.enter_async_context(running(cluster, valkey_url, "replica-a"))
        await until(first.leading.is_set, what="replica-a leading")
        async with running(cluster, valkey_url, "replica-b") as second:
            await create(cluster, BROKERS, {"apiVersion": "eventing.knative.dev/v1",
                                            "kind": "Broker", "metadata": {"name": "one"}})
            await until(lambda: ready(cluster.get_object(BROKERS, NS, "one")) == "True",
                        what="Broker one Ready")
            # replica-b watches (its cache has the Broker) but does not reconcile.
            await until(lambda: second.informer.get("Broker", NS, "one") is not None,
                        what="replica-b's cache")
            assert not second.leading.is_set()
            assert second.controller.reconciled == 0
            lease = cluster.get_object("coordination.k8s.io/v1/leases", "ripple-system",
                                       "ripple-controller")
            assert lease is not None and lease["spec"]["holderIdentity"] == "replica-a"
            # replica-a stops (it releases the Lease): replica-b takes over and reconciles.
            await replica_a.aclose()
            assert not first.leading.is_set()
            await until(second.leading.is_set, what="replica-b leading")
            await create(cluster, BROKERS, {"apiVersion": "eventing.knative.dev/v1",
                                            "kind": "Broker", "metadata": {"name": "two"}})
            await until(lambda: ready(cluster.get_object(BROKERS, NS, "two")) == "True",
                        what="Broker two Ready, by replica-b")
            assert second.controller.reconciled > 0
            lease = cluster.get_object("coordination.k8s.io/v1/leases", "ripple-system",
                                       "ripple-controller")
            assert lease is not None and lease["spec"]["holderIdentity"] == "replica-b"
            assert lease["spec"]["leaseTransitions"] >= 1


async def test_an_expired_lease_is_taken_over(cluster: kube.Cluster) -> None:
    client = kube_api.KubeApi(configuration(cluster))
    try:
        a = KubeLease(client, "ripple-system", "ripple-controller", "a", ttl=1.0)
        b = KubeLease(client, "ripple-system", "ripple-controller", "b", ttl=1.0)
        await a.acquire()
        contender = asyncio.create_task(b.acquire())
        await asyncio.sleep(0.5)
        assert not contender.done()  # held and renewed (by nobody yet, but within its duration)
        # a stalls (never renews): after the lease duration, as b observes it, b has it.
        await asyncio.wait_for(contender, 10)
        lease = cluster.get_object("coordination.k8s.io/v1/leases", "ripple-system",
                                   "ripple-controller")
        assert lease is not None and lease["spec"]["holderIdentity"] == "b"
        await b.release()
        lease = cluster.get_object("coordination.k8s.io/v1/leases", "ripple-system",
                                   "ripple-controller")
        assert lease is not None and lease["spec"].get("holderIdentity") is None
    finally:
        client.close()


async def test_the_ripple_operator_command_with_a_kubeconfig(
        cluster: kube.Cluster, valkey_url: str, redis_client: redis.asyncio.Redis,
        tmp_path: Any) -> None:
    """`ripple operator` as users run it: its own process, the kubeconfig from KUBECONFIG,
    the namespace flag, the liveness endpoint, SIGTERM to stop."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
        "clusters": [{"name": "emulator", "cluster": {"server": str(cluster.url).rstrip("/")}}],
        "users": [{"name": "tester", "user": {"token": "not-checked"}}],
        "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "tester"}}]}))
    response = await cluster.post("/api/v1/namespaces", json={
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    assert response.status in (200, 201), await response.text()
    health = free_port()
    log = (tmp_path / "operator.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ripple.cli.main", "operator", "--namespace", NS,
        "--redis-url", valkey_url, "--health-port", str(health),
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        stdout=asyncio.subprocess.DEVNULL, stderr=log)
    try:
        watching = lambda: any(r.url.path == path(BROKERS) for r in cluster["watch"])  # noqa: E731
        await until(lambda: watching() or process.returncode is not None, timeout=60,
                    what="the operator's namespaced Broker watch")
        if process.returncode is not None:
            raise AssertionError((tmp_path / "operator.log").read_text()[-3000:])
        async with data_plane(redis_client):
            await create(cluster, BROKERS, {"apiVersion": "eventing.knative.dev/v1",
                                            "kind": "Broker", "metadata": {"name": "default"}})
            await until(lambda: ready(cluster.get_object(BROKERS, NS, "default")) == "True",
                        what="the Broker Ready")
        broker = cluster.get_object(BROKERS, NS, "default")
        assert broker is not None
        assert broker["status"]["address"]["url"] == f"{INGRESS}/{NS}/default"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{health}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["leading"] is True
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
        log.close()
    stderr = (tmp_path / "operator.log").read_text()
    assert code == 0, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-2000:]


def kubeconfig_for(cluster: kube.Cluster, where: Any) -> Any:
    where.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
        "clusters": [{"name": "emulator", "cluster": {"server": str(cluster.url).rstrip("/")}}],
        "users": [{"name": "tester", "user": {"token": "not-checked"}}],
        "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "tester"}}]}))
    return where


async def test_an_event_through_the_data_plane_of_the_cluster(
        cluster: kube.Cluster, valkey_url: str, redis_client: redis.asyncio.Redis,
        tmp_path: Any) -> None:
    """`ripple data-plane` reads the resources from the API server, reports what it has
    applied (so the operator marks the Broker Ready), and delivers an event to the Trigger's
    subscriber."""
    received: list[dict[str, str]] = []

    async def subscriber(request: aiohttp.web.Request) -> aiohttp.web.Response:
        received.append({k.lower(): v for k, v in request.headers.items()})
        return aiohttp.web.Response(status=200)

    app = aiohttp.web.Application()
    app.router.add_post("/", subscriber)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    sink_port = free_port()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", sink_port).start()
    plane_port = free_port()
    log = (tmp_path / "data-plane.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ripple.cli.main", "data-plane", "--host", "127.0.0.1",
        "--port", str(plane_port), "--redis-url", valkey_url,
        env={**os.environ, "KUBECONFIG": str(kubeconfig_for(cluster, tmp_path / "kubeconfig")),
             "POD_NAME": "ripple-data-plane-0"},
        stdout=asyncio.subprocess.DEVNULL, stderr=log)
    try:
        async with running(cluster, valkey_url):
            watching = lambda: any(r.url.path == "/apis/eventing.knative.dev/v1/triggers"  # noqa: E731
                                   and r.params.get("resourceVersion") for r in cluster["watch"])
            await until(lambda: (sum(1 for r in cluster["watch"]
                                     if r.url.path == "/apis/eventing.knative.dev/v1/brokers") >= 2
                                 and watching()) or process.returncode is not None,
                        timeout=60, what="the data plane's watches")
            assert process.returncode is None, (tmp_path / "data-plane.log").read_text()[-3000:]
            await create(cluster, BROKERS, {"apiVersion": "eventing.knative.dev/v1",
                                            "kind": "Broker", "metadata": {"name": "default"}})
            await create(cluster, TRIGGERS, {
                "apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
                "metadata": {"name": "all"},
                "spec": {"broker": "default", "subscriber": {"uri": f"http://127.0.0.1:{sink_port}/"}}})
            await until(lambda: ready(cluster.get_object(BROKERS, NS, "default")) == "True",
                        what="the Broker Ready, as the data plane reports")
            await until(lambda: ready(cluster.get_object(TRIGGERS, NS, "all")) == "True",
                        what="the Trigger Ready")
            async with aiohttp.ClientSession() as session:
                async with session.post(
                        f"http://127.0.0.1:{plane_port}/{NS}/default", data=b'{"n": 1}',
                        headers={"ce-specversion": "1.0", "ce-id": "e1", "ce-source": "/test",
                                 "ce-type": "demo", "content-type": "application/json"}) as response:
                    assert response.status == 202, await response.text()
            await until(lambda: received, what="the event delivered")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
            log.close()
            await runner.cleanup()
    assert received[0]["ce-id"] == "e1" and received[0]["ce-type"] == "demo"
    stderr = (tmp_path / "data-plane.log").read_text()
    assert code == 0, stderr[-2000:]


async def test_a_request_through_the_router_of_the_cluster(
        cluster: kube.Cluster, valkey_url: str, redis_client: redis.asyncio.Redis,
        tmp_path: Any) -> None:
    """`ripple router` follows the Routes through the API server and proxies to a Revision's
    endpoint as the operator reports it: here a local server stands in for the Revision's
    Service (no cluster DNS, no pods)."""
    async def pod(request: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.Response(text="hello from the pod")

    app = aiohttp.web.Application()
    app.router.add_get("/{tail:.*}", pod)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    pod_port = free_port()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", pod_port).start()
    router_port = free_port()
    log = (tmp_path / "router.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ripple.cli.main", "router", "--host", "127.0.0.1",
        "--port", str(router_port), "--redis-url", valkey_url,
        env={**os.environ, "KUBECONFIG": str(kubeconfig_for(cluster, tmp_path / "kubeconfig"))},
        stdout=asyncio.subprocess.DEVNULL, stderr=log)
    answers: list[tuple[int, str]] = []

    async def ask() -> bool:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{router_port}/serving/{NS}/hello/") as response:
                answers.append((response.status, await response.text()))
                return response.status == 200

    try:
        async with running(cluster, valkey_url,
                           revision_endpoint=lambda ns, name: f"127.0.0.1:{pod_port}"):
            await until(lambda: any(r.url.path == "/apis/serving.knative.dev/v1/routes"
                                    and r.params.get("resourceVersion") for r in cluster["watch"])
                        or process.returncode is not None, timeout=60, what="the router's watch")
            assert process.returncode is None, (tmp_path / "router.log").read_text()[-3000:]
            await create(cluster, KSERVICES, {
                "apiVersion": "serving.knative.dev/v1", "kind": "Service",
                "metadata": {"name": "hello"},
                "spec": {"template": {"spec": {"containers": [{"image": "ghcr.io/x/hello:1"}]}}}})
            await until(lambda: cluster.get_object(DEPLOYMENTS, NS, "hello-00001") is not None,
                        what="the Deployment")
            response = await cluster.patch(path(DEPLOYMENTS, "hello-00001") + "/status",
                                           json={"status": {"replicas": 1, "readyReplicas": 1}},
                                           headers={"Content-Type": "application/merge-patch+json"})
            assert response.status == 200
            await until(lambda: ready(cluster.get_object(KSERVICES, NS, "hello")) == "True",
                        what="the Service Ready")
            await until(ask, what="the router answering from the pod")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
            log.close()
            await runner.cleanup()
    assert answers[-1] == (200, "hello from the pod")
    assert code == 0, (tmp_path / "router.log").read_text()[-2000:]


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for found in ((obj or {}).get("status") or {}).get("conditions") or []:
        if found.get("type") == kind:
            return dict(found)
    return {}


async def test_channels_parallels_and_sources_reconcile_with_secrets_from_the_cluster(
        cluster: kube.Cluster, valkey_url: str, redis_client: redis.asyncio.Redis) -> None:
    sink = {"uri": "http://display.ns1.svc.cluster.local/"}
    async with running(cluster, valkey_url), data_plane(redis_client):
        await create(cluster, "messaging.knative.dev/v1/channels", {
            "apiVersion": "messaging.knative.dev/v1", "kind": "Channel", "metadata": {"name": "ch"}})
        await create(cluster, "flows.knative.dev/v1/parallels", {
            "apiVersion": "flows.knative.dev/v1", "kind": "Parallel", "metadata": {"name": "par"},
            "spec": {"branches": [{"subscriber": sink}]}})
        await create(cluster, "sources.knative.dev/v1/pingsources", {
            "apiVersion": "sources.knative.dev/v1", "kind": "PingSource", "metadata": {"name": "tick"},
            "spec": {"schedule": "* * * * *", "sink": sink}})
        await create(cluster, "sources.knative.dev/v1alpha1/githubsources", {
            "apiVersion": "sources.knative.dev/v1alpha1", "kind": "GitHubSource",
            "metadata": {"name": "hooks"},
            "spec": {"ownerAndRepository": "example/repo", "eventTypes": ["push"],
                     "secretToken": {"secretKeyRef": {"name": "github", "key": "secretToken"}},
                     "sink": sink}})
        for resource, name in (("messaging.knative.dev/v1/channels", "ch"),
                               ("flows.knative.dev/v1/parallels", "par"),
                               ("sources.knative.dev/v1/pingsources", "tick")):
            await until(lambda: ready(cluster.get_object(resource, NS, name)) == "True",
                        what=f"{resource} {name} Ready")
        # The Channel's backing InMemoryChannel is its own, by ownerReference.
        await until(lambda: owned_by(cluster.get_object(CHANNELS, NS, "ch"),
                                     cluster.get_object("messaging.knative.dev/v1/channels", NS, "ch")),
                    what="the Channel's InMemoryChannel")
        github = lambda: cluster.get_object("sources.knative.dev/v1alpha1/githubsources", NS, "hooks")  # noqa: E731
        await until(lambda: condition(github(), "SecretsProvided").get("reason") == "SecretNotFound",
                    what="the GitHubSource missing its Secret")
        # The Secret comes from the cluster: once it exists, the source sees it.
        response = await cluster.post(f"/api/v1/namespaces/{NS}/secrets", json={
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "github", "namespace": NS},
            "data": {"secretToken": "c2VjcmV0"}})
        assert response.status in (200, 201), await response.text()
        await until(lambda: condition(github(), "SecretsProvided").get("status") == "True",
                    what="the GitHubSource's Secret found")
        await until(lambda: ready(github()) == "True", what="the GitHubSource Ready")
    assert github()["status"]["sinkUri"] == sink["uri"]
