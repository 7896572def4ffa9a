"""`ripple data-plane`: the eventing data plane as a Kubernetes Deployment (ripple-data-plane).

The same planes as one worker of `ripple up`, assembled by the same `platforms.local.planes`: the
broker ingress and fan-out, the channel ingress and dispatchers, the sources (ping, the
webhook receivers, Kafka) and their deliveries, on one port behind the Service
`ripple-ingress`. What differs: the informer lists and watches the API server
(`store.KubeStore`), there is no control API (the cluster's is), no controller (the
operator's), and no revision runtime (Revisions are Deployments). Every replica reports the
resourceVersion its planes have applied into the shared Redis (`ripple.dataplane`), so the
operator marks a Broker Ready only once every replica routes it.

Called by `ripple.cli.kubernetes` (`ripple data-plane`). SIGTERM stops accepting and
drains in-flight deliveries as `ripple up` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any

import kubernetes
import uvicorn

from broker.tailing import Tail
from controllers.platforms.kubernetes.store import KubeStore
from controllers.platforms.local import platform, routing, shutdown
from controllers.platforms.local.planes import assemble
from ripple import dataplane, errors, heap, supervising
from ripple.api import registry
from ripple.informers import Informer
from ripple.settings import Settings
from sources.publishing import Publisher
from sources.webhooks.receiver import WebhookReceiver

log = logging.getLogger(__name__)

def data_plane_kinds() -> list[registry.Kind]:
    """Every Knative kind and Secrets (sources' secretKeyRef). Serving's too, although no
    plane here serves them: each process reports the highest resourceVersion it has applied
    (`ripple.dataplane`), and the controller waits for the lowest report of all processes,
    data plane and routers alike, so every process must see every change it gates on.
    (Watches of different kinds are not ordered with each other, so a report can run a
    few milliseconds ahead of an event still in flight on another kind's watch.)"""
    return [k for k in registry.kinds() if k.group or k.kind == "Secret"]


async def _health(scope: Any, receive: Any, send: Any) -> None:
    """No control API here: `/healthz` answers, the rest of it is the cluster's."""
    ok = scope["path"] == "/healthz"
    await send({"type": "http.response.start", "status": 200 if ok else 404,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok" if ok else b"not here"})


async def run_data_plane(settings: Settings, configuration: kubernetes.client.Configuration, *,
                         redis_url: str, consumer: str | None = None) -> None:
    client = platform.connect(redis_url)
    store = KubeStore(configuration)
    consumer = consumer or os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"
    informer = Informer(store, data_plane_kinds())  # type: ignore[arg-type]  # read half
    planes = assemble(client, informer, settings, consumer=consumer)
    # No control API here (the cluster's is): no token opens its paths, /tail included.
    stopping = asyncio.Event()
    root = shutdown.ending_streams(routing.make_root(
        api=_health,
        ingress=planes.broker_ingress,
        tail=Tail(client, planes.brokers.resolve, channels=planes.channels.resolve),
        channels=planes.channel_ingress,
        webhooks=WebhookReceiver(planes.sources.hook, Publisher(client), settings.ingress),
    ), stopping)
    server = shutdown.Server(uvicorn.Config(
        root, host=settings.host, port=settings.port, log_config=None, http=planes.protocol(),
        loop="none", lifespan="off", access_log=False, proxy_headers=False,
        server_header=False, timeout_graceful_shutdown=int(platform.DRAIN_TIMEOUT)), stopping)
    supervisor = supervising.Supervisor()
    supervisor.spawn("informer", informer.run)
    # Until uvicorn serves, SIGTERM must end the wait below; after, uvicorn raises the signal
    # again once it has drained, and this handler (not the default) receives it: exit 0.
    restore = platform._stop_on_signals(stopping)
    try:
        waits = [asyncio.ensure_future(informer.synced.wait()),
                 asyncio.ensure_future(stopping.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        if stopping.is_set():
            return
        planes.sync()
        supervisor.spawn("data-plane-progress",
                         lambda: platform._report_progress(client, consumer, planes.applied))
        heap.settle()  # what start-up loaded stays: out of every later full collection
        supervisor.spawn("server", server.serve, essential=True)
        await supervisor.watch()
    finally:
        restore()
        server.should_exit = True
        stopping.set()
        serving = supervisor.tasks.get("server")
        if serving is not None and not serving.done():
            await asyncio.wait([serving], timeout=platform.DRAIN_TIMEOUT + platform.STOP_TIMEOUT)
        await supervisor.stop(platform.STOP_TIMEOUT)
        with contextlib.suppress(errors.StoreUnavailable):
            await dataplane.remove(client, consumer)
        await planes.close(drain_timeout=platform.DRAIN_TIMEOUT)
        await store.close()
        await client.aclose()
