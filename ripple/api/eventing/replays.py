"""A replay request: which events of a Broker's log go through its Triggers again.

Pure. The replay endpoint (`controllers.platforms.local.operations`) and `ripple event
replay` both parse with `parse_request`, so a bad `--since` is refused with the same
one-line message on either side. `since` and `until` are a Go duration before now (`10m`,
`1h30m`) or an RFC 3339 time (`2026-12-03T10:00:00Z`); `until` defaults to now.

A replay through a named Trigger still applies that Trigger's filter: a replay re-delivers
what the Trigger received (or would have), as re-reading a Kafka broker's Trigger from an
offset does; it never forces on a subscriber events it did not subscribe to. `type`
narrows the replay further. Each replayed event carries the extension `ripplereplay`, the
replay's id, so subscribers can tell a replayed event from the first delivery.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from ripple import errors
from ripple.api.serving import go_durations

EXTENSION = "ripplereplay"
MAX_AGO = 365 * 86_400.0
"""Further back than any retention (`retention.MAX` is a month) is a typo."""


@dataclass(frozen=True)
class ReplayRequest:
    namespace: str
    broker: str
    since: float
    """Epoch seconds of the oldest entry to replay."""
    until: float
    trigger: str | None = None
    type: str | None = None
    id: str = ""


def parse_moment(text: str, now: float, field: str) -> float:
    """Epoch seconds of `text`: a Go duration before `now`, or an RFC 3339 time."""
    value = text.strip()
    try:
        ago = go_durations.parse(value)
    except ValueError:
        pass
    else:
        if ago < 0:
            raise errors.Invalid(errors.FieldError(field, f"must not be negative, got {text!r}"))
        if ago > MAX_AGO:
            raise errors.Invalid(errors.FieldError(field, f"must be at most 8760h (a year) ago, got {text!r}"))
        return now - ago
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise errors.Invalid(errors.FieldError(
            field, f"invalid value {text!r}: a duration before now (10m, 1h30m) or an RFC 3339 "
                   "time (2026-12-03T10:00:00Z)")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def parse_request(namespace: str, body: Any, now: float) -> ReplayRequest:
    """The request of one replay, from the endpoint's JSON body; `errors.Invalid` naming
    the field otherwise."""
    if not isinstance(body, dict):
        raise errors.Invalid("the body must be a JSON object")
    unknown = sorted(set(body) - {"broker", "since", "until", "trigger", "type"})
    if unknown:
        raise errors.Invalid(errors.FieldError(unknown[0], "unknown field"))
    broker = body.get("broker")
    if not isinstance(broker, str) or not broker:
        raise errors.Invalid(errors.FieldError("broker", "required: the Broker's name"))
    since = body.get("since")
    if not isinstance(since, str) or not since:
        raise errors.Invalid(errors.FieldError("since", "required: e.g. 10m"))
    start = parse_moment(since, now, "since")
    until = body.get("until")
    end = now if until in (None, "") else parse_moment(_text(until, "until"), now, "until")
    if end < start:
        raise errors.Invalid(errors.FieldError("until", "must not be before since"))
    return ReplayRequest(namespace, broker, start, end,
                         trigger=_optional(body.get("trigger"), "trigger"),
                         type=_optional(body.get("type"), "type"),
                         id=f"replay-{uuid.uuid4().hex[:12]}")


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise errors.Invalid(errors.FieldError(field, f"must be a string, got {value!r}"))
    return value


def _optional(value: Any, field: str) -> str | None:
    if value in (None, ""):
        return None
    return _text(value, field)
