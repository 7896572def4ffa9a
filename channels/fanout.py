"""The fan-out: read a log once and copy every event into the queue of every consumer
that wants it: the Triggers of a broker whose filters it passes, or the Subscriptions of a
channel.

One `Fanout` task per log per process; the processes share the log through the `fanout`
consumer group. `match(attributes)` names the queues an event goes to (the broker passes
its `FilterIndex.match`, so the cost of an event grows with the triggers it matches, not
with the triggers that exist). A batch is written with one MULTI/EXEC that XADDs the copies
and XACKs the batch: a process killed before EXEC leaves the batch pending for XAUTOCLAIM,
never half fanned out. The log is trimmed behind the slowest pending entry, keeping a few
seconds for `ripple event tail`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Callable

import redis.asyncio as aioredis
import redis.exceptions

from ripple import keys

from channels.queues import STORE_ERRORS

log = logging.getLogger(__name__)

GROUP = keys.FANOUT_GROUP
TAIL_RETENTION_MS = 5_000
RECLAIM_IDLE_MS = 30_000


class Fanout:
    def __init__(
        self,
        client: aioredis.Redis,
        log_stream: str,
        match: Callable[[dict[str, object]], list[str]],
        queue_of: Callable[[str], str],
        *,
        consumer: str,
        on_length: Callable[[str, int], None] = lambda _s, _n: None,
        batch: int = 512,
    ) -> None:
        self.redis, self.log_stream, self.match, self.queue_of = client, log_stream, match, queue_of
        self.consumer, self.on_length, self.batch = consumer, on_length, batch
        self.stopped = False  # see channels.dispatching: redis-py may turn a cancel into an error

    async def run(self) -> None:
        await self._ensure_group()
        await self._fan_out(await self._read("0"))  # what this consumer held before a restart
        next_chores = 0.0
        while not self.stopped:
            try:
                await self._fan_out(await self._read(">", block_ms=1000))
                if time.monotonic() >= next_chores:
                    next_chores = time.monotonic() + 1.0
                    await self._reclaim()
                    await self._trim()
            except STORE_ERRORS as exc:
                if self.stopped:
                    return
                log.warning("fan-out lost the store; retrying", extra={"log": self.log_stream, "error": str(exc)})
                await asyncio.sleep(1.0)

    async def _ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.log_stream, GROUP, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _read(self, position: str, block_ms: int | None = None) -> list[tuple[bytes, dict | None]]:
        reply = await self.redis.xreadgroup(
            GROUP, self.consumer, {self.log_stream: position}, count=self.batch, block=block_ms)
        return [(i, f) for _, entries in reply or () for i, f in entries]

    async def _reclaim(self) -> None:
        reply = await self.redis.xautoclaim(
            self.log_stream, GROUP, self.consumer, min_idle_time=RECLAIM_IDLE_MS, count=self.batch)
        if len(reply) > 1 and reply[1]:
            await self._fan_out(list(reply[1]))

    async def _fan_out(self, entries: list[tuple[bytes, dict | None]]) -> None:
        if not entries:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for _, fields in entries:
                if not fields:
                    continue
                attributes = json.loads(fields[b"a"])
                for name in self.match(attributes):
                    pipe.xadd(self.queue_of(name), fields)
            pipe.xack(self.log_stream, GROUP, *(entry_id for entry_id, _ in entries))
            await pipe.execute()

    async def _trim(self) -> None:
        """Trim entries every group has acknowledged, but keep the tail window."""
        groups = await self.redis.xinfo_groups(self.log_stream)
        keep_from = f"{int(time.time() * 1000) - TAIL_RETENTION_MS}-0"
        for group in groups:
            if group["name"] in (GROUP, GROUP.encode()):
                pending = await self.redis.xpending(self.log_stream, GROUP)
                if pending["pending"]:
                    keep_from = min(keep_from, _decode(pending["min"]), key=_id_order)
                else:
                    keep_from = min(keep_from, _after(_decode(group["last-delivered-id"])), key=_id_order)
        await self.redis.xtrim(self.log_stream, minid=keep_from, approximate=False)
        self.on_length(self.log_stream, int(await self.redis.xlen(self.log_stream)))


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id_order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _after(entry_id: str) -> str:
    ms, seq = _id_order(entry_id)
    return f"{ms}-{seq + 1}"
