"""The Redis-stream record form of an event: what the ingress XADDs and the dispatcher reads.

The broker ingress calls `to_record` once per accepted event (the hot path); the delivery
engine calls `from_record` on every entry it reads. The form is deliberately small: one
field `a` with the attributes as compact JSON (their str/int/bool types survive) and one
field `d` with the data bytes as they are, absent when the event has no data, so an empty
payload and a missing one stay distinct. Records are not validated again on the way out:
only validated events are ever written.

`type`, `source` and `id` are also written on their own, as fields `t`, `s` and `i`, for the
broker fan-out and the trace record it writes of each entry: `RecordAttributes` serves them
from there, so a filter index that buckets on them, and the trace, read an entry without
parsing `a` (a `json.loads` per entry was the fan-out's largest
cost). Entries written before these fields existed lack them and are parsed instead.

`h` holds the request headers Knative passes through (`pkg/utils/headers.go`
`PassThroughHeaders`: `x-request-id`, `retry-after`, `knative-*`, `x-b3-*`) as compact
JSON, absent when there are none: the ingress stores the producer's, and every delivery
attempt of the entry sends them again. A reply on its way to a Subscription's `replyUri`
also keeps the event it answers, as `oa`/`od` (the original's `a`/`d`), for the
dead-letter sink if the reply cannot be delivered.

This module is the one schema of a stream entry: every field name the Python code or a Lua
script reads or writes is declared below (`FIELDS`), with the phase values. The delivery
engine (`channels.dispatching`, `channels.queues`) adds `n` (retries done) and `p` (the
phase: `dl` once bound for the dead-letter sink, `rp` for a reply on its way to a
Subscription's replyUri); the Lua scripts that name a field take it from here, and
`tests/unit/test_entry_schema.py` checks that they name no other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from ripple.cloudevents import event as events
from ripple.cloudevents.jsonformat import flat_json

ATTRIBUTES = b"a"
DATA = b"d"
TYPE = b"t"
SOURCE = b"s"
ID = b"i"
"""The event's id on its own, like `t` and `s`: the fan-out's trace record reads it there."""
HEADERS = b"h"
"""The pass-through request headers, compact JSON (absent: none)."""
ORIGINAL_ATTRIBUTES = b"oa"
ORIGINAL_DATA = b"od"
"""A reply entry's original event (`a`/`d`), for its dead-letter sink."""
RETRIES = b"n"
"""Retries done so far (absent: none); `channels.queues.promote` re-adds an entry with n+1."""
PHASE = b"p"
"""Where the entry is bound (absent: the subscriber)."""
DEAD_LETTER = b"dl"
"""The value of `PHASE` once the entry is bound for the dead-letter sink."""
REPLY = b"rp"
"""The value of `PHASE` for a reply on its way to a Subscription's replyUri."""
DESTINATION = b"u"
"""A redriven entry's own destination (`ripple dlq redrive --to`), in place of the subscriber."""
ROUTED = b"r"
"""Set (to `1`) on a broker log entry whose ingress already copied it to the queue of every
Trigger it matched (`channels.appending`): the fan-out acknowledges it without copying.
Only in the log: the queue copies do not carry it."""

# -- an entry of Ripple's dead-letter store (`channels.deadletters`) ---------------------
# It keeps the failed event's own fields (`a`, `d`, `h`, `t`, `s`, `i`: what a redrive puts back
# in the queue) and what Knative's dead-letter sink would have been told, plus Ripple's own.
ERROR_CODE = b"ec"
"""`knativeerrorcode`: the last HTTP status (500 for no response)."""
ERROR_DESTINATION = b"ed"
"""`knativeerrordest`: the sanitised URL that failed."""
ERROR_DATA = b"ex"
"""`knativeerrordata`: the failed response's body, base64, truncated (absent: empty)."""
ERROR_REASON = b"er"
"""Why the event is here, in words: `HTTP 500`, a transport error, a refused reply."""
ATTEMPTS = b"na"
"""Attempts made before the event was dead-lettered."""
TARGET = b"tg"
"""Whose store it is: `Kind/namespace/name` (`channels.identities.TargetKey`)."""
EVENT_FIELDS = frozenset({ATTRIBUTES, DATA, HEADERS, TYPE, SOURCE, ID})
"""The fields of an entry that are the event itself: what a redrive copies back."""
DEAD_LETTER_FIELDS = frozenset({ERROR_CODE, ERROR_DESTINATION, ERROR_DATA, ERROR_REASON,
                                ATTEMPTS, TARGET})
FIELDS = frozenset({ATTRIBUTES, DATA, TYPE, SOURCE, ID, HEADERS, ORIGINAL_ATTRIBUTES, ORIGINAL_DATA,
                    RETRIES, PHASE, DESTINATION, ROUTED, *DEAD_LETTER_FIELDS})
"""Every field name a stream entry may carry (a queue's, or the dead-letter store's)."""

Fields = dict[bytes, bytes]
"""A stream entry's fields by name: what `to_record` makes, XADD writes and redis-py reads
back (Ripple's client leaves replies undecoded). The one type of a record, wherever one is
made, appended, read or re-enqueued."""

_OWN_FIELDS = {"type": TYPE, "source": SOURCE, "id": ID}

_PASS_THROUGH = frozenset(("x-request-id", "retry-after"))
_PASS_THROUGH_PREFIXES = ("knative-", "x-b3-")


def pass_through(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers Knative forwards (`PassThroughHeaders`), from names already lower-cased.
    Raw `ce-*` headers are not among them: they are regenerated from the event."""
    passed = {}
    for name in headers:
        # the first-letter test spares most headers the set and prefix tests (4x faster)
        if name[:1] in "xkr" and (name in _PASS_THROUGH or name.startswith(_PASS_THROUGH_PREFIXES)):
            passed[name] = headers[name]
    return passed


def to_record(
    event: events.CloudEvent, headers: Mapping[str, str] | None = None
) -> Fields:
    """The stream entry's fields for one event, with the pass-through `headers` it came with."""
    attributes = event.attributes
    record: Fields = {ATTRIBUTES: flat_json(attributes).encode("utf-8")}
    if event.data is not None:
        record[DATA] = event.data
    if headers:
        record[HEADERS] = flat_json(headers).encode("utf-8")
    for name, field in _OWN_FIELDS.items():
        value = attributes.get(name)
        if isinstance(value, str):  # anything else is read from `a`, with its JSON type
            record[field] = value.encode("utf-8")
    return record


def from_record(fields: Fields) -> events.CloudEvent:
    """The event of one stream entry (the inverse of `to_record`)."""
    attributes = json.loads(fields[ATTRIBUTES])
    return events.CloudEvent(attributes, fields.get(DATA))


def headers_of(fields: Fields) -> dict[str, str]:
    """The pass-through headers stored with an entry; none for entries written before."""
    raw = fields.get(HEADERS)
    return json.loads(raw) if raw else {}


def with_original(record: Fields, original: Fields) -> Fields:
    """`record` (a reply) keeping the event it answers, taken from that event's entry."""
    record[ORIGINAL_ATTRIBUTES] = original[ATTRIBUTES]
    if DATA in original:
        record[ORIGINAL_DATA] = original[DATA]
    return record


def original_of(fields: Fields) -> events.CloudEvent:
    """The event a reply entry answers (see `with_original`)."""
    return events.CloudEvent(json.loads(fields[ORIGINAL_ATTRIBUTES]), fields.get(ORIGINAL_DATA))


def original_fields(fields: Fields) -> Fields:
    """The entry of the event a queue entry stands for: itself, or the original it keeps
    (a reply's, or a dead letter's on its way to the sink), with its pass-through headers."""
    if ORIGINAL_ATTRIBUTES not in fields:
        return {k: v for k, v in fields.items() if k in EVENT_FIELDS}
    attributes = json.loads(fields[ORIGINAL_ATTRIBUTES])
    record = to_record(events.CloudEvent(attributes, fields.get(ORIGINAL_DATA)))
    if HEADERS in fields and fields.get(PHASE) != REPLY:  # a reply's are the reply's own
        record[HEADERS] = fields[HEADERS]
    return record


class RecordAttributes(Mapping[str, object]):
    """The attributes of a stream entry, read lazily: `type` and `source` come from their
    own fields when the entry has them; any other name parses `a`, once."""

    __slots__ = ("_fields", "_parsed")

    def __init__(self, fields: Fields) -> None:
        self._fields = fields
        self._parsed: dict[str, object] | None = None

    def get(self, name: str, default: object = None) -> object:
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
