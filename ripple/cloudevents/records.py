"""The Redis-stream record form of an event: what the ingress XADDs and the dispatcher reads.

The broker ingress calls `to_record` once per accepted event (the hot path); the delivery
engine calls `from_record` on every entry it reads. The form is deliberately small: one
field `a` with the attributes as compact JSON (their str/int/bool types survive) and one
field `d` with the data bytes as they are, absent when the event has no data, so an empty
payload and a missing one stay distinct. Records are not validated again on the way out:
only validated events are ever written.

`type` and `source` are also written on their own, as fields `t` and `s`, for the broker
fan-out: `RecordAttributes` serves them from there, so a filter index that buckets on them
matches an entry without parsing `a` (a `json.loads` per entry was the fan-out's largest
cost). Entries written before these fields existed lack them and are parsed instead.

This module is the one schema of a stream entry: every field name the Python code or a Lua
script reads or writes is declared below (`FIELDS`), with the phase values. The delivery
engine (`channels.dispatching`, `channels.queues`) adds `n` (retries done) and `p` (the
phase, `dl` once bound for the dead-letter sink); the Lua scripts that name a field take
it from here, and `tests/unit/test_entry_schema.py` checks that they name no other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from ripple.cloudevents import event as events

ATTRIBUTES = b"a"
DATA = b"d"
TYPE = b"t"
SOURCE = b"s"
RETRIES = b"n"
"""Retries done so far (absent: none); `channels.queues.promote` re-adds an entry with n+1."""
PHASE = b"p"
"""Where the entry is bound (absent: the subscriber)."""
DEAD_LETTER = b"dl"
"""The value of `PHASE` once the entry is bound for the dead-letter sink."""
FIELDS = frozenset({ATTRIBUTES, DATA, TYPE, SOURCE, RETRIES, PHASE})
"""Every field name a stream entry may carry."""
_OWN_FIELDS = {"type": TYPE, "source": SOURCE}

# One encoder, built once: json.dumps builds a new one per call when given options.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def to_record(event: events.CloudEvent) -> dict[bytes, bytes]:
    """The stream entry's fields for one event."""
    attributes = event.attributes
    record = {ATTRIBUTES: _ENCODE(attributes).encode("utf-8")}
    if event.data is not None:
        record[DATA] = event.data
    for name, field in _OWN_FIELDS.items():
        value = attributes.get(name)
        if isinstance(value, str):  # anything else is read from `a`, with its JSON type
            record[field] = value.encode("utf-8")
    return record


def from_record(fields: Mapping[bytes, bytes]) -> events.CloudEvent:
    """The event of one stream entry (the inverse of `to_record`)."""
    attributes = json.loads(fields[ATTRIBUTES])
    return events.CloudEvent(attributes, fields.get(DATA))


class RecordAttributes(Mapping[str, object]):
    """The attributes of a stream entry, read lazily: `type` and `source` come from their
    own fields when the entry has them; any other name parses `a`, once."""

    __slots__ = ("_fields", "_parsed")

    def __init__(self, fields: Mapping[bytes, bytes]) -> None:
        self._fields = fields
        self._parsed: dict[str, object] | None = None

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        parsed = self._parsed
        if parsed is None:
            own = _OWN_FIELDS.get(name)
            if own is not None:
                raw = self._fields.get(own)
                if raw is not None:
                    return raw.decode("utf-8")
            parsed = self._parse()
        return parsed.get(name, default)

    def __getitem__(self, name: str) -> object:
        value = self.get(name, _MISSING)
        if value is _MISSING:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return self.get(name, _MISSING) is not _MISSING  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parse())

    def __len__(self) -> int:
        return len(self._parse())

    def _parse(self) -> dict[str, object]:
        if self._parsed is None:
            self._parsed = json.loads(self._fields[ATTRIBUTES])
        return self._parsed


_MISSING = object()
