"""How far each data-plane process has applied the resources: the control plane's proof
that an object is served before it reports it Ready.

Every process (`ripple up` worker, or a data-plane pod on Kubernetes) writes, after its
planes synced, the resourceVersion its informer had applied when they did, into one hash
field per process (`keys.DATA_PLANE_SYNCED`), with the time. It rewrites it every
`HEARTBEAT` seconds, and removes it on a clean stop. The controller reads the hash: the
smallest version among processes heard from within `TTL` is what "every data-plane
process has seen" means (`controllers.reconciling.DataPlane.synced`). A process killed
with SIGKILL is forgotten after `TTL`.

Called by the composition root (`controllers.platforms.local.platform`) and the drivers.
"""

from __future__ import annotations

import json
import time

import redis.asyncio as aioredis

from ripple import keys, redisclient

HEARTBEAT = 2.0
TTL = 10.0


async def write(client: aioredis.Redis, process: str, version: int, *,
                now: float | None = None) -> None:
    at = time.time() if now is None else now
    try:
        await client.hset(keys.DATA_PLANE_SYNCED, process,
                          json.dumps({"version": version, "at": at}))
    except redisclient.UNAVAILABLE as exc:
        raise redisclient.translate(exc) from exc


async def remove(client: aioredis.Redis, process: str) -> None:
    try:
        await client.hdel(keys.DATA_PLANE_SYNCED, process)
    except redisclient.UNAVAILABLE as exc:
        raise redisclient.translate(exc) from exc


def synced(entries: dict[bytes | str, bytes | str], now: float) -> int | None:
    """The version every live process has applied (None: no process is live). Pure."""
    versions = []
    for raw in entries.values():
        try:
            entry = json.loads(raw)
            if now - float(entry["at"]) <= TTL:
                versions.append(int(entry["version"]))
        except (ValueError, KeyError, TypeError):
            continue  # a malformed field is no proof
    return min(versions) if versions else None


async def read(client: aioredis.Redis, *, now: float | None = None) -> int | None:
    try:
        entries = await client.hgetall(keys.DATA_PLANE_SYNCED)
    except redisclient.UNAVAILABLE as exc:
        raise redisclient.translate(exc) from exc
    return synced(entries, time.time() if now is None else now)
