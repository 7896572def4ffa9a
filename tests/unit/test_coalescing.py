"""channels.coalescing: what is submitted during a write goes in the next one."""

from __future__ import annotations

import asyncio

import pytest

from channels.coalescing import Coalescer


class Store:
    """A fake store whose writes take one trip of the loop per `gate` release."""

    def __init__(self, fail_on: frozenset[str] = frozenset()) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, items: list[str]) -> None:
        self.batches.append(items)
        await self.gate.wait()
        if self.fail_on & set(items):
            raise ConnectionError("lost")


async def test_a_lone_item_is_written_at_once() -> None:
    store = Store()
    await Coalescer(store.write).submit("a")
    assert store.batches == [["a"]]


async def test_items_submitted_during_a_write_go_together_in_the_next() -> None:
    store = Store()
    store.gate.clear()
    coalescer = Coalescer(store.write)
    first = asyncio.create_task(coalescer.submit("a"))
    await asyncio.sleep(0)  # "a" is being written
    rest = [asyncio.create_task(coalescer.submit(x)) for x in "bcd"]
    await asyncio.sleep(0)
    store.gate.set()
    await asyncio.gather(first, *rest)
    assert store.batches == [["a"], ["b", "c", "d"]]


async def test_a_failed_write_fails_its_own_batch_only() -> None:
    store = Store(fail_on=frozenset("a"))
    store.gate.clear()
    coalescer = Coalescer(store.write)
    first = asyncio.create_task(coalescer.submit("a"))
    await asyncio.sleep(0)
    second = asyncio.create_task(coalescer.submit("b"))
    await asyncio.sleep(0)
    store.gate.set()
    with pytest.raises(ConnectionError):
        await first
    await second
    await coalescer.submit("c")  # and it keeps going
    assert store.batches == [["a"], ["b"], ["c"]]


async def test_a_cancelled_caller_does_not_disturb_its_batch() -> None:
    store = Store()
    store.gate.clear()
    coalescer = Coalescer(store.write)
    gone = asyncio.create_task(coalescer.submit("a"))
    kept = asyncio.create_task(coalescer.submit("b"))
    await asyncio.sleep(0)
    gone.cancel()
    store.gate.set()
    await kept
    assert gone.cancelled() and store.batches == [["a", "b"]]
