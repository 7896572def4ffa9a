"""A fake clock for code that takes `clock=` and `sleep=` (e.g. `sources.ping.scheduler`).

Time passes only when the code under test sleeps: `sleep(d)` moves the clock `d` seconds on
at once and lets the event loop run other tasks, so a schedule of ticks a second apart
runs as fast as the code can go, and every wait is one the code asked for.
"""

from __future__ import annotations

import asyncio


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start
        self.slept: list[float] = []
        """Every delay asked for, in order."""

    def time(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)
        self.now += max(0.0, delay)
        await asyncio.sleep(0)  # a turn of the loop, as a real sleep gives; no real time
