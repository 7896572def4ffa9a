"""One blocking read per process for the delivery queues that have nothing to do.

`channels.dispatching` hands its queue here once a blocking read of its own came back
empty with no delivery in flight (`Dispatcher` then awaits `IdleReader.park`), and gets it
back with the entries that woke it. While parked a queue costs nothing of its own: one
task per hash slot blocks in a single `XREADGROUP ... STREAMS k1 k2 ... > > ...` over every
parked queue of that slot (Redis Cluster wants the keys of one command in one slot; the
keys of one broker or channel share a hash tag, so a broker's Triggers are one read). A
queue that gets entries is handed back to its own dispatcher, which reads for itself until
it is idle again.

Measured before this (docs/benchmarks.md, P4): 1,000 idle dispatchers each blocking for
2 s and waking, about 500 reads a second and 1,000 Redis connections held in blocking
reads; a thousand Triggers cost 6% of a core doing nothing.

What the dispatchers did for their own queue, the slot's task does for the parked ones:

- the read claims the entries (`>`), so they are pending under this consumer from the
  moment Redis answers; a process killed before the hand-over leaves them pending, and the
  restarted dispatcher re-reads them (`XREADGROUP ... 0`);
- a dispatcher that just started parks at once (`Parked.pending`): its pending entries
  (those its consumer held before a restart) are read with those of every queue that
  started with it, in one `XREADGROUP ... 0 0 ...`, and a queue with any is handed back to
  deliver them; 1,001 Triggers starting together each read their own and opened about 300
  connections at once;
- after a store error, whose lost reply may have left entries pending under this consumer,
  the next read is of the pending entries (`0` for every parked queue, not blocking), and a
  queue with any is handed back to re-read the rest itself;
- entries of dead consumers are reclaimed with XAUTOCLAIM on each queue's own schedule
  (`Parked.next_reclaim`), by one script per slot (`Queues.reclaim_streams`);
- a queue parked while the slot's read blocks wakes that read with `CLIENT UNBLOCK` (on the
  read's own connection id), so the next read includes it at once. On a Redis Cluster the
  read's connection is to the node that serves its slot, and the CLIENT UNBLOCK is sent to
  that node (`ripple.rediscluster.dedicated`).

Retries need nothing here: the promoter re-adds a due retry as a new entry, which wakes the
read like any other. Ordered queues never park (their reader holds a lease).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import redis.asyncio as aioredis
import redis.crc
import redis.exceptions

from ripple import errors, rediscluster, redisclient

from channels.queues import Entry, Queues

log = logging.getLogger(__name__)

BLOCK_MS = 2000
"""How long the slot's read blocks: it paces the reclaim checks and must stay under the
client's socket timeout. Parking and new entries wake it at once."""

UNBLOCK_RETRY = 0.005
"""Seconds before asking again when a `CLIENT UNBLOCK` found the read not blocked yet (the
read was sent, not yet received)."""


@dataclass
class Wake:
    """Why a parked queue is handed back: the entries read or reclaimed for it (pending
    under this consumer now), and whether it must re-read its pending entries first."""

    entries: list[Entry] = field(default_factory=list)
    reread: bool = False


@dataclass(eq=False)
class Parked:
    """One parked queue, as its dispatcher left it."""

    stream: str
    count: int
    """How many entries it may take at once (its free delivery slots)."""
    reclaim_idle_ms: int
    next_reclaim: float
    """`time.monotonic()` of its next XAUTOCLAIM; the dispatcher carries it on when woken."""
    pending: bool = False
    """Its consumer's pending entries are still to be read (`XREADGROUP ... 0`): a
    dispatcher that just started parks at once and leaves that read to the slot, which
    does it for every such queue in one command. Cleared once read; while set, any wake
    asks the dispatcher to re-read them itself."""
    woken: asyncio.Future[Wake] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def slot_of(stream: str) -> int:
    """The Redis Cluster slot of a key (its hash tag's, when it has one): the keys of one
    multi-stream read must share it."""
    return int(redis.crc.key_slot(stream.encode()))


class IdleReader:
    """The parked queues of one process, by slot, and one reading task per slot that has
    any. `on_stray(stream)` is told when entries were read for a queue that left meanwhile
    (its dispatcher was stopped): they are pending under this consumer, for whoever serves
    the queue next to re-read."""

    def __init__(self, queues: Queues, consumer: str, *, block_ms: int = BLOCK_MS,
                 on_stray: Callable[[str], None] = lambda stream: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.queues, self.consumer, self.block_ms = queues, consumer, block_ms
        self.on_stray, self.clock = on_stray, clock
        self._slots: dict[int, _Slot] = {}
        self._closed = False

    def parked(self) -> int:
        return sum(len(s.parked) for s in self._slots.values())

    async def park(self, parked: Parked) -> Wake:
        """Wait, costing nothing, until `parked.stream` has entries for this consumer (or
        must re-read its own); cancelling leaves the queue unparked."""
        if self._closed:
            raise asyncio.CancelledError
        slot_id = slot_of(parked.stream)
        slot = self._slots.get(slot_id)
        if slot is None or slot.ending:
            slot = self._slots[slot_id] = _Slot(self, slot_id)
        slot.add(parked)
        try:
            return await parked.woken
        finally:
            slot.remove(parked)

    async def close(self) -> None:
        self._closed = True
        tasks = [s.task for s in self._slots.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for slot in self._slots.values():
            await slot.release()
        self._slots.clear()


class _Slot:
    """The parked queues of one slot and the task that reads them."""

    def __init__(self, reader: IdleReader, slot: int) -> None:
        self.reader, self.slot = reader, slot
        self.parked: dict[str, Parked] = {}
        self.client: aioredis.Redis | None = None
        """Its own connection: `CLIENT UNBLOCK` names the blocked read by connection id."""
        self.route: dict[str, Any] = {}
        """The options that send a command to the node of `client` (a Cluster's)."""
        self.client_id: int | None = None
        self.blocking = 0
        """The generation of the read under way (0: none): an unblock aims at one read."""
        self._generation = 0
        self._unblocking: asyncio.Task[None] | None = None
        self.reread = False
        self.ending = False
        """Its task left its loop (nothing parked): a queue parked now needs a new one."""
        self.task: asyncio.Task[None] | None = asyncio.create_task(
            self._run(), name=f"idle-reader:{slot}")

    def add(self, parked: Parked) -> None:
        self.parked[parked.stream] = parked
        if self.blocking and (self._unblocking is None or self._unblocking.done()):
            self._unblocking = asyncio.create_task(self._unblock(self.blocking))

    def remove(self, parked: Parked) -> None:
        if self.parked.get(parked.stream) is parked:
            del self.parked[parked.stream]

    def wake(self, stream: str, wake: Wake) -> None:
        parked = self.parked.pop(stream, None)
        if parked is not None and not parked.woken.done():
            if parked.pending:  # its pending entries were never read: they come first
                wake.reread = True
            parked.woken.set_result(wake)
        elif wake.entries:
            self.reader.on_stray(stream)

    async def _run(self) -> None:
        try:
            await self._serve()
        except Exception:  # its queues go back to their own reads below, never stranded
            log.exception("idle queues' reader crashed", extra={"slot": self.slot})
        finally:
            self.ending = True  # before any await: no queue may park here from now on
            if self.reader._slots.get(self.slot) is self:
                del self.reader._slots[self.slot]
            for stream in list(self.parked):  # only when cancelled: hand them back
                self.wake(stream, Wake(reread=True))
            await self.release()

    async def _serve(self) -> None:
        refused = 0
        while self.parked:
            try:
                if self.reread:
                    self.reread = False
                    await self._read_pending(list(self.parked.values()))
                    continue
                pending = [p for p in self.parked.values() if p.pending]
                if pending:
                    await self._read_pending(pending)
                    continue
                await self._read_new()
                await self._reclaim_due()
                refused = 0
            except errors.StoreUnavailable as exc:
                # A lost reply may have left entries pending under this consumer.
                self.reread = True
                self.client_id = None
                await self.release()
                log.warning("idle queues' read failed; retrying",
                            extra={"slot": self.slot, "error": repr(exc)})
                await asyncio.sleep(1.0)
            except redis.exceptions.ResponseError as exc:
                # A parked queue's stream or group is gone (a key deleted under a blocked
                # read unblocks it with an error). Its dispatcher is usually being stopped;
                # if the refusal repeats, every queue goes back to reading for itself.
                refused += 1
                log.debug("idle queues' read refused", extra={"slot": self.slot, "error": str(exc)})
                if refused > 1:
                    for stream in list(self.parked):
                        self.wake(stream, Wake(reread=True))
                    refused = 0
                await asyncio.sleep(0.05)

    async def _connection(self) -> aioredis.Redis:
        if self.client is None:
            # On a Cluster, a connection to the node that serves this slot (`route` sends the
            # CLIENT UNBLOCK there too); it is dropped after a store error, as the slot may
            # have moved.
            try:
                own = await rediscluster.dedicated(self.reader.queues.redis, next(iter(self.parked)))
            except redisclient.UNAVAILABLE as exc:
                raise redisclient.translate(exc) from exc
            self.client, self.route = own.client, own.route
        if self.client_id is None:
            self.client_id = await self.reader.queues.client_id(self.client)
        return self.client

    async def release(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            try:
                await client.aclose()
            except Exception:  # a broken connection is dropped, nothing to hand back
                pass

    async def _read_new(self) -> None:
        client = await self._connection()
        if not self.parked:
            return
        self._generation += 1
        self.blocking = self._generation
        try:
            streams = dict.fromkeys(self.parked, ">")
            count = min(p.count for p in self.parked.values())
            read = await self.reader.queues.read_streams(
                streams, self.reader.consumer, count=count, block_ms=self.reader.block_ms,
                client=client)
        finally:
            self.blocking = 0
        for stream, entries in read.items():
            if entries:
                self.wake(stream, Wake(entries))

    async def _read_pending(self, queues: list[Parked]) -> None:
        """Read what this consumer holds pending in `queues`, not blocking: a queue with any
        is handed back to re-read the rest itself (the read pages, by `count`)."""
        if not queues:
            return
        client = await self._connection()
        count = min(p.count for p in queues)
        read = await self.reader.queues.read_streams(
            {p.stream: "0" for p in queues}, self.reader.consumer, count=count, block_ms=None,
            client=client)
        for parked in queues:
            parked.pending = False
        for stream, entries in read.items():
            if entries:
                self.wake(stream, Wake(entries, reread=True))

    async def _reclaim_due(self) -> None:
        now = self.reader.clock()
        due = [p for p in self.parked.values() if p.next_reclaim <= now]
        if not due:
            return
        claimed = await self.reader.queues.reclaim_streams(
            [(p.stream, p.reclaim_idle_ms, p.count) for p in due], self.reader.consumer)
        for parked in due:
            parked.next_reclaim = now + parked.reclaim_idle_ms / 2000
        for stream, entries in claimed.items():
            if entries:
                self.wake(stream, Wake(entries))

    async def _unblock(self, generation: int) -> None:
        """Wake the read under way so that it includes the queue just parked."""
        try:
            while self.blocking == generation and self.client_id is not None:
                if await self.reader.queues.unblock(self.client_id, **self.route):
                    return
                await asyncio.sleep(UNBLOCK_RETRY)  # sent but not blocking yet
        except errors.StoreUnavailable:
            pass  # the read fails too, and the next one includes the queue
