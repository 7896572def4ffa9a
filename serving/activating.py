"""The activator: requests to a revision with no ready replica wait here (issue #10 item 5).

Called by `serving.routing` when a revision it chose has no ready replica, and by whoever
learns that a replica became ready (the revision runtime, through
`Router.replica_ready`). After Knative's activator (`pkg/activator/handler/handler.go`,
`pkg/activator/net/throttler.go`):

- requests wait per revision, in arrival order, up to `depth` of them (Knative's
  `breakerQueueDepth`, 10,000); one more is refused at once: `Overloaded`, which the
  router answers 503 with Retry-After ("pending request queue full");
- the first request to wait for a revision pokes the autoscaler (the `poke` callback,
  with the revision's key) so it scales from zero now rather than at its next tick;
  Knative gets the same effect from the activator's immediate first-request stat;
- `replica_ready(revision, endpoint)` releases every waiter, oldest first, each with the
  endpoint that became ready; the router then takes it through the replica's breaker;
- a waiter whose deadline passes (the request's timeout) gets `TimeoutError`, answered
  503: Knative's handler maps `context.DeadlineExceeded` from `throttler.Try` to 503, not
  504, since the request never reached a replica;
- `revision_gone(revision)` fails the waiters of a deleted revision (`Gone`, 503 at the
  router as well: no replica will come).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Hashable

QUEUE_DEPTH = 10_000
"""Requests buffered per revision (Knative's `breakerQueueDepth`)."""


class Overloaded(Exception):
    """The revision's buffer is full."""


class Gone(Exception):
    """The revision went away while requests waited for it."""


class Activator:
    def __init__(self, poke: Callable[[Hashable], None], *, depth: int = QUEUE_DEPTH) -> None:
        self.poke = poke
        self.depth = depth
        self._waiters: dict[Hashable, collections.deque[asyncio.Future[str]]] = {}

    def waiting(self, revision: Hashable) -> int:
        queue = self._waiters.get(revision)
        return len(queue) if queue else 0

    async def wait(self, revision: Hashable, timeout: float | None) -> str:
        """The endpoint of the first replica of `revision` to become ready.

        `Overloaded` at once when `depth` requests wait already; `TimeoutError` after
        `timeout` seconds (None: no limit); `Gone` when the revision is deleted meanwhile.
        """
        queue = self._waiters.get(revision)
        if queue is None:
            queue = self._waiters[revision] = collections.deque()
        if len(queue) >= self.depth:
            raise Overloaded(f"{len(queue)} requests already wait for a replica")
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        if len(queue) == 1:
            self.poke(revision)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        finally:
            if not waiter.done() or waiter.cancelled():
                self._forget(revision, waiter)

    def _forget(self, revision: Hashable, waiter: asyncio.Future[str]) -> None:
        queue = self._waiters.get(revision)
        if queue is None:
            return
        try:
            queue.remove(waiter)
        except ValueError:
            pass
        if not queue:
            del self._waiters[revision]

    def replica_ready(self, revision: Hashable, endpoint: str) -> int:
        """Release every request waiting for `revision`, oldest first; how many."""
        queue = self._waiters.pop(revision, None)
        released = 0
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(endpoint)
                released += 1
        return released

    def revision_gone(self, revision: Hashable) -> None:
        queue = self._waiters.pop(revision, None)
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_exception(Gone(f"revision {revision} was deleted"))
