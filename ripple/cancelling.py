"""`asyncio.wait_for` that never swallows a cancellation, as Python 3.12 made it.

On Python 3.11, `asyncio.wait_for(aw, timeout)` runs `aw` in a task of its own. When the
caller is cancelled in the loop turn in which that task finishes, it returns the task's
result and the `CancelledError` is lost (CPython gh-86296; 3.12 rebuilt `wait_for` on
`asyncio.timeout` and fixed it). The cancelled task then runs on as if nothing happened:
a `task.cancel(); await task` never returns.

redis-py sends every command through `wait_for` when the client has a `socket_timeout`
(Ripple's store clients have), so on 3.11 cancelling a task that talks to the store lost
the cancellation about one time in a few hundred: a shutdown that never finished, a test
that hung until pytest-timeout. `install()` puts `wait_for` below in `asyncio`'s place on
Python 3.11, for every library in the process; on 3.12 and later it does nothing.
`ripple.redisclient` runs it when it is imported, so every process that talks to the store
has it (not `ripple` itself: the CLI's commands that need no event loop would pay for
importing asyncio, about 40 ms).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")

ORIGINAL_WAIT_FOR = asyncio.wait_for if sys.version_info < (3, 12) else None
"""Python 3.11's own `asyncio.wait_for`, kept for the test that shows its bug."""


async def wait_for(aw: Awaitable[T], timeout: float | None) -> T:
    """`asyncio.wait_for` with 3.12's semantics: `aw` runs in the caller's task under an
    `asyncio.timeout`, so a cancellation of the caller always propagates, and running out
    of time raises `TimeoutError` (which is `asyncio.TimeoutError`)."""
    if timeout is not None and timeout <= 0:
        future = asyncio.ensure_future(aw)
        if future.done():
            return future.result()
        future.cancel()
        await asyncio.wait([future])  # the cancelled task is done before we return
        try:
            return future.result()
        except asyncio.CancelledError as exc:
            raise TimeoutError() from exc
    async with asyncio.timeout(timeout):
        return await aw


def install() -> None:
    """Replace `asyncio.wait_for` with `wait_for` on Python 3.11 (a no-op on 3.12+)."""
    if sys.version_info < (3, 12):
        asyncio.wait_for = wait_for  # type: ignore[assignment]
        asyncio.tasks.wait_for = wait_for  # type: ignore[assignment]


async def stop(task: asyncio.Future[Any]) -> BaseException | None:
    """Cancel `task` and wait until it has ended: a shutdown's `task.cancel(); with
    suppress(CancelledError): await task`, except that a cancellation of the *caller* while
    it waits is not swallowed with the task's own. Returns the error the task ended with,
    if any (not its cancellation), for the caller to log or ignore: a failure seen only at
    shutdown is still a failure."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception as exc:  # the task's own end
        return exc
    return None
