"""`ripple up --redis-url redis+cluster://...`: the mesh on a real 3-node Valkey Cluster.

Two Brokers whose keys live on different nodes, Triggers with a filter and with retries,
two workers, a `kill -9` of `ripple up` in the middle of a burst and a restart on the same
cluster: every event that got a 202 reaches its subscribers, and the resources, kept on the
cluster, are all there after the restart.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support.mesh import Mesh
from tests.support.prober import post_events, wait_until
from tests.support.sinks import Answer, RecordingSink
from tests.support.valkey_cluster import ValkeyCluster, broker_on_node

pytestmark = pytest.mark.e2e

TRIGGERS = "/apis/eventing.knative.dev/v1/namespaces/default/triggers"


A, B = broker_on_node(0), broker_on_node(2)


def manifest(sink: str) -> str:
    return f"""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: {A}, namespace: default}}
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: {B}, namespace: default}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: every-a, namespace: default}}
spec:
  broker: {A}
  subscriber: {{uri: '{sink}/a'}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: kept-b, namespace: default}}
spec:
  broker: {B}
  filter: {{attributes: {{type: dev.example.keep}}}}
  subscriber: {{uri: '{sink}/b'}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: flaky-b, namespace: default}}
spec:
  broker: {B}
  subscriber: {{uri: '{sink}/flaky'}}
  delivery: {{retry: 5, backoffPolicy: linear, backoffDelay: PT0.1S}}
"""


def test_a_mesh_on_a_cluster_loses_no_accepted_event_across_a_kill(
        valkey_cluster: ValkeyCluster, data_dir: Path) -> None:
    valkey_cluster.flush()
    failed: set[str] = set()
    lock = threading.Lock()

    def behaviour(request, _n) -> Answer:  # /flaky fails each event's first attempt
        if request.path == "/flaky":
            with lock:
                if request.ce["id"] not in failed:
                    failed.add(request.ce["id"])
                    return Answer(503)
        return Answer(202)

    with RecordingSink(behaviour) as sink:
        mesh = Mesh(data_dir, workers=2, extra=["--redis-url", valkey_cluster.url]).start()
        try:
            mesh.apply(manifest(sink.url))
            for name in ("every-a", "kept-b", "flaky-b"):
                mesh.wait_ready(f"{TRIGGERS}/{name}")
            # B: half the events of the filtered type, each also retried once by flaky-b
            for i in range(40):
                assert mesh.send_event(f"/default/{B}", f"b{i}",
                                       type="dev.example.keep" if i % 2 else "dev.example.drop") == 202
            accepted: list[str] = []
            ids = [f"a{i}" for i in range(1200)]
            sender = threading.Thread(target=post_events, args=(mesh, f"/default/{A}", ids, accepted))
            sender.start()
            assert wait_until(lambda: len(accepted) >= 300, timeout=30, interval=0.01)
            mesh.kill()  # mid-burst: deliveries in flight, a backlog and retries in the cluster
            sender.join()
            assert len(accepted) < len(ids)
        finally:
            mesh.stop()

        mesh.start()  # the same cluster: the resources and every queue are where they were
        try:
            names = {t["metadata"]["name"] for t in mesh.get(TRIGGERS)["items"]}
            assert names == {"every-a", "kept-b", "flaky-b"}

            def delivered(path: str) -> set[str]:
                return {r.ce["id"] for r in list(sink.received) if r.path == path}

            def retried() -> set[str]:  # failed once (503), then delivered
                attempts = [r.ce["id"] for r in list(sink.received) if r.path == "/flaky"]
                return {i for i in attempts if attempts.count(i) >= 2}

            every_b, kept = {f"b{i}" for i in range(40)}, {f"b{i}" for i in range(1, 40, 2)}
            assert wait_until(lambda: set(accepted) <= delivered("/a") and delivered("/b") == kept
                              and retried() == every_b, timeout=60, interval=0.1), (
                f"lost: a {len(set(accepted) - delivered('/a'))}, b {len(kept - delivered('/b'))}, "
                f"not retried {len(every_b - retried())}")
            assert delivered("/a") <= set(ids) and failed == every_b
            # and it keeps serving after the restart
            assert mesh.send_event(f"/default/{A}", "after") == 202
            assert wait_until(lambda: "after" in delivered("/a"), timeout=15, interval=0.05)
        finally:
            mesh.stop()
