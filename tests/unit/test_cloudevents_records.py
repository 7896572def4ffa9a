"""The Redis-stream record form: compact, typed, and the exact inverse of itself."""

from __future__ import annotations

import json

import pytest

from ripple import cloudevents as ce
from ripple.cloudevents import records

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
    assert set(record) == ({b"a", b"d", b"t", b"s", b"i"} if event.data is not None else {b"a", b"t", b"s", b"i"})
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


def test_type_and_source_have_their_own_fields() -> None:
    record = ce.to_record(ce.CloudEvent(BASE | {"type": "com.example.é", "source": "/s/ü"}))
    assert record[b"t"] == "com.example.é".encode() and record[b"s"] == "/s/ü".encode()


def test_record_attributes_serve_type_and_source_without_parsing() -> None:
    # `a` is not JSON at all: reading type and source must not touch it
    fields = {b"a": b"not json", b"t": b"com.example", b"s": b"/s"}
    attributes = records.RecordAttributes(fields)
    assert attributes.get("type") == "com.example" and attributes["source"] == "/s"
    assert "type" in attributes
    with pytest.raises(json.JSONDecodeError):
        attributes.get("subject")


def test_record_attributes_parse_everything_else_once() -> None:
    event = ce.CloudEvent(BASE | {"subject": "x", "extint": 5, "extbool": True})
    attributes = records.RecordAttributes(ce.to_record(event))
    assert attributes.get("subject") == "x"
    assert attributes["extint"] == 5 and attributes.get("extbool") is True
    assert attributes.get("missing") is None and attributes.get("missing", 7) == 7
    assert "missing" not in attributes
    with pytest.raises(KeyError):
        attributes["missing"]
    assert dict(attributes) == event.attributes and len(attributes) == len(event.attributes)


def test_entries_written_without_the_own_fields_are_parsed() -> None:
    """Entries an older Ripple wrote have only `a` (and `d`)."""
    old = {b"a": b'{"specversion":"1.0","id":"1","source":"/old","type":"t.old"}'}
    attributes = records.RecordAttributes(old)
    assert attributes.get("type") == "t.old" and attributes.get("source") == "/old"
    assert ce.from_record(old).type == "t.old"


@pytest.mark.parametrize(
    "headers, passed",
    [
        # pkg/utils/headers.go PassThroughHeaders: x-request-id, retry-after, knative-*, x-b3-*
        ({"x-request-id": "r1", "content-type": "text/plain"}, {"x-request-id": "r1"}),
        ({"knative-foo": "a", "x-b3-traceid": "t", "retry-after": "5"},
         {"knative-foo": "a", "x-b3-traceid": "t", "retry-after": "5"}),
        ({"ce-id": "1", "ce-knativefoo": "x", "authorization": "Bearer s", "host": "h"}, {}),
        ({"x-request-idx": "no", "xknative-foo": "no"}, {}),
        ({}, {}),
    ],
)
def test_pass_through(headers: dict[str, str], passed: dict[str, str]) -> None:
    assert records.pass_through(headers) == passed


def test_pass_through_headers_are_stored_with_the_event() -> None:
    event = ce.CloudEvent({"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, b"x")
    record = ce.to_record(event, {"x-request-id": "r1", "knative-foo": "ü"})
    assert record[records.HEADERS] == '{"x-request-id":"r1","knative-foo":"ü"}'.encode()
    assert records.headers_of(record) == {"x-request-id": "r1", "knative-foo": "ü"}
    assert records.HEADERS not in ce.to_record(event, {})  # none: no field
    assert records.headers_of(ce.to_record(event)) == {}
    assert ce.from_record(record).attributes == event.attributes


@pytest.mark.parametrize("data", [b'{"a": 1}', None, b""])
def test_a_reply_keeps_the_event_it_answers(data: bytes | None) -> None:
    original = ce.CloudEvent({"specversion": "1.0", "id": "o", "source": "/s", "type": "t"}, data)
    reply = ce.CloudEvent({"specversion": "1.0", "id": "r", "source": "/s", "type": "t.reply"}, b"r")
    record = records.with_original(ce.to_record(reply), ce.to_record(original))
    assert ce.from_record(record).id == "r" and ce.from_record(record).data == b"r"
    kept = records.original_of(record)
    assert (kept.attributes, kept.data) == (original.attributes, data)
