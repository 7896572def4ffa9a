"""Failed attempts made visible: a log line per queue and time window, and the last error.

Called by `channels.dispatching` after every attempt that failed. Two throttles per
queue keep this off the hot path and out of the way of a flood:
- the log: the first failure of a queue is logged at once (WARNING), then at most one
  line per `DeliverySettings.failure_log_interval`, which counts the lines held back. At
  DEBUG every attempt is logged instead. Each line says the status code (or the transport
  error), the destination, the attempt, and when the next retry is due or where the event
  went;
- the last error (`channels.deadletters.last_error`), written with the attempt's outcome
  in its transaction at most once per second per queue (`ripple describe` shows it), and
  always with a final failure.
A success costs nothing here: only failures call in.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from channels import outcomes
from channels.identities import TargetKey

log = logging.getLogger("channels.dispatching")

LAST_ERROR_INTERVAL = 1.0
"""Seconds between two writes of one queue's last error while it keeps failing."""


class Throttle:
    """Lets the first call through, then at most one per `interval`; counts the others."""

    __slots__ = ("interval", "_next", "_held")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = -math.inf
        self._held = 0

    def admit(self, now: float) -> int | None:
        """None: hold this one back; else how many were held back since the last admitted."""
        if now < self._next:
            self._held += 1
            return None
        held, self._held = self._held, 0
        self._next = now + self.interval
        return held


def where_next(outcome: outcomes.Outcome, now: float, *, store: bool) -> str:
    """What happens after a failed attempt, in words: the next retry's time, or where the
    event goes."""
    if outcome.action == "retry":
        return datetime.fromtimestamp(now + outcome.delay, UTC).isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
    if outcome.action == "dead-letter":
        return "dead-letter sink"
    return "dead-letter store" if store else "dropped"


class FailureLog:
    """The log throttle of one queue."""

    def __init__(self, key: TargetKey, interval: float) -> None:
        self.key = key
        self._throttle = Throttle(interval)

    def attempt_failed(self, *, event_id: object, url: str, outcome: outcomes.Outcome,
                       attempt: int, attempts: int, now: float, monotonic: float,
                       store: bool) -> None:
        debug = log.isEnabledFor(logging.DEBUG)
        held = None if debug else self._throttle.admit(monotonic)
        if not debug and held is None:
            return
        extra = {"queue": str(self.key), "id": event_id,
                 "code": outcome.code, "reason": outcome.reason,
                 "destination": outcomes.sanitize_destination(url),
                 "attempt": f"{attempt}/{attempts}", "next": where_next(outcome, now, store=store)}
        if held:
            extra["suppressed"] = held
        message = "delivery attempt failed" + (
            "; retrying" if outcome.action == "retry" else "; no retries left")
        log.log(logging.DEBUG if debug else logging.WARNING, message, extra=extra)
