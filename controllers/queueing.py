"""A per-key work queue, as client-go's `workqueue` and Knative's controllers use it.

The drivers add the key of every object that changed, and the keys that depend on it; the
workers `get` a key, reconcile it, and say `done`. The queue guarantees what makes that
safe and cheap:
- a key waiting is queued once, however often it is added (a burst of changes to one
  object, or a thousand Triggers each touching their Broker, is one reconcile);
- a key is never handed to two workers at once; one added while it is being processed is
  queued again when `done` is called;
- `add_after` queues a key later (an object that waits for the world to change without a
  watch event), and `add_rate_limited` requeues a key that failed after a per-key
  exponential delay (`Backoff`), which `forget` resets after a success.

Single event loop, no threads. Called by `platforms.local.controller` (and the kopf
driver); `Backoff` is pure and tested as a table.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass
class Backoff(Generic[K]):
    """client-go's ItemExponentialFailureRateLimiter: `base × 2^failures`, capped."""

    base: float = 0.05
    cap: float = 30.0
    _failures: dict[K, int] = field(default_factory=dict)

    def when(self, key: K) -> float:
        """The delay before retrying `key` once more, counting this failure."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        return min(self.cap, self.base * 2 ** min(failures, 32))

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    def failures(self, key: K) -> int:
        return self._failures.get(key, 0)


class ShutDown(Exception):
    """`get` on a queue that was shut down."""


class WorkQueue(Generic[K]):
    def __init__(self, backoff: Backoff[K] | None = None) -> None:
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._getters: deque[asyncio.Future[None]] = deque()
        self._shutting_down = False
        self.backoff: Backoff[K] = backoff or Backoff()

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: K) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._wake()

    def add_after(self, key: K, delay: float) -> None:
        """Queue `key` in `delay` seconds; an earlier pending timer for it wins."""
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        pending = self._timers.get(key)
        due = loop.time() + delay
        if pending is not None and pending.when() <= due:
            return
        if pending is not None:
            pending.cancel()
        self._timers[key] = loop.call_at(due, self._fire, key)

    def add_rate_limited(self, key: K) -> None:
        self.add_after(key, self.backoff.when(key))

    def forget(self, key: K) -> None:
        self.backoff.forget(key)

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def _wake(self) -> None:
        """Wake one waiting worker, as asyncio.Queue does: no task per add."""
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)
                return

    async def get(self) -> K:
        """The next key to process; it stays "processing" until `done(key)`."""
        while not self._queue:
            if self._shutting_down:
                raise ShutDown()
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except asyncio.CancelledError:
                if getter.done() and not getter.cancelled():
                    self._wake()  # pass the wake-up on to another worker
                raise
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty:  # changed again while it was processed
            self._queue.append(key)
            self._wake()

    def shutdown(self) -> None:
        self._shutting_down = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)
