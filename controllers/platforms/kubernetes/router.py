"""`ripple router`: the serving router and activator as a Kubernetes Deployment (ripple-router).

The same router as `ripple up`'s (`platforms.local.serving_plane`, built without the
revision runtime): its table follows the Routes' `status.traffic`, read through the API
server (`store.KubeStore`), and it reports the resourceVersion it has applied, as the
data plane does, so a Route is Ready once every router serves it; a Revision's endpoint is its Service, as the operator's
`workloads` report it once a pod is ready; a request for a Revision at zero waits in the
activator; the router's stats go to the shared Redis every second, where the operator's
KPA reads them and writes the Deployment's replicas. It answers `/serving/{ns}/{route}/...`
and the Hosts of Routes, and `/healthz`.

Called by `ripple.cli.kubernetes` (`ripple router`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import Any

import kubernetes
import uvicorn

from controllers.platforms.kubernetes.store import KubeStore
from controllers.platforms.local import platform, serving_plane
from ripple import dataplane, heap, supervising
from ripple.api import registry
from ripple.informers import Informer
from ripple.settings import Settings
from serving import routing


def router_kinds() -> list[registry.Kind]:
    """Every Knative kind, not only serving's: the version a process reports as applied
    (`ripple.dataplane`) must advance with every change the controller waits on, or a
    Broker would wait for the router forever (see dataplane.data_plane_kinds)."""
    return [k for k in registry.kinds() if k.group]


class _Applied:
    """The router's progress for `ripple.dataplane`: its table follows the informer at once
    (a listener), so what the informer has is what the router serves."""

    def __init__(self, informer: Informer) -> None:
        self.informer = informer

    @property
    def synced_version(self) -> int:
        return self.informer.version


def make_app(router: routing.Router) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if router.claims(scope):
            await router(scope, receive, send)
            return
        ok = scope["path"] == "/healthz"
        await send({"type": "http.response.start", "status": 200 if ok else 404,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok" if ok else b"no such route"})
    return app


async def run_router(settings: Settings, configuration: kubernetes.client.Configuration, *,
                     redis_url: str, consumer: str | None = None) -> None:
    client = platform.connect(redis_url)
    store = KubeStore(configuration)
    consumer = consumer or os.environ.get("POD_NAME") or f"{socket.gethostname()}-{os.getpid()}"
    informer = Informer(store, router_kinds())  # type: ignore[arg-type]  # the read half
    servings = serving_plane.build(client, informer, consumer=consumer,
                                   base_url=settings.base_url, runs_revisions=False)
    server = uvicorn.Server(uvicorn.Config(
        make_app(servings.router), host=settings.host, port=settings.port, log_config=None,
        http="httptools", loop="none", lifespan="off", access_log=False,
        timeout_graceful_shutdown=int(platform.DRAIN_TIMEOUT)))
    supervisor = supervising.Supervisor()
    supervisor.spawn("informer", informer.run)
    stopping = asyncio.Event()
    restore = platform._stop_on_signals(stopping)  # see dataplane.run_data_plane
    try:
        waits = [asyncio.ensure_future(informer.synced.wait()),
                 asyncio.ensure_future(stopping.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        if stopping.is_set():
            return
        for name, task in servings.tasks.items():
            supervisor.spawn(name, task)
        applied = (_Applied(informer),)
        supervisor.spawn("data-plane-progress",
                         lambda: platform._report_progress(client, consumer, applied))
        heap.settle()  # what start-up loaded stays: out of every later full collection
        supervisor.spawn("server", server.serve, essential=True)
        await supervisor.watch()
    finally:
        restore()
        server.should_exit = True
        await supervisor.stop(platform.STOP_TIMEOUT)
        with contextlib.suppress(Exception):
            await dataplane.remove(client, consumer)
        await servings.router.close()
        await store.close()
        with contextlib.suppress(Exception):
            await client.aclose()
