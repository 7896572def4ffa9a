"""How long a Broker keeps its log for replay: the `ripple.dev/retention` annotation.

Read by the broker plane (the fan-out trims the log by age) and validated at apply time by
`broker_validation`. The value is a Go duration (`24h`, `90m`, `0` for none), as every
duration annotation Knative users write (`ripple.api.serving.go_durations`). Pure.
"""

from __future__ import annotations

from typing import Any

from ripple.api import fields, meta
from ripple.api.serving import go_durations
from ripple.errors import FieldError

ANNOTATION = "ripple.dev/retention"
PATH = fields.key("metadata.annotations", ANNOTATION)
MAX = 30 * 86_400.0
"""A month: past that a log is a database, not a replay window."""


def parse(text: str) -> float:
    """Seconds of a retention (`24h`, `10m`, `0`); ValueError saying what is wrong."""
    seconds = go_durations.parse(text.strip())
    if seconds < 0:
        raise ValueError(f"must not be negative, got {text!r}")
    if seconds > MAX:
        raise ValueError(f"must be at most 720h (30 days), got {text!r}")
    return seconds


def of(broker: dict[str, Any], default: float) -> float:
    """The Broker's retention in seconds: its annotation, else `default` (`ripple up`'s)."""
    value = meta.annotations_of(broker).get(ANNOTATION)
    if value is None:
        return default
    try:
        return parse(str(value))
    except ValueError:
        return default  # refused at apply time; a stored one predates the rule


def validate(broker: dict[str, Any]) -> fields.Errors:
    value = meta.annotations_of(broker).get(ANNOTATION)
    if value is None:
        return []
    try:
        parse(str(value))
    except ValueError as exc:
        return [FieldError(PATH, f"invalid value {value!r}: {exc}; a duration such as 24h or 30m")]
    return []
