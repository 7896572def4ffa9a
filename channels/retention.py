"""Where the fan-out trims a log: behind the slowest pending entry, and no sooner than the
log's retention allows, up to a count. Pure; called by `channels.fanout` once a second.

A log keeps every entry the fan-out has not copied yet (whatever its age: that is the
backlog, bounded by the ingress's `max_backlog`). Behind the fan-out it keeps entries for
the retention window (`ripple.dev/retention` on a Broker, else `ripple up --retention`),
which `ripple event replay` reads, and never fewer seconds than `ripple event tail` needs.
The count bound (`max_retained`) holds whatever the window: once more entries than that
lie behind the fan-out, the oldest go. It is applied only while no batch is pending, since
XTRIM MAXLEN cannot tell a pending entry from an acknowledged one; with one worker the
fan-out's own batch is acknowledged before it trims, so that is nearly always.
"""

from __future__ import annotations

TAIL_MS = 5_000
"""What `ripple event tail` may still read behind the fan-out."""


def id_order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def after(entry_id: str) -> str:
    ms, seq = id_order(entry_id)
    return f"{ms}-{seq + 1}"


def trim_point(*, now_ms: int, retention_ms: int, position: str | None) -> str:
    """The MINID to trim to: the older of the window's start and the fan-out's `position`
    (its oldest pending entry, else the entry after its last read; None: nothing read)."""
    keep = f"{now_ms - max(retention_ms, TAIL_MS)}-0"
    if position is None:
        return keep
    return min(keep, position, key=id_order)


def count_cap(*, unread: int | None, pending: int, max_retained: int) -> int | None:
    """The MAXLEN that keeps at most `max_retained` entries behind the fan-out, or None when
    it cannot be applied safely (a batch pending, or the group's lag unknown)."""
    if unread is None or pending:
        return None
    return unread + max_retained
