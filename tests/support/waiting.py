"""Waiting on a condition in tests, never on the clock alone.

A test that sleeps a fixed time and then checks is flaky on a loaded machine (the thing it
waits for came late) and slow on an idle one. These helpers poll a condition with a short
interval until it holds, and fail naming what was awaited when a generous deadline passes.
A negative ("nothing else arrived") is proven by waiting for a positive that must come
after it, never by sleeping. Used by the integration and e2e tests.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

POLL = 0.02
"""Seconds between two checks: short next to every deadline, long next to a check."""


def wait_until(condition: Callable[[], object], timeout: float = 20.0, *, what: str = "") -> None:
    """Poll `condition` from a synchronous test until it is truthy."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or condition}")
        time.sleep(POLL)


async def until(condition: Callable[[], object | Awaitable[object]], timeout: float = 20.0, *,
                what: str = "") -> None:
    """`wait_until` for async tests: `condition` may be a coroutine function; the loop runs
    between checks."""
    deadline = time.monotonic() + timeout
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or condition}")
        await asyncio.sleep(POLL)
