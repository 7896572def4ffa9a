"""ISO-8601 durations, the way Knative's DeliverySpec writes them (`PT0.2S`, `PT1M30S`, `P1D`).

Called by `duck` to validate `timeout`, `backoffDelay` and `retryAfterMax`, and by the
delivery engine (`channels`) to turn them into seconds for backoff and timeouts.

Knative parses these with `github.com/rickb777/date/period`. Years and months have no fixed
length, so, like that library's `DurationApprox`, a year counts 365.2425 days and a month
one twelfth of that. A leading `-` makes a negative duration; callers decide whether that is
allowed. Only the smallest unit given may carry a fraction, as ISO 8601 says.
"""

from __future__ import annotations

import re

DAY = 86_400.0
YEAR = 365.2425 * DAY
MONTH = YEAR / 12
WEEK = 7 * DAY

_NUMBER = r"\d+(?:[.,]\d+)?"
_PATTERN = re.compile(
    rf"""
    (?P<sign>[-+])?P
    (?:(?P<years>{_NUMBER})Y)?
    (?:(?P<months>{_NUMBER})M)?
    (?:(?P<weeks>{_NUMBER})W)?
    (?:(?P<days>{_NUMBER})D)?
    (?:T
        (?:(?P<hours>{_NUMBER})H)?
        (?:(?P<minutes>{_NUMBER})M)?
        (?:(?P<seconds>{_NUMBER})S)?
    )?
    """,
    re.VERBOSE,
)
_UNITS = (
    ("years", YEAR),
    ("months", MONTH),
    ("weeks", WEEK),
    ("days", DAY),
    ("hours", 3600.0),
    ("minutes", 60.0),
    ("seconds", 1.0),
)
_EXAMPLES = "e.g. PT0.2S, PT1M30S, P1D or P1DT12H"


def parse_duration(text: object) -> float:
    """Seconds in an ISO-8601 duration; ValueError saying what is wrong otherwise."""
    if not isinstance(text, str):
        # ValueError, not TypeError: callers validating a manifest catch one error type.
        raise ValueError(  # noqa: TRY004
            f"an ISO-8601 duration must be a string ({_EXAMPLES}), got {text!r}"
        )
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an ISO-8601 duration ({_EXAMPLES})")
    given = [(name, match.group(name), size) for name, size in _UNITS if match.group(name)]
    if not given:
        raise ValueError(f"{text!r} is not an ISO-8601 duration: it names no unit ({_EXAMPLES})")
    if "T" in text and not any(match.group(n) for n in ("hours", "minutes", "seconds")):
        raise ValueError(f"{text!r} is not an ISO-8601 duration: nothing follows T ({_EXAMPLES})")
    for name, value, _ in given[:-1]:
        if "." in value or "," in value:
            raise ValueError(
                f"{text!r} is not an ISO-8601 duration: only the smallest unit may have a "
                f"fraction, not {name}"
            )
    seconds = sum(float(value.replace(",", ".")) * size for _, value, size in given)
    return -seconds if match.group("sign") == "-" else seconds


def is_duration(text: object) -> bool:
    """True when `text` parses as an ISO-8601 duration."""
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True
