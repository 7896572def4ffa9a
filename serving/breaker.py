"""A replica's concurrency breaker: Knative queue-proxy's, in front of each replica.

Called by `serving.routing` for every proxied request (one `Breaker` per replica address).
Knative (`pkg/queue/breaker.go`, `cmd/queue/main.go buildBreaker`):

- `containerConcurrency` (CC) of 0 means no breaker: every request runs at once;
- otherwise CC requests run, `10 × CC` more wait in a queue (`QueueDepth`), and a request
  that finds all `11 × CC` slots taken is refused at once (`ErrRequestQueueFull`, which
  the router answers 503 with Retry-After);
- a waiting request whose deadline passes leaves the queue (503 as well, at the router).

`admit` is the decision, pure and table-tested. `Breaker` adds the waiting: a FIFO of
futures. A finished request hands its slot straight to the oldest waiter, so the running
count never dips and no newcomer can overtake a waiter (Knative's semaphore is a Go
channel, FIFO in practice). A waiter cancelled after it was handed a slot passes the slot
on, so a slot is never lost.
"""

from __future__ import annotations

import asyncio
import collections
import enum

QUEUE_FACTOR = 10
"""Queue depth per unit of containerConcurrency (queue-proxy's `10 × CC`)."""


class Admission(enum.Enum):
    RUN = "run"
    QUEUE = "queue"
    REJECT = "reject"


class Overloaded(Exception):
    """Every slot of the breaker is taken (Knative's `ErrRequestQueueFull`)."""


def queue_depth(concurrency: int) -> int:
    return QUEUE_FACTOR * concurrency


def admit(running: int, waiting: int, concurrency: int, depth: int) -> Admission:
    """What a request arriving now does. `concurrency` 0: unlimited."""
    if concurrency <= 0:
        return Admission.RUN
    if running < concurrency and waiting == 0:
        return Admission.RUN
    if waiting < depth:
        return Admission.QUEUE
    return Admission.REJECT


class Breaker:
    """`concurrency` running plus `depth` waiting (default 10 × concurrency)."""

    __slots__ = ("concurrency", "depth", "running", "_waiters")

    def __init__(self, concurrency: int, depth: int | None = None) -> None:
        self.concurrency = concurrency
        self.depth = queue_depth(concurrency) if depth is None else depth
        self.running = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def load(self) -> int:
        """Requests on this replica, running or waiting: what least-in-flight compares."""
        return self.running + len(self._waiters)

    async def acquire(self) -> None:
        """Take a slot, waiting in line if need be; `Overloaded` when the queue is full.
        Wrap it in a timeout for the request's deadline; a cancelled wait leaves the line."""
        decision = admit(self.running, len(self._waiters), self.concurrency, self.depth)
        if decision is Admission.RUN:
            self.running += 1
            return
        if decision is Admission.REJECT:
            raise Overloaded(f"{self.running} running and {len(self._waiters)} waiting "
                             f"(containerConcurrency {self.concurrency})")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as it was cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Give the slot back: to the oldest waiter if there is one."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves over; `running` stays
                return
        self.running -= 1
