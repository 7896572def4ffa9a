"""serving.breaker: queue-proxy's admission rule and the order slots are released in."""

from __future__ import annotations

import asyncio

import pytest

from serving import breaker
from serving.breaker import Admission, Breaker


@pytest.mark.parametrize("running, waiting, concurrency, depth, want", [
    (0, 0, 0, 0, Admission.RUN),          # CC 0: no breaker
    (10_000, 0, 0, 0, Admission.RUN),
    (0, 0, 1, 10, Admission.RUN),
    (1, 0, 1, 10, Admission.QUEUE),
    (1, 9, 1, 10, Admission.QUEUE),
    (1, 10, 1, 10, Admission.REJECT),     # 11 x CC slots taken
    (3, 0, 4, 40, Admission.RUN),
    (4, 39, 4, 40, Admission.QUEUE),
    (4, 40, 4, 40, Admission.REJECT),
    (3, 1, 4, 40, Admission.QUEUE),       # a free slot with waiters: no overtaking
    (1, 0, 1, 0, Admission.REJECT),       # no queue at all
])
def test_admit(running: int, waiting: int, concurrency: int, depth: int, want: Admission) -> None:
    assert breaker.admit(running, waiting, concurrency, depth) is want


def test_queue_depth_is_ten_times_concurrency() -> None:
    assert Breaker(3).depth == 30
    assert Breaker(0).depth == 0


async def test_full_breaker_rejects_at_once() -> None:
    b = Breaker(1, depth=2)
    await b.acquire()
    waiters = [asyncio.create_task(b.acquire()) for _ in range(2)]
    await asyncio.sleep(0)
    assert (b.running, b.waiting) == (1, 2)
    with pytest.raises(breaker.Overloaded):
        await b.acquire()
    for _ in range(3):
        b.release()
    await asyncio.gather(*waiters)
    assert (b.running, b.waiting) == (0, 0)


async def test_release_wakes_waiters_in_arrival_order() -> None:
    b = Breaker(1)
    await b.acquire()
    order: list[int] = []

    async def request(i: int) -> None:
        await b.acquire()
        order.append(i)

    tasks = [asyncio.create_task(request(i)) for i in range(5)]
    await asyncio.sleep(0)
    for _ in range(5):
        b.release()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert b.running == 1  # the last one still holds its slot
    b.release()
    assert b.running == 0


async def test_newcomer_does_not_overtake_a_handed_slot() -> None:
    b = Breaker(1)
    await b.acquire()
    first = asyncio.create_task(b.acquire())
    await asyncio.sleep(0)
    b.release()  # the slot goes to `first`, which has not resumed yet
    late = asyncio.create_task(b.acquire())
    await asyncio.sleep(0)
    await first
    assert not late.done() and b.waiting == 1
    b.release()
    await late
    b.release()
    assert (b.running, b.waiting) == (0, 0)


async def test_cancelled_waiter_leaves_the_line() -> None:
    b = Breaker(1)
    await b.acquire()
    gone = asyncio.create_task(b.acquire())
    stays = asyncio.create_task(b.acquire())
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert b.waiting == 1
    b.release()
    await stays
    assert (b.running, b.waiting) == (1, 0)


async def test_waiter_cancelled_after_its_handover_passes_the_slot_on() -> None:
    b = Breaker(1)
    await b.acquire()
    handed = asyncio.create_task(b.acquire())
    nxt = asyncio.create_task(b.acquire())
    await asyncio.sleep(0)
    b.release()      # the slot goes to `handed`...
    handed.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await handed
    await nxt
    assert (b.running, b.waiting) == (1, 0)


async def test_deadline_while_waiting() -> None:
    b = Breaker(1)
    await b.acquire()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await b.acquire()
    assert (b.running, b.waiting) == (1, 0)


async def test_unlimited_counts_running_for_least_in_flight() -> None:
    b = Breaker(0)
    for _ in range(3):
        await b.acquire()
    assert b.load == 3
    b.release()
    assert b.load == 2
