"""The fan-out: read a log once and copy every event into the queue of every consumer
that wants it: the Triggers of a broker whose filters it passes, or the Subscriptions of a
channel.

One `Fanout` task per log per process; the processes share the log through the `fanout`
consumer group. `match(attributes)` names the queues an event goes to (the broker passes
its `FilterIndex.match`, so the cost of an event grows with the triggers it matches, not
with the triggers that exist). Matching reads only `type` and `source` for the usual
exact and prefix triggers (`records.RecordAttributes`): the attributes' JSON is parsed only
when a filter needs more. A batch is written with one Lua script that copies each
matched entry from the log into its queues (XRANGE + XADD inside Valkey: the event's bytes
do not travel back, and there is one reply to parse instead of one per copy) and XACKs the
batch, atomically: a process killed before the script ran leaves the batch pending for
XAUTOCLAIM, never half fanned out. After a restart, and after any store error, the fan-out
first re-reads the entries its consumer name still holds (`XREADGROUP ... 0`, paged): a
read whose reply was lost, or a script that never ran, leaves a batch pending under this
consumer, and it would otherwise wait for XAUTOCLAIM. The log is trimmed behind the
slowest pending entry, keeping the log's retention window for `ripple event replay` (a
few seconds for `ripple event tail` at least; `channels.retention`).

A broker's ingress copies each event to its Triggers' queues itself (`channels.appending`,
"routed") and moves the group past what it appended: for a broker's log the fan-out is
left with the trim and with the entries written unrouted (before an upgrade, or by a
process that had no route for the log yet), which it copies as before. A routed entry it
does read (one appended while unrouted ones were still unread) it acknowledges uncopied.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, Mapping, cast

import redis.asyncio as aioredis
import redis.exceptions

from ripple import errors, keys, redisclient
from ripple.cloudevents import records

from channels import retention, tracing
from channels.queues import Entry, StreamReply

log = logging.getLogger(__name__)

GROUP = keys.FANOUT_GROUP
RECLAIM_IDLE_MS = 30_000

# KEYS[1]: the log; KEYS[2..]: the queues this batch copies to. ARGV[1]: the group; ARGV[2]:
# n, then the n entry ids to acknowledge; then, per entry that matched: its id, m, and the
# KEYS indexes of its m queues. Copies go in log order, so each queue keeps the log's order.
_FAN_OUT = """
local log, group, n = KEYS[1], ARGV[1], tonumber(ARGV[2])
local i = n + 3
while i <= #ARGV do
  local m = tonumber(ARGV[i + 1])
  local entries = redis.call('XRANGE', log, ARGV[i], ARGV[i])
  if #entries > 0 then
    local fields = entries[1][2]
    for j = i + 2, i + 1 + m do
      redis.call('XADD', KEYS[tonumber(ARGV[j])], '*', unpack(fields))
    end
  end
  i = i + 2 + m
end
for first = 3, n + 2, 500 do
  redis.call('XACK', log, group, unpack(ARGV, first, math.min(first + 499, n + 2)))
end
return n
"""


class Fanout:
    def __init__(
        self,
        client: aioredis.Redis,
        log_stream: str,
        match: Callable[[Mapping[str, object]], list[str]],
        queue_of: Callable[[str], str],
        *,
        consumer: str,
        on_length: Callable[[str, int], None] = lambda _s, _n: None,
        batch: int = 512,
        retention_s: float = 0.0,
        max_retained: int = 100_000,
        tracer: tracing.Tracer = tracing.OFF,
    ) -> None:
        self.redis, self.log_stream, self.match, self.queue_of = client, log_stream, match, queue_of
        self.consumer, self.on_length, self.batch = consumer, on_length, batch
        self._copy = client.register_script(_FAN_OUT)
        self.retention, self.max_retained, self.tracer = retention_s, max_retained, tracer
        """Seconds and entries kept behind the fan-out for replay; the owner may change them."""
        self.stopped = False  # see channels.dispatching: redis-py may turn a cancel into an error
        self._own_from: bytes | str | None = "0"
        """Where the re-read of this consumer's pending entries stands; None: read new ones."""

    async def run(self) -> None:
        await self._ensure_group()
        self._own_from = "0"  # what this consumer held before a restart
        next_chores = 0.0
        while not self.stopped:
            try:
                chores = time.monotonic() >= next_chores
                if chores:
                    next_chores = time.monotonic() + 1.0
                await self._round(chores)
            except errors.StoreUnavailable as exc:
                if self.stopped:
                    return
                self._own_from = "0"  # a lost reply may have left a batch pending under our name
                log.warning("fan-out lost the store; retrying", extra={"log": self.log_stream, "error": str(exc)})
                await asyncio.sleep(1.0)

    async def _round(self, chores: bool) -> None:
        """One read and its copies, then (when `chores`) the reclaim and the trim: every
        Redis call of the fan-out, with redis-py's errors translated once, here."""
        try:
            await self._fan_out(await self._next())
            if chores:
                await self._reclaim()
                await self._trim()
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc

    async def _next(self) -> list[Entry]:
        if self._own_from is None:
            return await self._read(">", block_ms=1000)
        entries = await self._read(self._own_from)
        self._own_from = entries[-1][0] if entries else None
        return entries

    async def _ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.log_stream, GROUP, id="0", mkstream=True)
        except redisclient.UNAVAILABLE as exc:  # first: READONLY, OOM, MOVED are ResponseErrors too
            raise redisclient.translate(exc) from exc
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _read(self, position: bytes | str, block_ms: int | None = None) -> list[Entry]:
        reply = cast(StreamReply, await self.redis.xreadgroup(
            GROUP, self.consumer, {self.log_stream: position}, count=self.batch, block=block_ms))
        return [(i, f) for _, entries in reply or () for i, f in entries]

    async def _reclaim(self) -> None:
        reply = await self.redis.xautoclaim(
            self.log_stream, GROUP, self.consumer, min_idle_time=RECLAIM_IDLE_MS, count=self.batch)
        if len(reply) > 1 and reply[1]:
            await self._fan_out(list(reply[1]))

    async def _fan_out(self, entries: list[Entry]) -> None:
        if not entries:
            return
        queues: dict[str, int] = {}  # queue -> its index in KEYS
        copies: list[bytes | int] = []
        tracer = self.tracer if self.tracer.enabled else None
        for entry_id, fields in entries:
            if not fields or records.ROUTED in fields:  # the ingress copied (and traced) it
                continue
            attributes = records.RecordAttributes(fields)
            names = self.match(attributes)
            if tracer is not None:
                tracer.accepted(self.log_stream, entry_id, attributes, names)
            if names:
                copies += (entry_id, len(names))
                for name in names:
                    queue = self.queue_of(name)
                    copies.append(queues.setdefault(queue, len(queues) + 2))
        ids = [entry_id for entry_id, _ in entries]
        if copies:
            await self._copy(keys=[self.log_stream, *queues], args=[GROUP, len(ids), *ids, *copies])
        else:  # nothing matched: only the acknowledgement
            await self.redis.xack(self.log_stream, GROUP, *ids)

    async def _trim(self) -> None:
        """Trim entries every group has acknowledged, but keep the retention window
        (`channels.retention`)."""
        groups = await self.redis.xinfo_groups(self.log_stream)
        position, unread, pending_count = None, None, 0
        for group in groups:
            if group["name"] in (GROUP, GROUP.encode()):
                pending = await self.redis.xpending(self.log_stream, GROUP)
                pending_count = int(pending["pending"])
                unread = group.get("lag")
                if pending_count:
                    position = _decode(pending["min"])
                else:
                    position = retention.after(_decode(group["last-delivered-id"]))
        keep_from = retention.trim_point(now_ms=int(time.time() * 1000),
                                         retention_ms=int(self.retention * 1000), position=position)
        await self.redis.xtrim(self.log_stream, minid=keep_from, approximate=False)
        if self.retention > 0:
            cap = retention.count_cap(unread=unread, pending=pending_count,
                                      max_retained=self.max_retained)
            if cap is not None:
                await self.redis.xtrim(self.log_stream, maxlen=cap, approximate=False)
        self.on_length(self.log_stream, int(await self.redis.xlen(self.log_stream)))


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
