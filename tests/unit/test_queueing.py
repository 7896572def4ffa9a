"""The work queue's promises: a key queued once, never processed twice at once, requeued
after done when it changed meanwhile, delayed and rate-limited adds; and the backoff table."""

from __future__ import annotations

import asyncio

import pytest

from controllers.queueing import Backoff, ShutDown, WorkQueue


@pytest.mark.parametrize("failures, wanted", [
    (0, 0.05), (1, 0.1), (2, 0.2), (5, 1.6), (9, 25.6), (10, 30.0), (100, 30.0),
])
def test_backoff_doubles_per_failure_up_to_its_cap(failures: int, wanted: float) -> None:
    backoff: Backoff[str] = Backoff(base=0.05, cap=30.0)
    for _ in range(failures):
        backoff.when("k")
    assert backoff.when("k") == pytest.approx(wanted)


def test_forget_resets_the_backoff_of_one_key_only() -> None:
    backoff: Backoff[str] = Backoff()
    for key in ("a", "a", "b"):
        backoff.when(key)
    backoff.forget("a")
    assert (backoff.failures("a"), backoff.failures("b")) == (0, 1)


async def test_a_key_added_many_times_is_queued_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "a", "a", "b"):
        queue.add(key)
    assert len(queue) == 2
    assert [await queue.get(), await queue.get()] == ["a", "b"]


async def test_a_key_changed_while_processed_is_queued_again_after_done() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    key = await queue.get()
    queue.add("a")  # changed while a worker holds it: not handed to a second worker
    assert len(queue) == 0
    queue.done(key)
    assert len(queue) == 1 and await queue.get() == "a"


async def test_a_waiting_worker_wakes_on_add() -> None:
    queue: WorkQueue[str] = WorkQueue()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.add("x")
    assert await asyncio.wait_for(getter, 1) == "x"


async def test_add_after_queues_later_and_the_earliest_timer_wins() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_after("k", 60.0)
    queue.add_after("k", 0.01)
    assert await asyncio.wait_for(queue.get(), 1) == "k"


async def test_shutdown_ends_every_waiting_worker() -> None:
    queue: WorkQueue[str] = WorkQueue()
    getters = [asyncio.create_task(queue.get()) for _ in range(3)]
    await asyncio.sleep(0)
    queue.shutdown()
    for getter in getters:
        with pytest.raises(ShutDown):
            await asyncio.wait_for(getter, 1)
