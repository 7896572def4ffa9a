"""channels.queues: retries and dead letters are coalesced per hash tag, and each caller gets
its own transaction's outcome (a failure in one broker's slot is not another's); a tag's
coalescer lives only while it has moves to write."""

from __future__ import annotations

import asyncio

import redis.asyncio
import redis.exceptions

from channels.queues import Queues
from ripple import errors


class FakePipe:
    def __init__(self) -> None:
        self.commands: list[tuple] = []

    def __getattr__(self, name: str):
        return lambda *args, **kw: self.commands.append((name, *args))


class TimedQueues(Queues):
    """Transactions that take a while; those touching tag `a` fail."""

    def __init__(self) -> None:
        super().__init__(redis.asyncio.Redis())  # never connected: `_transact` is replaced
        self.batches: list[list[tuple]] = []

    async def _transact(self, moves) -> None:
        pipe = FakePipe()
        for move in moves:
            move(pipe)
        fails = any("{a}" in str(c[1]) for c in pipe.commands)
        await asyncio.sleep(0.01 if fails else 0.1)
        if fails:
            raise redis.exceptions.ConnectionError("lost")
        self.batches.append(pipe.commands)


async def test_each_caller_gets_its_own_tags_outcome() -> None:
    queues = TimedQueues()
    results = await asyncio.gather(
        queues.schedule_retry("q:{a}:s", "q:{a}:z", b"1-0", 1.0),
        queues.replace("q:{b}:s", b"2-0", {b"a": b"{}"}),
        queues.schedule_retry("q:{b}:s", "q:{b}:z", b"3-0", 1.0),
        return_exceptions=True)
    assert isinstance(results[0], errors.StoreUnavailable)  # translated at the boundary
    assert results[1:] == [None, None]
    written = [c[0] for batch in queues.batches for c in batch]
    assert written.count("xack") == 2 and "zadd" in written and "xadd" in written


async def test_a_burst_of_one_tag_is_one_transaction() -> None:
    queues = TimedQueues()
    await asyncio.gather(*(queues.schedule_retry("q:{b}:s", "q:{b}:z", f"{i}-0".encode(), 1.0)
                           for i in range(20)))
    assert [len(b) for b in queues.batches] == [40]  # ZADD + XACK of each of the 20


async def test_the_coalescer_of_a_tag_is_dropped_once_its_moves_are_written() -> None:
    queues = TimedQueues()
    await asyncio.gather(*(queues.schedule_retry(f"q:{{b{i}}}:s", f"q:{{b{i}}}:z", b"1-0", 1.0)
                           for i in range(50)))
    await asyncio.gather(queues.replace("q:{a}:s", b"2-0", {b"a": b"{}"}), return_exceptions=True)
    assert len(queues.batches) == 50
    assert queues._moves == {}  # deleted brokers' tags are not kept for ever
