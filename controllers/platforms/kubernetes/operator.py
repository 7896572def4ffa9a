"""`ripple operator`: kopf drives Ripple's reconcilers and applier on a Kubernetes cluster.

    kopf watches ─▶ kopf.on.event ─▶ KopfInformer (the informer cache)
                                       │ every change, as on the local platform
                                       ▼
    leader task (holds the Lease) ─▶ LocalController: work queue, tracker, reconcilers
                                       │ Result
                                       ▼
                                     Applier ─▶ KubeApi: create / merge-patch / delete,
                                                status through /status
    Revisions ─▶ workloads: a Deployment and a Service owned by each Revision,
                 replicas from the KPA's scales (in the shared Redis)

Every replica of `ripple-controller` watches (its cache stays warm); only the holder of the
Lease reconciles. Children carry their owner's controller reference and Kubernetes' garbage
collector deletes them with their owner: the driver's own collector is off here.

`main(args)` is `ripple operator`; `Operator` is what the tests run against kmock's emulator.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
from typing import Any, Callable

import kopf
import kubernetes

import ripple.api  # noqa: F401  (registers the kinds)
from controllers import leading
from controllers.platforms.kubernetes import api as kube
from controllers.platforms.kubernetes import informing, leases, workloads
from controllers.platforms.local.controller import LocalController
from controllers.reconciling import ObjectRef
from ripple import cancelling, errors, redisclient
from ripple.api import registry

log = logging.getLogger(__name__)

INGRESS_URL = "http://ripple-ingress.ripple-system.svc.cluster.local"
"""The base of every Broker and Channel address: the data plane's Service."""
LEASE_NAME = "ripple-controller"
REPORT_LAG = 0.5
"""Seconds after a report is written before its object is reconciled: the controller reads
the reports every `controller.REPORTS_EVERY` (0.25 s)."""
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
WATCHED_CORE = ("Secret",)
"""Core kinds the reconcilers read (sources' secretKeyRef); ConfigMaps are not watched."""


def watched_kinds() -> list[registry.Kind]:
    return [k for k in registry.kinds() if k.group or k.kind in WATCHED_CORE]


class KubernetesController(LocalController):
    """The local driver, unchanged but for garbage collection, which Kubernetes does."""

    async def _collect(self, uid: str) -> None:
        return None


class Operator:
    """One operator process: its kopf registry, informer, controller and leader task."""

    def __init__(self, configuration: kubernetes.client.Configuration, *,
                 namespaces: list[str] | None = None, base_url: str = INGRESS_URL,
                 lease_namespace: str = "ripple-system", identity: str | None = None,
                 redis_url: str | None = None, lease_ttl: float = 15.0,
                 revision_endpoint: Callable[[str, str], str] = workloads.service_endpoint) -> None:
        self.configuration = configuration
        self.namespaces = list(namespaces or [])
        self.client = kube.KubeApi(configuration)
        self.informer = informing.KopfInformer(watched_kinds())
        self.redis = redisclient.connect(redis_url) if redis_url else None
        self.controller = KubernetesController(self.client, self.informer, base_url=base_url,
                                               reports=self.redis)
        self.workloads = workloads.Workloads(self.client, self.informer, self.redis,
                                             changed=self._report_changed,
                                             endpoint=revision_endpoint)
        self.lease = leases.KubeLease(self.client, lease_namespace, LEASE_NAME,
                                      identity or f"{socket.gethostname()}-{os.getpid()}",
                                      ttl=lease_ttl)
        self.leading = asyncio.Event()
        self.registry = self._build_registry()
        self._task: asyncio.Task[None] | None = None

    def _build_registry(self) -> kopf.OperatorRegistry:
        registry_ = kopf.OperatorRegistry()

        @kopf.on.login(registry=registry_)
        def login(**_: Any) -> kopf.ConnectionInfo:
            return connection_info(self.configuration)

        for kind in watched_kinds():
            kopf.on.event(kind.group, kind.version, kind.plural,
                          registry=registry_)(self._on_event)  # type: ignore[arg-type]

        @kopf.on.startup(registry=registry_)
        async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
            settings.posting.level = logging.WARNING
            self._task = asyncio.get_running_loop().create_task(self.run(), name="ripple-leader")

        @kopf.on.cleanup(registry=registry_)
        async def cleanup(**_: Any) -> None:
            await self.stop()

        @kopf.on.probe(id="leading", registry=registry_)
        def probe(**_: Any) -> bool:
            return self.leading.is_set()

        return registry_

    def _report_changed(self, ref: ObjectRef) -> None:
        """A Revision's report changed: reconcile it once the controller has read it."""
        queue = self.controller.queue
        if queue is not None:
            queue.add_after(ref, REPORT_LAG)

    async def _on_event(self, event: dict[str, Any], type: str | None, **_: Any) -> None:
        # async: kopf runs sync handlers in threads, and the cache belongs to this loop.
        obj = event.get("object")
        if isinstance(obj, dict):
            self.informer.observe(type, dict(obj))

    async def run(self) -> None:
        """Fill the cache, then reconcile whenever this replica holds the Lease."""
        while True:
            try:
                await self.informer.prime(self.client, self.namespaces)
                break
            except Exception as exc:
                log.warning("cannot list the resources yet", extra={"error": str(exc)})
                await asyncio.sleep(1.0)
        await leading.lead(self.lease, self._reconcile)

    async def _reconcile(self) -> None:
        self.leading.set()
        try:
            await asyncio.gather(self.controller.run(), self.workloads.run())
        finally:
            self.leading.clear()

    async def stop(self) -> None:
        if self._task is not None:
            failed = await cancelling.stop(self._task)
            if failed is not None:
                log.error("the operator had failed before it was stopped", exc_info=failed)
        with contextlib.suppress(Exception):
            await self.lease.release()
        if self.redis is not None:
            await self.redis.aclose()
        self.client.close()

    def run_kopf(self, *, stop_flag: Any = None, ready_flag: Any = None,
                 liveness: str | None = None) -> None:
        """kopf's own loop, until `stop_flag` or a signal."""
        settings = kopf.OperatorSettings()
        settings.watching.server_timeout = 300
        settings.persistence.finalizer = "ripple.dev/unused"  # on.event adds no finalizer
        kopf.run(registry=self.registry, settings=settings, standalone=True,
                 clusterwide=not self.namespaces, namespaces=self.namespaces,
                 stop_flag=stop_flag, ready_flag=ready_flag, liveness_endpoint=liveness)


def connection_info(configuration: kubernetes.client.Configuration) -> kopf.ConnectionInfo:
    """kopf's connection, from the kubernetes client's configuration (one source of both)."""
    token = (configuration.api_key or {}).get("authorization") or \
        (configuration.api_key or {}).get("BearerToken")
    if token and token.lower().startswith("bearer "):
        token = token[7:]
    return kopf.ConnectionInfo(
        server=configuration.host, ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl, certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file, token=token or None,
        username=configuration.username or None, password=configuration.password or None)


def load_configuration() -> kubernetes.client.Configuration:
    """In-cluster service account when in a pod, else the kubeconfig (`KUBECONFIG`)."""
    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    except kubernetes.config.ConfigException:
        try:
            kubernetes.config.load_kube_config(client_configuration=configuration)
        except (kubernetes.config.ConfigException, OSError) as exc:
            raise errors.RippleError(f"no Kubernetes configuration: {exc}") from None
    return configuration


def main(args: argparse.Namespace) -> int:
    redis_url = args.redis_url or os.environ.get("RIPPLE_REDIS_URL")
    if not redis_url:  # without it nothing says what the data plane serves: Ready would lie
        raise errors.RippleError("'ripple operator' needs the shared Redis the data plane "
                                 "reports to: --redis-url or RIPPLE_REDIS_URL")
    logging.basicConfig(level=os.environ.get("RIPPLE_LOG_LEVEL", "INFO"))
    lease_namespace = args.lease_namespace
    if lease_namespace is None:
        try:
            with open(SERVICE_ACCOUNT_NAMESPACE) as f:
                lease_namespace = f.read().strip()
        except OSError:
            lease_namespace = "ripple-system"
    operator = Operator(
        load_configuration(),
        namespaces=[] if args.all_namespaces else args.namespace,
        base_url=(args.ingress_url or os.environ.get("RIPPLE_INGRESS_URL") or INGRESS_URL).rstrip("/"),
        lease_namespace=lease_namespace,
        identity=os.environ.get("POD_NAME"),
        redis_url=redis_url,
    )
    port = args.health_port
    operator.run_kopf(liveness=f"http://0.0.0.0:{port}/healthz" if port else None)
    return 0
