"""One worker process of the local platform: API, data plane and (under a lease) the
reconcilers, all on one event loop and one port.

Called by `ripple.cli.up`, once per worker process. The root tasks run under a
`ripple.supervising.Supervisor`:

    informer   list + watch of the store         restarted with backoff if it ends
    leader     `_lead`: the reconcilers, only    restarted with backoff if it ends
               while this worker holds the lease
    server     uvicorn: API and data plane       essential: its end ends the worker
               (the ingresses' POSTs on `channels.fastpath`, the rest through ASGI)

SIGTERM makes uvicorn stop accepting and ends the streams (watches, tails: `shutdown`) that
only a client's hang-up would end; the informer and the leader are stopped (the lease
released), then in-flight deliveries get `DRAIN_TIMEOUT` seconds to finish before the rest
is cancelled. Whatever is cut short is still pending in Redis and is redelivered by the
next process. If the server crashes, the worker stops the same way and `run_worker` raises
`supervising.TaskFailed`: `ripple up` exits 1, or restarts the child worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import redis.asyncio as aioredis
import uvicorn

from ripple import dataplane, errors, heap, redisclient, supervising
from ripple import store as stores
from ripple.api import registry
from ripple.informers import Informer
from ripple.settings import Settings

from broker.tailing import Tail
from channels.sending import trusting
from controllers.platforms.local import (apiserver, console, delivery_rates, event_operations,
                                         operations, routing, serving_plane, shutdown)
from controllers.platforms.local.manifests import apply_manifests
from controllers.platforms.local.planes import assemble
from sources.publishing import Publisher
from sources.webhooks.receiver import WebhookReceiver
from controllers.platforms.local.controller import LocalController
from controllers.leading import lead as _lead
from ripple.leases import Lease

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
PROGRESS_POLL = 0.02
"""Seconds between checks whether the planes applied newer resources (no I/O unless so)."""
MAX_CONNECTIONS = 8000


def connect(url: str) -> aioredis.Redis:
    # Every busy queue's dispatcher holds a connection in a blocking XREADGROUP (under 2 s,
    # well inside the socket timeout; idle queues share one read per slot, `channels.
    # idling`), so the pool is sized for thousands of busy queues; redis-py would otherwise
    # cap it at 100. Valkey's maxclients is 10000.
    return redisclient.connect(url, max_connections=MAX_CONNECTIONS, health_check_interval=30,
                               socket_timeout=10, socket_keepalive=True, retry_on_timeout=False)


async def run_worker(
    settings: Settings,
    *,
    redis_url: str,
    worker_index: int = 0,
    sock: socket.socket | None = None,
    api_sock: socket.socket | None = None,
    manifests: Sequence[Path] = (),
    keep_existing: bool = False,
    on_serving: Callable[[], None] | None = None,
) -> None:
    """One worker until SIGTERM/SIGINT; `on_serving` is called when it starts serving (after
    the manifests are applied and the informer has synced)."""
    stopping = asyncio.Event()
    restore = _stop_on_signals(stopping)  # until uvicorn serves, SIGTERM must stop the waits below
    try:
        await _run_worker(settings, redis_url=redis_url, worker_index=worker_index, sock=sock,
                          api_sock=api_sock, manifests=manifests, keep_existing=keep_existing, stopping=stopping,
                          on_serving=on_serving)
    finally:
        restore()


async def _run_worker(
    settings: Settings,
    *,
    redis_url: str,
    worker_index: int,
    sock: socket.socket | None,
    api_sock: socket.socket | None,
    manifests: Sequence[Path],
    keep_existing: bool,
    stopping: asyncio.Event,
    on_serving: Callable[[], None] | None,
) -> None:
    client = connect(redis_url)
    store = stores.RedisResourceStore(client)
    consumer = f"{socket.gethostname()}-{worker_index}"
    log.debug("worker starting", extra={"worker": worker_index, "consumer": consumer, "pid": os.getpid()})
    informer = Informer(store, registry.kinds())
    # With --tls-cert the mesh's own addresses are https: its deliveries must trust them.
    tls = settings.tls
    trust = trusting(str(tls.cert_file)) if tls.cert_file else None
    planes = assemble(client, informer, settings, consumer=consumer, trust=trust)
    controller = LocalController(store, informer, base_url=settings.base_url, reports=client)
    servings = serving_plane.build(client, informer, consumer=consumer, base_url=settings.base_url,
                                  runs_revisions=worker_index == 0, trust=trust)

    if not await _migrate_store(client, stopping):
        await client.aclose()
        return
    if worker_index == 0 and manifests:
        applying = asyncio.ensure_future(apply_manifests(store, manifests, keep_existing=keep_existing))
        stop = asyncio.ensure_future(stopping.wait())
        await asyncio.wait([applying, stop], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not applying.done():  # a signal while the store does not answer
            applying.cancel()
            await asyncio.gather(applying, return_exceptions=True)
            await client.aclose()
            return
        applying.result()

    several = settings.workers > 1 or worker_index > 0  # a child worker is not told how many
    totals = delivery_rates.Publisher(client, consumer) if several else None
    ops = operations.Operations(client, store, settings.dead_letters, cache=informer.list,
                                generation=lambda: informer.generation,
                                mesh=delivery_rates.Mesh(client) if totals is not None else None)
    served = operations.router(ops)
    served.include_router(event_operations.router(store, client))
    api_port = settings.api.port if settings.api_separate else None
    root = shutdown.ending_streams(routing.make_root(
        api=apiserver.make_api(store, operations=served, console=console.app(ops)),
        ingress=planes.broker_ingress,
        tail=Tail(client, planes.brokers.resolve, channels=planes.channels.resolve),
        channels=planes.channel_ingress,
        webhooks=WebhookReceiver(planes.sources.hook, Publisher(client), settings.ingress),
        router=servings.router,
        token=settings.api.token, insecure=settings.api.insecure,
        api_port=api_port,
    ), stopping)
    protocol = planes.protocol(router=servings.router, api_port=api_port)
    sockets = [s for s in (sock, api_sock) if s is not None] or None
    config = uvicorn.Config(
        root, host=settings.host, port=settings.port, fd=None, log_config=None,
        ssl_certfile=str(tls.cert_file) if tls.cert_file else None,
        ssl_keyfile=str(tls.key_file) if tls.key_file else None,
        http=protocol, loop="none", lifespan="off", access_log=False,
        proxy_headers=False, server_header=False,  # nothing reads the client address; one header less per answer
        timeout_graceful_shutdown=int(DRAIN_TIMEOUT), backlog=4096,
    )
    server = shutdown.Server(config, stopping)  # a signal sets `stopping`: watches and tails end
    lease = Lease(client, "controller", consumer)
    supervisor = supervising.Supervisor()
    supervisor.spawn("informer", informer.run)
    supervisor.spawn("leader", lambda: _lead(lease, controller.run))
    try:
        waits = [asyncio.ensure_future(informer.synced.wait()), asyncio.ensure_future(stopping.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        if not stopping.is_set():
            planes.sync()
            supervisor.spawn("data-plane-progress", lambda: _report_progress(client, consumer, planes.applied))
            if totals is not None:
                supervisor.spawn("delivery-totals", totals.run)
            for name, task in servings.tasks.items():
                supervisor.spawn(name, task)
            heap.settle()  # what start-up loaded stays: out of every later full collection
            supervisor.spawn("server", lambda: server.serve(sockets=sockets),
                             essential=True)
            if on_serving is not None:
                on_serving()
            await supervisor.watch()  # the server ended (SIGTERM); raises if an essential task died
    finally:
        server.should_exit = True  # stop accepting, when it was another task that died
        stopping.set()
        serving = supervisor.tasks.get("server")
        if serving is not None and not serving.done():
            await asyncio.wait([serving], timeout=DRAIN_TIMEOUT + STOP_TIMEOUT)
        # The informer and the leader go first: nothing starts a dispatcher during the drain,
        # and the lease is free for another worker while this one drains.
        await supervisor.stop(STOP_TIMEOUT)
        with contextlib.suppress(errors.StoreUnavailable):
            await dataplane.remove(client, consumer)  # not a process the control plane waits for
        with contextlib.suppress(errors.StoreUnavailable):
            await lease.release()
        await planes.close(drain_timeout=DRAIN_TIMEOUT)
        await servings.router.close()
        await client.aclose()


async def _migrate_store(client: aioredis.Redis, stopping: asyncio.Event) -> bool:
    """Give an earlier Ripple's resource store today's keys (`ripple.store.migrate`) before
    anything reads it, trying again while the store does not answer; False if stopped first."""
    while not stopping.is_set():
        try:
            await stores.migrate(client)
            return True
        except errors.StoreUnavailable as exc:
            log.warning("resource store not checked for old keys yet; retrying", extra={"error": str(exc)})
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), 1.0)
    return False


async def _report_progress(client: aioredis.Redis, consumer: str, planes: Sequence[Any]) -> None:
    """Tell the control plane how far this process's planes have applied the resources
    (`ripple.dataplane`): at once when they move on, and as a heartbeat."""
    reported, at = -1, 0.0
    while True:
        version = min(p.synced_version for p in planes)
        now = time.monotonic()
        if version != reported or now - at >= dataplane.HEARTBEAT:
            try:
                await dataplane.write(client, consumer, version)
                reported, at = version, now
            except errors.StoreUnavailable as exc:  # the next round tries again
                log.warning("data plane progress not written", extra={"error": str(exc)})
                await asyncio.sleep(1.0)
        await asyncio.sleep(PROGRESS_POLL)


def _stop_on_signals(stopping: asyncio.Event) -> Callable[[], None]:
    """Make SIGTERM/SIGINT set `stopping` (uvicorn takes them over while it serves, and
    gives them back after); returns the function that restores the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous = {s: signal.signal(s, lambda *_: loop.call_soon_threadsafe(stopping.set))
                for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return restore
