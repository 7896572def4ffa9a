"""What a Trigger's, Subscription's or source's delivery looks like from the store.

Serves the operations API (`controllers.platforms.local.operations`), which `ripple
describe`, `ripple get triggers -o wide` and the console read. Nothing here is on the
delivery path: every figure is read from Redis when asked, for many targets in one
pipeline (one round trip), so the engine pays nothing for it.

    backlog        entries not yet read by the delivery group (XINFO GROUPS `lag`)
    in_flight      entries read and not yet acknowledged, by any worker (the group's PEL)
    retries        entries waiting on the retry schedule: acknowledged yet still in the
                   stream, which only a scheduled retry is (XLEN - pending - lag); when Redis
                   cannot give the lag (a deletion it cannot account for), counted on the
                   schedule (ZSCAN) and the backlog is what remains
    dead_letters   entries in Ripple's dead-letter store now (XLEN), and ever (the counter
                   the engine increments with each one, in its failures hash)
    last_error     the target's field of its failures hash, written by the engine on failure
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import redis.asyncio as aioredis
import redis.exceptions

from ripple import keys, redisclient

from channels import deadletters
from channels.locations import Location


@dataclass(frozen=True)
class Stats:
    backlog: int
    in_flight: int
    retries: int
    dead_letters: int
    dead_lettered_total: int
    last_error: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        return {"backlog": out["backlog"], "inFlight": out["in_flight"], "retries": out["retries"],
                "deadLetters": out["dead_letters"], "deadLetteredTotal": out["dead_lettered_total"],
                "lastError": out["last_error"]}


def combine(length: int, group: dict[str, Any] | None, retries_scanned: int | None,
            dead_letters: int, total: int | None, last_error: bytes | None) -> Stats:
    """The figures, from what Redis answered (pure)."""
    pending = int((group or {}).get("pending") or 0)
    lag = (group or {}).get("lag")
    if group is None:  # no group yet: nothing was read
        backlog, retries = length, 0
    elif lag is not None:
        backlog = int(lag)
        retries = max(0, length - pending - backlog)
    else:
        retries = retries_scanned or 0
        backlog = max(0, length - pending - retries)
    error = json.loads(last_error) if last_error else None
    return Stats(backlog, pending, retries, dead_letters, max(total or 0, dead_letters), error)


async def read(client: aioredis.Redis, locations: Sequence[Location]) -> list[Stats]:
    """The stats of each location, in one pipeline (plus a schedule scan when a lag is
    unknown). Raises `errors.StoreUnavailable` when Redis cannot answer."""
    try:
        async with client.pipeline(transaction=False) as pipe:
            for where in locations:
                pipe.xlen(where.stream)
                pipe.xinfo_groups(where.stream)
                pipe.xlen(where.dead_letters)
                pipe.hmget(where.failures, [where.key.name, deadletters.total_field(where.key.name)])
            answers = await pipe.execute(raise_on_error=False)
        out = []
        for i, where in enumerate(locations):
            length, groups, dead, (error, total) = answers[i * 4:i * 4 + 4]
            group = _group(groups)
            scanned = None
            if group is not None and group.get("lag") is None:
                scanned = await _scheduled(client, where)
            out.append(combine(_int(length), group, scanned, _int(dead),
                               int(total) if total is not None else None,
                               error if isinstance(error, bytes) else None))
        return out
    except redisclient.UNAVAILABLE as exc:
        raise redisclient.translate(exc) from exc


def _int(answer: object) -> int:
    return int(answer) if isinstance(answer, int) else 0


def _group(groups: object) -> dict[str, Any] | None:
    """The delivery group's XINFO entry; None when the stream or the group is missing."""
    if isinstance(groups, redis.exceptions.ResponseError) or not isinstance(groups, list):
        return None
    for group in groups:
        name = group.get("name")
        if (name.decode() if isinstance(name, bytes) else name) == keys.DELIVERY_GROUP:
            return dict(group)
    return None


async def _scheduled(client: aioredis.Redis, where: Location) -> int:
    count = 0
    async for _ in client.zscan_iter(where.schedule, match=where.stream + "|*", count=1000):
        count += 1
    return count
