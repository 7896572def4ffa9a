"""What the broker ingress adds to every event it accepts (Knative's `pkg/broker/ttl.go`
and `pkg/broker/metrics.go`), and the hop count of replies.

Pure; called by the broker ingress for each event and by the reply path of a trigger.
- `knativebrokerttl`: set to the default (255) when absent, else decremented; an event
  that arrives with no hops left is refused with 400, which ends reply loops. A Trigger's
  reply refused so fails its delivery, as Knative's ingress refusing it does: the original
  goes to the Trigger's dead-letter sink (`broker.plane`).
- `knativearrivaltime`: when the broker accepted the event (RFC 3339).
- `traceparent`: kept when the producer set one (the OTel CloudEvents conventions forbid
  changing it); else taken from the request's W3C header, else a new trace starts here, so
  every accepted event can be followed to its subscribers.
"""

from __future__ import annotations

import time
from typing import Mapping

from ripple import cloudevents as ce
from ripple import errors
from ripple.cloudevents import tracing

TTL = "knativebrokerttl"
ARRIVAL = "knativearrivaltime"


def remaining_hops(event: ce.CloudEvent, default: int) -> int:
    value = event.attributes.get(TTL)
    if value is None:
        return default
    try:
        return int(str(value))
    except ValueError:
        raise errors.Invalid(errors.FieldError(TTL, f"must be an integer, got {value!r}")) from None


def stamp(
    event: ce.CloudEvent, headers: Mapping[str, str], *, default_ttl: int, now_ns: int
) -> ce.CloudEvent:
    """`now_ns`: the arrival, in ns since the epoch (`time.time_ns()`)."""
    hops = remaining_hops(event, default_ttl + 1) - 1
    if hops <= 0:
        raise errors.Invalid(errors.FieldError(TTL, "the event has no hops left (a reply loop?)"))
    attributes = event.attributes
    attributes[TTL] = hops
    attributes[ARRIVAL] = rfc3339(now_ns)
    if "traceparent" not in attributes:
        header = headers.get("traceparent")
        attributes["traceparent"] = (
            header if header and tracing.is_valid_traceparent(header) else tracing.new_traceparent()
        )
    return event


def rfc3339(epoch_ns: int) -> str:
    """`epoch_ns` (ns since the epoch) in UTC with microseconds and a Z:
    `2024-05-01T12:00:00.000123Z`. The text up to the second is kept from the previous
    call within the same second: a datetime per event, `astimezone` and `isoformat` cost
    about 5 µs per event at the ingress, this about 1."""
    global _second
    seconds, micros = divmod(epoch_ns // 1000, 1_000_000)
    last, prefix = _second
    if seconds != last:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds))
        _second = (seconds, prefix)
    return f"{prefix}{micros:06d}Z"


_second: tuple[int, str] = (-1, "")


def reply_hops(original: ce.CloudEvent, default_ttl: int) -> int:
    """The TTL a reply carries back into the broker: the original's, as Knative re-attaches
    it; the ingress path (`stamp`) then takes one hop off."""
    return remaining_hops(original, default_ttl)
