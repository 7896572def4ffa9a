"""serving.activating: buffering while a revision has no ready replica."""

from __future__ import annotations

import asyncio

import pytest

from serving import activating
from serving.activating import Activator

REV = ("ns", "foo-00001")


def activator(depth: int = activating.QUEUE_DEPTH) -> tuple[Activator, list]:
    pokes: list = []
    return Activator(pokes.append, depth=depth), pokes


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_first_waiter_pokes_once_and_all_are_released_in_order() -> None:
    act, pokes = activator()
    order: list[tuple[int, str]] = []

    async def request(i: int) -> None:
        order.append((i, await act.wait(REV, timeout=None)))

    tasks = [asyncio.create_task(request(i)) for i in range(5)]
    await settle()
    assert pokes == [REV]
    assert act.waiting(REV) == 5
    assert act.replica_ready(REV, "127.0.0.1:9001") == 5
    await asyncio.gather(*tasks)
    assert order == [(i, "127.0.0.1:9001") for i in range(5)]
    assert act.waiting(REV) == 0


async def test_a_new_cold_episode_pokes_again() -> None:
    act, pokes = activator()
    first = asyncio.create_task(act.wait(REV, None))
    await settle()
    act.replica_ready(REV, "a:1")
    await first
    second = asyncio.create_task(act.wait(REV, None))
    await settle()
    assert pokes == [REV, REV]
    act.replica_ready(REV, "a:1")
    assert await second == "a:1"


async def test_bound_refuses_one_more() -> None:
    act, _ = activator(depth=2)
    tasks = [asyncio.create_task(act.wait(REV, None)) for _ in range(2)]
    await settle()
    with pytest.raises(activating.Overloaded):
        await act.wait(REV, None)
    act.replica_ready(REV, "a:1")
    assert await asyncio.gather(*tasks) == ["a:1", "a:1"]


async def test_timeout_leaves_the_buffer() -> None:
    act, _ = activator()
    stays = asyncio.create_task(act.wait(REV, None))
    with pytest.raises(TimeoutError):
        await act.wait(REV, timeout=0.01)
    assert act.waiting(REV) == 1
    act.replica_ready(REV, "a:1")
    assert await stays == "a:1"


async def test_revisions_are_buffered_apart() -> None:
    act, pokes = activator()
    other = ("ns", "foo-00002")
    a = asyncio.create_task(act.wait(REV, None))
    b = asyncio.create_task(act.wait(other, None))
    await settle()
    assert pokes == [REV, other]
    assert act.replica_ready(other, "b:2") == 1
    assert await b == "b:2"
    assert not a.done()
    act.replica_ready(REV, "a:1")
    assert await a == "a:1"


async def test_ready_with_nobody_waiting_releases_nothing() -> None:
    act, pokes = activator()
    assert act.replica_ready(REV, "a:1") == 0
    assert pokes == []


async def test_revision_gone_fails_waiters() -> None:
    act, _ = activator()
    task = asyncio.create_task(act.wait(REV, None))
    await settle()
    act.revision_gone(REV)
    with pytest.raises(activating.Gone):
        await task
    assert act.waiting(REV) == 0
