"""Per-object reports from the data plane to the controller, through Redis.

Some conditions only a data-plane process knows: whether a source's consumer is connected
(`sources`), whether a Revision's replicas run and pass their probe (`serving.runtime`).
The data plane never writes status, so each process writes a small report per object into
a Redis hash (`keys.source_report`, one field per process, refreshed every `INTERVAL`
seconds, expiring after `TTL`), and the local controller reads the reports before each
reconcile pass and hands them to the pure reconcilers (`ctx.data_plane.reports`).

In the kernel so that both `sources` and `serving` write through it (neither may import
the other); `sources.reporting` re-exports it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis

from ripple import keys, redisclient

INTERVAL = 2.0
TTL = 15.0
"""A report older than this is ignored: its process is gone, or stuck."""

Report = dict[str, Any]
SourceKey = tuple[str, str, str]  # (kind, namespace, name)


async def write(client: aioredis.Redis, consumer: str, reports: Mapping[SourceKey, Report],
                *, now: float | None = None) -> None:
    """One process's reports, one pipeline; each stamped with `at` (epoch seconds).
    Raises errors.StoreUnavailable when the store cannot take them."""
    if not reports:
        return
    at = time.time() if now is None else now
    async with client.pipeline(transaction=False) as pipe:
        for (kind, namespace, name), report in reports.items():
            key = keys.source_report(kind, namespace, name)
            pipe.hset(key, consumer, json.dumps({**report, "at": at}))
            pipe.pexpire(key, int(TTL * 1000))
        try:
            await pipe.execute()
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc


async def read(client: aioredis.Redis, sources: Sequence[SourceKey], *,
               now: float | None = None) -> dict[SourceKey, list[Report]]:
    """The fresh reports of every process about each object. Raises
    errors.StoreUnavailable when the store cannot answer."""
    if not sources:
        return {}
    at = time.time() if now is None else now
    async with client.pipeline(transaction=False) as pipe:
        for kind, namespace, name in sources:
            pipe.hgetall(keys.source_report(kind, namespace, name))
        try:
            replies = await pipe.execute()
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
    found: dict[SourceKey, list[Report]] = {}
    for source, fields in zip(sources, replies):
        reports = [json.loads(v) for v in (fields or {}).values()]
        found[source] = [r for r in reports if at - float(r.get("at", 0)) <= TTL]
    return found
