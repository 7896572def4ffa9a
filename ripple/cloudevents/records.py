"""The Redis-stream record form of an event: what the ingress XADDs and the dispatcher reads.

The broker ingress calls `to_record` once per accepted event (the hot path); the delivery
engine calls `from_record` on every entry it reads. The form is deliberately small: one
field `a` with the attributes as compact JSON (their str/int/bool types survive) and one
field `d` with the data bytes as they are, absent when the event has no data, so an empty
payload and a missing one stay distinct. Records are not validated again on the way out:
only validated events are ever written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ripple.cloudevents import event as events

ATTRIBUTES = b"a"
DATA = b"d"

# One encoder, built once: json.dumps builds a new one per call when given options.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def to_record(event: events.CloudEvent) -> dict[bytes, bytes]:
    """The stream entry's fields for one event."""
    record = {ATTRIBUTES: _ENCODE(event.attributes).encode("utf-8")}
    if event.data is not None:
        record[DATA] = event.data
    return record


def from_record(fields: Mapping[bytes, bytes]) -> events.CloudEvent:
    """The event of one stream entry (the inverse of `to_record`)."""
    attributes = json.loads(fields[ATTRIBUTES])
    return events.CloudEvent(attributes, fields.get(DATA))
