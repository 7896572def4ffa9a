"""W3C Trace Context `traceparent` values for the CloudEvents distributed-tracing extension.

The broker ingress keeps an event's existing `traceparent` (the OpenTelemetry CloudEvents
conventions forbid changing it) and gives one to events that arrive without; the delivery
engine derives the traceparent of each outgoing request with `child_traceparent`, so the
subscriber's span hangs under the broker's. Format, version 00:
`00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`, lower-case, ids not all zero.
"""

from __future__ import annotations

import random
from collections.abc import Callable

VERSION = "00"
SAMPLED = "01"
_HEX = frozenset("0123456789abcdef")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


def is_valid_traceparent(value: object) -> bool:
    """Whether `value` parses as a traceparent (future versions by their 00 prefix)."""
    if not isinstance(value, str) or len(value) < 55:
        return False
    version, trace_id, span_id, flags = value[:2], value[3:35], value[36:52], value[53:55]
    if value[2] != "-" or value[35] != "-" or value[52] != "-":
        return False
    if not _HEX.issuperset(version + trace_id + span_id + flags) or version == "ff":
        return False
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return False
    # Version 00 is exactly 55 characters; a later version may append "-" fields.
    if version == VERSION:
        return len(value) == 55
    return len(value) == 55 or value[55] == "-"


def new_traceparent(*, sampled: bool = True, rng: random.Random | None = None) -> str:
    """A traceparent that starts a new trace. `rng` is for tests; ids need no secrecy.
    Both ids come from one 192-bit draw (one call and one format: the ingress gives most
    events theirs)."""
    getrandbits = (rng or random).getrandbits
    ids = f"{getrandbits(192):048x}"
    while ids[:32] == _ZERO_TRACE or ids[32:] == _ZERO_SPAN:  # all-zero ids are invalid
        ids = f"{getrandbits(192):048x}"
    return f"{VERSION}-{ids[:32]}-{ids[32:]}-{SAMPLED if sampled else '00'}"


def child_traceparent(parent: str | None, *, rng: random.Random | None = None) -> str:
    """Same trace and flags as `parent`, a new span id; a new trace when `parent` is unusable."""
    if parent is None or not is_valid_traceparent(parent):
        return new_traceparent(rng=rng)
    getrandbits = (rng or random).getrandbits
    # We speak version 00 only, so a later version is downgraded as the spec asks.
    return f"{VERSION}-{parent[3:35]}-{_span_id(getrandbits):016x}-{parent[53:55]}"


def _span_id(getrandbits: Callable[[int], int]) -> int:
    return getrandbits(64) or 1
