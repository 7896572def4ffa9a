"""The bounds of Ripple's dead-letter store, per Trigger, Subscription or source.

Ripple keeps every event that failed for good in a dead-letter store (`channels.deadletters`):
one bounded stream per Trigger, Subscription or source. Its bounds come from `ripple up`'s
settings (`ripple.settings.DeadLetterSettings`), and a resource may set its own with two
annotations in Ripple's `ripple.dev/` extension space:

    ripple.dev/dead-letter-max-entries: "10000"   entries kept (oldest go first); 0: keep none
    ripple.dev/dead-letter-retention: "7d"         how long an entry is kept: a Go duration
                                                   (`36h`, `90m`) or whole days (`7d`)

Called by `trigger_validation` and `subscription_validation` (admission, so a bad value is
refused at apply time naming the annotation), and by the data-plane planes through `of`.
Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ripple.api import fields, meta
from ripple.api.serving import go_durations
from ripple.errors import FieldError

MAX_ENTRIES = "ripple.dev/dead-letter-max-entries"
RETENTION = "ripple.dev/dead-letter-retention"

_DAYS = re.compile(r"([0-9]+)d")
DAY = 86_400.0


@dataclass(frozen=True)
class Bounds:
    max_entries: int
    """Entries kept per store stream; the oldest are trimmed first. 0 keeps none."""
    retention: float
    """Seconds an entry is kept."""


def parse_retention(text: str) -> float:
    """Seconds in `7d` (whole days) or a Go duration (`36h`); ValueError otherwise."""
    days = _DAYS.fullmatch(text)
    seconds = int(days.group(1)) * DAY if days else go_durations.parse(text)
    if seconds <= 0:
        raise ValueError("must be positive")
    return seconds


def parse_max_entries(text: str) -> int:
    if not text.isdigit():
        raise ValueError("must be a whole number, 0 or more")
    return int(text)


def validate(obj: dict[str, Any]) -> fields.Errors:
    annotations = meta.annotations_of(obj)
    errs: fields.Errors = []
    for name, parse, rule in ((MAX_ENTRIES, parse_max_entries, "a whole number such as 10000"),
                              (RETENTION, parse_retention, "a duration such as 7d, 36h or 90m")):
        value = annotations.get(name)
        if not isinstance(value, str):
            continue  # absent, or not a string, which `meta.validate` reports
        try:
            parse(value)
        except ValueError:
            errs.append(FieldError(fields.key("metadata.annotations", name),
                                   f'invalid value "{value}": must be {rule}'))
    return errs


def of(obj: dict[str, Any], default: Bounds) -> Bounds:
    """The bounds an admitted resource asks for, each falling back to `default`."""
    annotations = meta.annotations_of(obj)
    max_entries, retention = default.max_entries, default.retention
    try:
        max_entries = parse_max_entries(str(annotations[MAX_ENTRIES]))
    except (KeyError, ValueError):
        pass
    try:
        retention = parse_retention(str(annotations[RETENTION]))
    except (KeyError, ValueError):
        pass
    return Bounds(max_entries, retention)
