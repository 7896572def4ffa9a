"""Adaptive concurrency of one delivery queue: how many attempts may run at once.

Pure. `channels.dispatching` keeps one `Limit` per unordered queue, starts a new attempt
only while fewer than `limit` run, and reports every attempt's answer. The rule is AIMD,
TCP's congestion control applied to deliveries:

- congestion halves the limit, down to `floor`;
- any other answer adds one, up to `ceiling` (`max_in_flight`), but only while the queue
  uses at least half of its limit, so an idle queue's limit does not drift up unused;
- a queue starts at the floor. Since each answer adds one, a queue with a backlog doubles
  its limit every round trip (TCP's slow start): a healthy subscriber is at the ceiling
  within about five round trips.

Why: an attempt that hangs costs its whole timeout. A queue whose subscriber hung used to
hold all `max_in_flight` attempts open, and each slot freed by a timeout was refilled at
once, so the attempts stayed in step and timed out together: 64 timeouts, 64 retry writes
and 64 new connections in one burst, which stalled the process's event loop for up to a
quarter of a second and so delayed every other queue (R7,
tests/reliability/test_isolation.py). Under AIMD such a queue falls to the floor after a
few timeouts and keeps only that many attempts open; its backlog waits in Redis, and its
successes raise the limit again as soon as the subscriber answers. A queue at the ceiling
whose subscriber then hangs still times out once with every attempt it holds, but frees no
slot for a new one, and `channels.queues` writes those outcomes in one coalesced round
trip. Timeouts need no jitter: once freed slots are not refilled, nothing keeps attempts
in step.

Congestion is what says "send less": no answer at all (a timeout or a failed connection,
where an attempt costs this process the most), 429 (too many requests), 503 (what
Knative's queue-proxy and activator answer when a revision is overloaded) and 504 (a
gateway in front timed out, the same signal as our own timeout). Any other answer, a 500
or a 4xx included, came back promptly and is about the event, not the load: it counts as
a success here (the retry policy still decides what happens to the event). Where a
fraction p of attempts congests, the limit saws between about (1 - p)/p and 2(1 - p)/p:
19 to 38 at 5%, 4 to 8 at 20%.

The floor is 2, not 1, so one event that always hangs (a poison event being retried)
cannot hold the whole queue for its timeout: the other slot keeps delivering.
"""

from __future__ import annotations

FLOOR = 2

CONGESTION_CODES = frozenset({429, 503, 504})


def congested(status: int | None) -> bool:
    """Whether an attempt's answer (None: no answer at all) is a congestion signal."""
    return status is None or status in CONGESTION_CODES


class Limit:
    """The in-flight limit of one queue."""

    def __init__(self, ceiling: int, floor: int = FLOOR) -> None:
        self.floor = min(floor, ceiling)
        self.ceiling = ceiling
        self.limit = self.floor

    def on_success(self, in_flight: int) -> None:
        """An attempt was answered; `in_flight` counts the attempts running, itself included."""
        if 2 * in_flight >= self.limit:
            self.limit = min(self.ceiling, self.limit + 1)

    def on_failure(self) -> None:
        """An attempt met congestion."""
        self.limit = max(self.floor, self.limit // 2)

    def on_answer(self, status: int | None, in_flight: int) -> None:
        if congested(status):
            self.on_failure()
        else:
            self.on_success(in_flight)
