"""The Redis-stream record form: compact, typed, and the exact inverse of itself."""

from __future__ import annotations

import json

import pytest

from ripple import cloudevents as ce

BASE: dict[str, object] = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


@pytest.mark.parametrize(
    "event",
    [
        ce.CloudEvent(dict(BASE)),
        ce.CloudEvent(dict(BASE), b""),  # an empty payload is not a missing one
        ce.CloudEvent(BASE | {"datacontenttype": "application/json"}, b'{ "a": 1 }'),
        ce.CloudEvent(
            BASE | {"extint": -5, "extbool": True, "subject": "Euro € 😀"}, bytes(range(256))
        ),
    ],
)
def test_record_round_trip(event: ce.CloudEvent) -> None:
    record = ce.to_record(event)
    assert set(record) == ({b"a", b"d"} if event.data is not None else {b"a"})
    assert all(isinstance(v, bytes) for v in record.values())
    assert ce.from_record(record) == event


def test_record_attributes_are_compact_utf8_json() -> None:
    record = ce.to_record(ce.CloudEvent(BASE | {"subject": "é"}))
    assert (
        record[b"a"]
        == '{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":"é"}'.encode()
    )
    assert json.loads(record[b"a"])["subject"] == "é"


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        (
            {
                "ce-specversion": "1.0",
                "ce-id": "1",
                "ce-source": "/s",
                "ce-type": "t",
                "content-type": "text/plain",
            },
            b"hi",
        ),
        (
            {"content-type": "application/cloudevents+json"},
            b'{"specversion":"1.0","id":"1","source":"/s","type":"t","x":1}',
        ),
    ],
)
def test_from_http_to_record_and_back(headers: dict[str, str], body: bytes) -> None:
    [event] = ce.from_http(headers, body)
    assert ce.from_record(ce.to_record(event)) == event
