"""`ripple.cancelling.wait_for`: a cancellation of the caller always propagates, even in the
loop turn in which the awaited work finishes (Python 3.11's `asyncio.wait_for` returned
the result and lost the cancellation there); otherwise it is `asyncio.wait_for`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ripple import cancelling, redisclient  # noqa: F401  (importing it installs cancelling.wait_for)

WaitFor = Callable[[Awaitable[Any], float | None], Awaitable[Any]]
IMPLEMENTATIONS = [pytest.param(cancelling.wait_for, id="ripple.cancelling.wait_for"),
                   pytest.param(lambda aw, t: asyncio.wait_for(aw, t), id="asyncio.wait_for (installed)")]


async def done_at_once() -> str:
    return "result"


async def never() -> str:
    await asyncio.Event().wait()
    return "never"


@pytest.mark.parametrize("wait_for", IMPLEMENTATIONS)
async def test_a_cancellation_in_the_turn_the_work_finishes_is_not_lost(wait_for: WaitFor) -> None:
    work = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(wait_for(work, 10))
    await asyncio.sleep(0)  # the caller now waits on the work
    work.set_result("result")
    task.cancel()  # in the same turn
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 fixed asyncio.wait_for")
def test_the_store_client_installs_it_for_every_library() -> None:
    assert asyncio.wait_for is cancelling.wait_for
    assert asyncio.tasks.wait_for is cancelling.wait_for


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 fixed asyncio.wait_for")
async def test_python_3_11s_own_wait_for_loses_it() -> None:
    original = cancelling.ORIGINAL_WAIT_FOR
    assert original is not None
    work = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(original(work, 10))
    await asyncio.sleep(0)
    work.set_result("result")
    task.cancel()
    assert await task == "result"  # the bug `install` replaces


@pytest.mark.parametrize("wait_for", IMPLEMENTATIONS)
@pytest.mark.parametrize(("work", "timeout", "outcome"), [
    (done_at_once, 10, "result"),
    (done_at_once, None, "result"),
    (done_at_once, 0, TimeoutError),  # not yet run: as asyncio, nothing waits at 0
    (never, 0.01, TimeoutError),
    (never, 0, TimeoutError),
    (never, -1, TimeoutError),
])
async def test_results_and_timeouts(wait_for: WaitFor, work: Callable[[], Awaitable[str]],
                                    timeout: float | None, outcome: Any) -> None:
    if outcome is TimeoutError:
        with pytest.raises(asyncio.TimeoutError):
            await wait_for(work(), timeout)
    else:
        assert await wait_for(work(), timeout) == outcome


@pytest.mark.parametrize("wait_for", IMPLEMENTATIONS)
async def test_a_finished_future_at_timeout_zero_gives_its_result(wait_for: WaitFor) -> None:
    future = asyncio.get_running_loop().create_future()
    future.set_result("result")
    assert await wait_for(future, 0) == "result"


@pytest.mark.parametrize("wait_for", IMPLEMENTATIONS)
async def test_the_work_is_cancelled_when_time_runs_out(wait_for: WaitFor) -> None:
    future = asyncio.get_running_loop().create_future()
    with pytest.raises(asyncio.TimeoutError):
        await wait_for(future, 0.01)
    assert future.cancelled()


@pytest.mark.parametrize("wait_for", IMPLEMENTATIONS)
async def test_the_work_s_own_error_is_raised(wait_for: WaitFor) -> None:
    async def fails() -> None:
        raise ValueError("boom")
    with pytest.raises(ValueError, match="boom"):
        await wait_for(fails(), 10)


# -- stop(task): the task's error is returned, the caller's cancellation propagates ------------

async def ends_with(outcome: BaseException | None) -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        if outcome is not None:
            raise outcome from None
        raise


@pytest.mark.parametrize("outcome", [None, ValueError("its own error")], ids=["cancelled", "an error"])
async def test_stop_waits_for_the_task_and_returns_its_error(outcome: BaseException | None) -> None:
    task = asyncio.create_task(ends_with(outcome))
    await asyncio.sleep(0)
    assert await cancelling.stop(task) is outcome
    assert task.done()


async def test_stop_of_a_finished_task_returns() -> None:
    task = asyncio.create_task(done_at_once())
    await task
    assert await cancelling.stop(task) is None


async def test_a_cancellation_of_the_caller_while_it_stops_a_task_propagates() -> None:
    stubborn_release = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await stubborn_release.wait()  # takes its time to end
            raise

    child = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    caller = asyncio.create_task(cancelling.stop(child))
    await asyncio.sleep(0)
    caller.cancel()  # the caller is cancelled while it waits for the child
    await asyncio.sleep(0)
    stubborn_release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert caller.cancelled()
