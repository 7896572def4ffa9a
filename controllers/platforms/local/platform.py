"""One worker process of the local platform: API, data plane and (under a lease) the
reconcilers, all on one event loop and one port.

Called by `ripple.cli.up`, once per worker process. Every root task is named and guarded;
SIGTERM makes uvicorn stop accepting, then in-flight deliveries get `drain_timeout`
seconds to finish before the rest is cancelled. Whatever is cut short is still pending
in Redis and is redelivered by the next process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from pathlib import Path
from typing import Any, Sequence

import redis.asyncio as aioredis
import uvicorn

from ripple import dataplane, redisclient
from ripple import store as stores
from ripple.api import registry
from ripple.informers import Informer
from ripple.settings import Settings

from broker.plane import BrokerPlane
from broker.tailing import Tail
from channels.appending import Appender
from channels.deliveries import Deliveries
from channels.ingress import Ingress
from channels.plane import ChannelPlane
from channels.queues import Queues
from channels.sending import AiohttpSender
from controllers.platforms.local import apiserver, routing
from controllers.platforms.local.manifests import apply_manifests
from sources.plane import SourcePlane
from sources.publishing import Publisher
from sources.webhooks.receiver import WebhookReceiver
from controllers.platforms.local.controller import LocalController
from ripple.leases import Lease

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 10.0
PROGRESS_POLL = 0.02
"""Seconds between checks whether the planes applied newer resources (no I/O unless so)."""
MAX_CONNECTIONS = 8000


def connect(url: str) -> aioredis.Redis:
    # Every queue's dispatcher holds a connection in a blocking XREADGROUP (under 2 s, well
    # inside the socket timeout), so the pool is sized for thousands of queues; redis-py
    # would otherwise cap it at 100. Valkey's maxclients is 10000.
    return redisclient.connect(url, max_connections=MAX_CONNECTIONS, health_check_interval=30,
                               socket_timeout=10, socket_keepalive=True, retry_on_timeout=False)


async def run_worker(
    settings: Settings,
    *,
    redis_url: str,
    worker_index: int = 0,
    sock: socket.socket | None = None,
    manifests: Sequence[Path] = (),
) -> None:
    client = connect(redis_url)
    store = stores.RedisResourceStore(client)
    consumer = f"{socket.gethostname()}-{worker_index}"
    informer = Informer(store, registry.kinds())
    appender = Appender(client, max_backlog=settings.ingress.max_backlog,
                        retry_after=settings.ingress.retry_after,
                        write_timeout=settings.ingress.write_timeout)
    sender = AiohttpSender()
    deliveries = Deliveries(Queues(client), sender, consumer=consumer, settings=settings.delivery)
    plane = BrokerPlane(client, informer, appender, deliveries, settings, consumer=consumer)
    informer.subscribe(plane.kick)
    channel_plane = ChannelPlane(client, informer, deliveries, sender, settings, consumer=consumer,
                                 on_length=appender.note_length)
    informer.subscribe(channel_plane.sync)
    source_plane = SourcePlane(client, informer, deliveries, sender, settings, consumer=consumer)
    informer.subscribe(source_plane.sync)
    controller = LocalController(store, informer, base_url=settings.base_url, reports=client)

    if worker_index == 0 and manifests:
        await apply_manifests(store, manifests)

    root = routing.make_root(
        api=apiserver.make_api(store),
        ingress=Ingress(plane.resolve, appender, settings.ingress, prepare=plane.prepare),
        tail=Tail(client, plane.resolve),
        channels=Ingress(channel_plane.resolve, appender, settings.ingress, kind="channel",
                         prefix="/channels"),
        webhooks=WebhookReceiver(source_plane.hook, Publisher(client), settings.ingress),
    )
    config = uvicorn.Config(
        root, host=settings.host, port=settings.port, fd=None, log_config=None,
        http="httptools", loop="none", lifespan="off", access_log=False,
        proxy_headers=False, server_header=False,  # nothing reads the client address; one header less per answer
        timeout_graceful_shutdown=int(DRAIN_TIMEOUT), backlog=4096,
    )
    server = uvicorn.Server(config)
    lease = Lease(client, "controller", consumer)
    tasks = [
        asyncio.create_task(informer.run(), name="informer"),
        asyncio.create_task(_lead(lease, controller), name="controller"),
    ]
    await informer.synced.wait()
    plane.sync()  # before serving: no 404s for brokers or channels that exist
    channel_plane.sync()
    source_plane.sync()
    tasks.append(asyncio.create_task(
        _report_progress(client, consumer, (plane, channel_plane, source_plane)),
        name="data-plane-progress"))
    try:
        await server.serve(sockets=[sock] if sock is not None else None)
    finally:
        await deliveries.close(drain_timeout=DRAIN_TIMEOUT)
        await plane.close()
        await channel_plane.close()
        await source_plane.close()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await lease.release()
        with contextlib.suppress(Exception):
            await dataplane.remove(client, consumer)
        await sender.close()
        await client.aclose()


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
            except Exception as exc:  # the store is down: the next round tries again
                log.warning("data plane progress not written", extra={"error": str(exc)})
                await asyncio.sleep(1.0)
        await asyncio.sleep(PROGRESS_POLL)


async def _lead(lease: Lease, controller: LocalController) -> None:
    """Run the reconcilers while this process holds the lease; contend again when lost."""
    while True:
        await lease.acquire()
        work = asyncio.create_task(controller.run(), name="reconcilers")
        await lease.keep()
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await work
        log.warning("controller lease lost; contending again")
