"""The Redis side of a delivery queue: a stream, its consumer group, and a retry schedule.

Used by `channels.dispatching` (one queue per Trigger or Subscription) and by the fan-out
that fills the queues. Every state change is one MULTI/EXEC or one Lua script, never
check-then-act, so a process killed at any instruction leaves each entry either pending
(and reclaimed later) or moved on, never lost:

- entry fields (declared in `ripple.cloudevents.records`, the one schema): `a` attributes
  (JSON), `d` data, `n` retries done, `p` phase (`dl` once the entry is bound for the
  dead-letter sink);
- success: XACK + XDEL;
- retry: ZADD the entry's `stream|id` to the schedule at its due time + XACK. The entry
  stays in the stream (acknowledged) until `promote` re-adds it as a new entry with `n+1`
  and deletes the old one, atomically in Lua (a script whose KEYS name the schedule and
  every stream it touches, as Redis Cluster requires);
- dead letter: XADD a new entry in phase `dl` + XACK + XDEL of the old;
- failed for good (no dead-letter sink, or the sink failed too): `bury`, one script that
  adds to the target's dead-letter store and its index (`channels.deadletters`), then XACKs
  and XDELs the old.

Outcomes are coalesced (`channels.coalescing`): the acks of every delivery that finished
while a round trip was under way go together in the next pipeline, and so do the retries
and dead letters, in one MULTI/EXEC per batch and hash tag (one broker's or channel's keys,
so each transaction stays in one Redis Cluster slot). A transaction is isolated (no other
client's command runs between its commands), so each entry moves whole, and a burst of
outcomes (the attempts of a hung subscriber timing out together) costs one round trip
instead of one each.

Every operation raises `errors.StoreUnavailable` when the store cannot answer
(`redisclient.UNAVAILABLE`, translated here once); the dispatchers above catch only that.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, cast

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.client import Pipeline

from ripple import keys, redisclient
from ripple.cloudevents import records

from channels import coalescing, deadletters

log = logging.getLogger(__name__)

Entry = tuple[bytes, records.Fields | None]
"""A stream entry as read: its id and its fields (None: deleted while pending)."""
StreamReply = list[tuple[bytes, list[Entry]]]
"""What XREAD and XREADGROUP answer through `redisclient.connect`'s client (RESP2, replies
left undecoded): per stream, its key and its entries. redis-py annotates them with the union
of every protocol's and decoding's form, so the callers cast the reply, once per read."""


GROUP = keys.DELIVERY_GROUP

Failure = tuple[str, str, bytes]
"""A target's last error: its failures hash, its field there, the value
(`channels.deadletters.last_error`)."""

# KEYS[1]: a retry schedule; KEYS[2..]: the streams of its due members (one hash tag, so
# one Cluster slot). ARGV, per member: the KEYS index of its stream, the member, the entry
# id. A member another process promoted meanwhile is no longer scheduled and is skipped, so
# an entry moves once. Returns how many moved.
_PROMOTE = """
local moved = 0
for i = 1, #ARGV, 3 do
  local stream, member, id = KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2]
  if redis.call('ZREM', KEYS[1], member) == 1 then
    local entries = redis.call('XRANGE', stream, id, id)
    if #entries > 0 then
      local fields = entries[1][2]
      local out = {}
      local n = 0
      for j = 1, #fields, 2 do
        if fields[j] == '$RETRIES' then
          n = tonumber(fields[j + 1])
        else
          out[#out + 1] = fields[j]
          out[#out + 1] = fields[j + 1]
        end
      end
      out[#out + 1] = '$RETRIES'
      out[#out + 1] = tostring(n + 1)
      redis.call('XADD', stream, '*', unpack(out))
      redis.call('XDEL', stream, id)
      moved = moved + 1
    end
  end
end
return moved
""".replace("$RETRIES", records.RETRIES.decode())


# KEYS: streams (one hash slot). ARGV: the group, the consumer, then per key its min idle
# time (ms) and count. Returns, for each stream that had entries to claim, its KEYS index and
# the entries claimed (XAUTOCLAIM's second element); deleted entries are dropped from the
# pending list by XAUTOCLAIM itself (Redis 7).
_RECLAIM = """
local claimed = {}
for i = 1, #KEYS do
  local reply = redis.call('XAUTOCLAIM', KEYS[i], ARGV[1], ARGV[2], ARGV[2 * i + 1], '0-0',
                           'COUNT', ARGV[2 * i + 2])
  if #reply[2] > 0 then
    claimed[#claimed + 1] = i
    claimed[#claimed + 1] = reply[2]
  end
end
return claimed
"""


def _pairs(fields: list[bytes] | None) -> records.Fields | None:
    """A stream entry's flat field list as a dict (None: an entry deleted while pending)."""
    if fields is None:
        return None
    return dict(zip(fields[::2], fields[1::2]))


def discard(client: aioredis.Redis, streams: Sequence[str],
            fields: Sequence[tuple[str, str]] = ()) -> None:
    """Delete the streams of deleted Triggers, Subscriptions, Brokers or Channels, and their
    `fields` of shared hashes (hash, field: a Trigger's last error), in the background.
    Every worker may do it; DEL and HDEL are idempotent, and a leftover is garbage, not a
    loss."""

    async def delete() -> None:
        try:
            await _delete(client, streams)
            if fields:
                async with client.pipeline(transaction=False) as pipe:
                    for name, field in fields:
                        pipe.hdel(name, field)
                    await pipe.execute()
        except redisclient.UNAVAILABLE as exc:
            log.warning("could not delete streams", extra={"streams": list(streams), "error": str(exc)})

    if streams or fields:
        _background.add(task := asyncio.ensure_future(delete()))
        task.add_done_callback(_background.discard)


_background: set[asyncio.Future[None]] = set()


async def _delete(client: aioredis.Redis, streams: Sequence[str]) -> None:
    """One DEL per hash tag: a DEL of keys in several Cluster slots is refused (CROSSSLOT)."""
    by_tag: dict[str, list[str]] = {}
    for stream in streams:
        by_tag.setdefault(keys.hash_tag(stream), []).append(stream)
    async with client.pipeline(transaction=False) as pipe:
        for group in by_tag.values():
            pipe.delete(*group)
        await pipe.execute()


@dataclass(eq=False)
class _GroupCreation:
    """One `ensure_group` in a coalesced batch, and the server's refusal of it, if any
    (BUSYGROUP, the group exists, is no refusal)."""

    stream: str
    group: str
    refused: redis.exceptions.ResponseError | None = None


class Queues:
    """The queue operations over one Redis client; stateless apart from the script and
    the outcomes waiting for their batch. Every operation raises `errors.StoreUnavailable`
    when the store cannot answer (translated here, once, from redis-py's errors)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self._promote = client.register_script(_PROMOTE)
        self._reclaim = client.register_script(_RECLAIM)
        self._acks = coalescing.Coalescer(self._write_acks)
        self._groups = coalescing.Coalescer(self._create_groups)
        self._moves: dict[str, coalescing.Coalescer[Callable[[Pipeline], None]]] = {}
        """One coalescer per hash tag while it has moves to write: each batch is one
        transaction in one Cluster slot, and each caller gets its own transaction's outcome.
        An idle one is dropped, so tags of deleted brokers and channels are not kept."""

    async def ensure_group(self, stream: str, group: str = GROUP) -> None:
        """Create the consumer group (and the stream) unless it exists.

        Coalesced: the dispatchers of a thousand Triggers starting together create their
        groups in one pipeline on one connection. Each on its own call took a connection of
        its own at once (redis-py's pool opens one per concurrent command): 1,001 Triggers
        left 1,001 connections open in the pool after `ripple up` started."""
        creation = _GroupCreation(stream, group)
        try:
            await self._groups.submit(creation)
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        refused = creation.refused
        if isinstance(refused, redisclient.UNAVAILABLE):  # READONLY, OOM... are replies too
            raise redisclient.translate(refused) from refused
        if refused is not None:
            raise refused

    async def _create_groups(self, creations: list[_GroupCreation]) -> None:
        # Not a transaction: the groups are independent, and a standalone server or a
        # Cluster client's pipeline accepts keys of many slots in one.
        async with self.redis.pipeline(transaction=False) as pipe:
            for creation in creations:
                pipe.xgroup_create(creation.stream, creation.group, id="0", mkstream=True)
            replies = await pipe.execute(raise_on_error=False)
        for creation, reply in zip(creations, replies):
            if isinstance(reply, redis.exceptions.ResponseError) and "BUSYGROUP" not in str(reply):
                creation.refused = reply

    async def read(
        self, stream: str, consumer: str, *, count: int, block_ms: int | None, after: bytes | str = ">"
    ) -> list[Entry]:
        """New entries (`after=">"`), or the entries `consumer` holds pending after the id
        `after` ("0": all of them; such a read never blocks)."""
        try:
            reply = cast(StreamReply, await self.redis.xreadgroup(
                GROUP, consumer, {stream: after}, count=count, block=block_ms
            ))
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        return [(i, f) for _, entries in reply or () for i, f in entries]

    async def read_streams(
        self, streams: Mapping[str, bytes | str], consumer: str, *, count: int,
        block_ms: int | None, client: aioredis.Redis | None = None,
    ) -> dict[str, list[Entry]]:
        """`read` over several streams in one XREADGROUP (their keys must share a Cluster
        slot), on `client` (default: this one's), by stream."""
        ids: dict[bytes | str | memoryview, int | bytes | str | memoryview] = {
            stream: after for stream, after in streams.items()}
        try:
            reply = cast(StreamReply, await (client or self.redis).xreadgroup(
                GROUP, consumer, ids, count=count, block=block_ms))
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        return {stream.decode(): entries for stream, entries in reply or ()}

    async def reclaim_streams(self, claims: Sequence[tuple[str, int, int]],
                              consumer: str) -> dict[str, list[Entry]]:
        """`reclaim` of several streams (stream, min_idle_ms, count; their keys must share a
        Cluster slot) in one script: one command and one short reply for a thousand parked
        queues, which almost never have anything to reclaim, where a pipeline of XAUTOCLAIMs
        sent and parsed a thousand. Only the streams that had entries to claim are in the
        result."""
        args: list[str | int] = [GROUP, consumer]
        for _, min_idle_ms, count in claims:
            args += (min_idle_ms, count)
        try:
            reply = await self._reclaim(keys=[stream for stream, _, _ in claims], args=args)
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        return {claims[int(index) - 1][0]: [(i, _pairs(fields)) for i, fields in entries]
                for index, entries in zip(reply[::2], reply[1::2])}

    async def client_id(self, client: aioredis.Redis) -> int:
        """The connection id of a single-connection `client`, for `unblock`."""
        try:
            return int(await client.client_id())
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc

    async def unblock(self, client_id: int, **route: Any) -> bool:
        """End the blocking read of connection `client_id` as if it timed out; False when
        that connection is not blocked. `route`: where that connection is, on a Cluster
        (`ripple.rediscluster.Dedicated.route`)."""
        try:
            return bool(await self.redis.client_unblock(client_id, **route))
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc

    async def reclaim(self, stream: str, consumer: str, *, min_idle_ms: int, count: int) -> list[Entry]:
        try:
            reply = await self.redis.xautoclaim(
                stream, GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count
            )
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        claimed = reply[1] if len(reply) > 1 else []
        return [(i, f) for i, f in claimed]

    async def ack(self, stream: str, entry_id: bytes) -> None:
        """XACK + XDEL, coalesced. No transaction is needed: a kill between the two leaves
        an acknowledged entry behind, garbage but never a loss."""
        try:
            await self._acks.submit((stream, entry_id))
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc

    async def _write_acks(self, acks: list[tuple[str, bytes]]) -> None:
        by_stream: dict[str, list[bytes]] = {}
        for stream, entry_id in acks:
            by_stream.setdefault(stream, []).append(entry_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream, ids in by_stream.items():
                pipe.xack(stream, GROUP, *ids)
                pipe.xdel(stream, *ids)
            await pipe.execute()

    async def schedule_retry(self, stream: str, schedule: str, entry_id: bytes, due: float,
                             failure: Failure | None = None) -> None:
        """ZADD `stream|id` to the schedule + XACK, atomically, coalesced; with `failure`,
        the target's last error is written in the same transaction."""
        member = stream.encode() + b"|" + entry_id

        def move(pipe: Pipeline) -> None:
            pipe.zadd(schedule, {member: due})
            pipe.xack(stream, GROUP, entry_id)
            if failure is not None:
                pipe.hset(failure[0], failure[1], failure[2])

        await self._move(stream, move)

    async def bury(self, stream: str, entry_id: bytes, store: deadletters.DeadLetters,
                   record: records.Fields, *, last_error: bytes, now: float) -> None:
        """Move an entry that failed for good into its dead-letter store (`channels.
        deadletters`): one script adds it to the store and its index within their bounds,
        acknowledges and deletes the queue entry and writes the last error; coalesced with
        the other moves of the queue's hash tag (the store shares it)."""
        command = deadletters.adding(store, record, last_error=last_error, now=now, queue=(stream, entry_id))

        def move(pipe: Pipeline) -> None:
            pipe.execute_command(*command)

        await self._move(stream, move)

    async def replace(self, stream: str, entry_id: bytes, fields: records.Fields) -> None:
        """Re-enqueue an entry with new fields (e.g. bound for the dead-letter sink):
        XADD + XACK + XDEL, atomically, coalesced."""
        record = dict(fields)

        def move(pipe: Pipeline) -> None:
            # redis-py annotates `fields` as a Dict of its whole value union, and Dict is
            # invariant, so no precisely typed dict matches it; the copy that would satisfy it
            # (`dict(fields.items())`) costs 250 ns more per dead letter and reply.
            pipe.xadd(stream, record)  # type: ignore[arg-type]
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)

        await self._move(stream, move)

    async def _move(self, stream: str, move: Callable[[Pipeline], None]) -> None:
        tag = keys.hash_tag(stream)
        coalescer = self._moves.get(tag)
        if coalescer is None:
            coalescer = self._moves[tag] = coalescing.Coalescer(self._transact)
        try:
            await coalescer.submit(move)
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        finally:
            if coalescer.idle and self._moves.get(tag) is coalescer:
                del self._moves[tag]

    async def _transact(self, moves: list[Callable[[Pipeline], None]]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            for move in moves:
                move(pipe)
            await pipe.execute()

    async def promote(self, schedule: str, now: float, limit: int = 500) -> int:
        """Move every retry due by `now` back into its queue; returns how many moved.

        The due members are read first, then moved by one script whose KEYS are the
        schedule and every stream it touches (one hash tag: a strict Cluster accepts it).
        The script moves only members still scheduled, so two promoters never move one
        entry twice."""
        try:
            due = cast(list[bytes], await self.redis.zrangebyscore(
                schedule, "-inf", repr(now), start=0, num=limit))
            if not due:
                return 0
            streams: dict[bytes, int] = {}  # stream -> its index in KEYS
            args: list[bytes | int] = []
            for member in due:
                stream, _, entry_id = member.rpartition(b"|")
                args += (streams.setdefault(stream, len(streams) + 2), member, entry_id)
            return int(await self._promote(keys=[schedule, *streams], args=args))
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc

    async def delete(self, streams: Sequence[str]) -> None:
        if streams:
            try:
                await _delete(self.redis, streams)
            except redisclient.UNAVAILABLE as exc:
                raise redisclient.translate(exc) from exc
