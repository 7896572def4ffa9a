"""The autoscaler's desired replicas per Revision, handed to the revision runtime via Redis.

The KPA (`controllers.autoscaling`, run by the controller under its lease) decides how
many replicas each Revision wants; the revision runtime (`serving.runtime`, in the data
plane) runs them. Neither may import the other, so the count goes through one Redis hash
(`keys.REVISION_SCALES`, field `namespace/name`): the autoscaler's shell `write`s after
each decision that applies a scale, the runtime's plane (`serving.revisions`) `read`s it
every pass. A Revision with no entry runs at its initial scale (Knative creates the
Deployment at `initial-scale`, default 1), so a Revision is served before the autoscaler
first looks at it. `remove` forgets deleted Revisions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import redis.asyncio as aioredis

from ripple import keys, redisclient

RevisionKey = tuple[str, str]  # (namespace, name)


async def write(client: aioredis.Redis, desired: Mapping[RevisionKey, int], *,
                now: float | None = None) -> None:
    """Set the desired replicas of these Revisions. Raises errors.StoreUnavailable."""
    if not desired:
        return
    at = time.time() if now is None else now
    fields = {f"{ns}/{name}": json.dumps({"desired": int(n), "at": at})
              for (ns, name), n in desired.items()}
    try:
        await client.hset(keys.REVISION_SCALES, mapping=fields)  # type: ignore[arg-type]
    except redisclient.UNAVAILABLE as exc:
        raise redisclient.translate(exc) from exc


class Scale(NamedTuple):
    desired: int
    at: float
    """When the autoscaler decided it (epoch seconds)."""


async def read(client: aioredis.Redis) -> dict[RevisionKey, Scale]:
    """Every Revision's desired replicas. Raises errors.StoreUnavailable."""
    try:
        entries = await client.hgetall(keys.REVISION_SCALES)
    except redisclient.UNAVAILABLE as exc:
        raise redisclient.translate(exc) from exc
    found: dict[RevisionKey, Scale] = {}
    for field, raw in entries.items():
        text = field.decode() if isinstance(field, bytes) else str(field)
        namespace, _, name = text.partition("/")
        try:
            entry = json.loads(raw)
            found[(namespace, name)] = Scale(max(0, int(entry["desired"])), float(entry["at"]))
        except (ValueError, KeyError, TypeError):
            continue  # a malformed entry is no decision
    return found


async def remove(client: aioredis.Redis, revisions: Iterable[RevisionKey]) -> None:
    fields = [f"{ns}/{name}" for ns, name in revisions]
    if not fields:
        return
    try:
        await client.hdel(keys.REVISION_SCALES, *fields)
    except redisclient.UNAVAILABLE as exc:
        raise redisclient.translate(exc) from exc
