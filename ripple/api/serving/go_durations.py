"""Go's `time.ParseDuration` (`40s`, `1m5s`, `1h`, `1.5h`, `300ms`), in seconds. Pure.

Knative writes every autoscaling duration this way: the `autoscaling.knative.dev/window`,
`scale-down-delay` and `scale-to-zero-pod-retention-period` annotations, and the
`config-autoscaler` keys `stable-window`, `scale-to-zero-grace-period`, ... (they are read
with `time.ParseDuration`). Not ISO 8601: those are `ripple.api.durations`.

Called by `annotation_validation` and `autoscaler_config`.
"""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
          "h": 3600.0}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse(text: str) -> float:
    """Seconds; ValueError with Go's wording for anything `time.ParseDuration` refuses."""
    original = text
    sign = 1.0
    if text[:1] in ("-", "+"):
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        raise ValueError(f'time: invalid duration "{original}"')
    total = 0.0
    position = 0
    while position < len(text):
        match = _PART.match(text, position)
        if match is None:
            if re.match(r"(\d+\.?\d*|\.\d+)", text[position:]) and not re.search(
                    r"[a-zµμ]", text[position:]):
                raise ValueError(f'time: missing unit in duration "{original}"')
            raise ValueError(f'time: invalid duration "{original}"')
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    return sign * total


def whole_seconds(seconds: float) -> bool:
    """Go's `d.Round(time.Second) == d`, the "at most second precision" rule."""
    return abs(seconds - round(seconds)) < 1e-9


def format_seconds(seconds: float) -> str:
    """Go's `Duration.String` for the durations Knative's messages show (`6s`, `1h0m0s`)."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:g}s"
    if hours:
        return f"{sign}{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{sign}{int(minutes)}m{text}"
    return f"{sign}{text}"
