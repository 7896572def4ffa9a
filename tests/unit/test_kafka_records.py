"""Tables for sources.kafka.records: which records pass through as CloudEvents under the
Kafka protocol binding, and how every other record is wrapped (eventing-kafka-broker's
InvalidCloudEventInterceptor and KeyDeserializer)."""

from __future__ import annotations

import base64
import json
import struct

import pytest

from sources.kafka import records

ORIGIN = records.Origin("ns", "src")
SOURCE = "/apis/v1/namespaces/ns/kafkasources/src#orders"
TS = 1_700_000_000_123  # 2023-11-14T22:13:20.123Z


def record(value: bytes | None = b"v", *, headers=(), key: bytes | None = None,
           partition: int = 2, offset: int = 41, timestamp: int | None = TS) -> records.Record:
    return records.Record("orders", partition, offset, value, key, tuple(headers), timestamp)


def wrapped(**extra: object) -> dict[str, object]:
    return {"specversion": "1.0", "id": "partition:2/offset:41", "source": SOURCE,
            "type": "dev.knative.kafka.event", "subject": "partition:2#41",
            "time": "2023-11-14T22:13:20.123Z", **extra}


BINARY = [("ce_specversion", b"1.0"), ("ce_id", b"abc"), ("ce_source", b"/producer"),
          ("ce_type", b"com.example"), ("content-type", b"application/json")]
STRUCTURED = {"specversion": "1.0", "id": "s1", "source": "/producer", "type": "com.example",
              "datacontenttype": "application/json", "data": {"a": 1}, "myext": "x"}


@pytest.mark.parametrize(
    "case, rec, attributes, data",
    [
        ("plain value", record(), wrapped(), b"v"),
        ("no value", record(None), wrapped(), None),
        ("no timestamp", record(timestamp=None),
         {k: v for k, v in wrapped().items() if k != "time"}, b"v"),
        ("whole seconds have no fraction", record(timestamp=1_700_000_000_000),
         wrapped(time="2023-11-14T22:13:20Z"), b"v"),
        ("string key", record(key=b"order-7"), wrapped(key="order-7", partitionkey="order-7"), b"v"),
        ("empty key: no extension", record(key=b""), wrapped(), b"v"),
        ("content-type header is the datacontenttype, lower-cased",
         record(headers=[("Content-Type", b"Application/JSON")]),
         wrapped(datacontenttype="application/json"), b"v"),
        ("headers become kafkaheader extensions",
         record(headers=[("X-Trace_ID", b"t1"), ("origin", b"eu"), ("empty", None)]),
         wrapped(kafkaheaderxtraceid="t1", kafkaheaderorigin="eu", kafkaheaderempty=""), b"v"),
        ("a header that is not UTF-8 is replaced, not refused",
         record(headers=[("h", b"\xff")]), wrapped(kafkaheaderh="\ufffd"), b"v"),
        ("binary CloudEvent passes through", record(b'{"a":1}', headers=BINARY),
         {"specversion": "1.0", "id": "abc", "source": "/producer", "type": "com.example",
          "datacontenttype": "application/json"}, b'{"a":1}'),
        ("binary without content-type", record(b"raw", headers=BINARY[:4] + [("ce_myext", b"e")]),
         {"specversion": "1.0", "id": "abc", "source": "/producer", "type": "com.example",
          "myext": "e"}, b"raw"),
        ("binary CloudEvent keeps its key out of the event", record(b"x", headers=BINARY[:4], key=b"k"),
         {"specversion": "1.0", "id": "abc", "source": "/producer", "type": "com.example"}, b"x"),
        ("structured CloudEvent passes through",
         record(json.dumps(STRUCTURED).encode(),
                headers=[("content-type", b"application/cloudevents+json; charset=utf-8")]),
         {k: v for k, v in STRUCTURED.items() if k != "data"}, b'{"a":1}'),
        ("ce_ headers without ce_specversion: not a binding event",
         record(headers=[("ce_id", b"abc"), ("ce_type", b"t")]),
         wrapped(kafkaheaderceid="abc", kafkaheadercetype="t"), b"v"),
        ("binary without ce_id: wrapped, as upstream's deserializer fails it",
         record(headers=[("ce_specversion", b"1.0"), ("ce_source", b"/p"), ("ce_type", b"t")]),
         wrapped(kafkaheadercespecversion="1.0", kafkaheadercesource="/p", kafkaheadercetype="t"),
         b"v"),
        ("binary with an unknown specversion: wrapped",
         record(headers=[("ce_specversion", b"9.9"), ("ce_id", b"i"), ("ce_source", b"/p"),
                         ("ce_type", b"t")]),
         wrapped(kafkaheadercespecversion="9.9", kafkaheaderceid="i", kafkaheadercesource="/p",
                 kafkaheadercetype="t"), b"v"),
        ("binary with a bad time: wrapped",
         record(headers=BINARY[:4] + [("ce_time", b"yesterday")]),
         wrapped(kafkaheadercespecversion="1.0", kafkaheaderceid="abc", kafkaheadercesource="/producer",
                 kafkaheadercetype="com.example", kafkaheadercetime="yesterday"), b"v"),
        ("structured but not JSON: wrapped",
         record(b"not json", headers=[("content-type", b"application/cloudevents+json")]),
         wrapped(datacontenttype="application/cloudevents+json"), b"not json"),
        ("structured missing id: wrapped",
         record(b'{"specversion":"1.0","source":"/p","type":"t"}',
                headers=[("content-type", b"application/cloudevents+json")]),
         wrapped(datacontenttype="application/cloudevents+json"),
         b'{"specversion":"1.0","source":"/p","type":"t"}'),
        ("a batch is no binding event: wrapped",
         record(b"[]", headers=[("content-type", b"application/cloudevents-batch+json")]),
         wrapped(datacontenttype="application/cloudevents-batch+json"), b"[]"),
    ],
)
def test_to_event(case, rec, attributes, data) -> None:
    event = records.to_event(rec, ORIGIN)
    assert event.attributes == attributes, case
    assert event.data == data


@pytest.mark.parametrize(
    "key_type, key, expected",
    [
        ("string", b"abc", "abc"),
        ("string", b"\xff", "\ufffd"),
        ("int", struct.pack(">i", -42), -42),
        ("int", struct.pack(">i", 2**31 - 1), 2**31 - 1),
        ("int", b"12345", "12345"),  # not 4 bytes: the string
        ("float", struct.pack(">f", 1.5), "1.5"),
        ("float", struct.pack(">f", 0.1), "0.1"),  # float32's shortest text, as Java prints it
        ("float", struct.pack(">d", 0.1), "0.1"),
        ("float", struct.pack(">d", -2.0), "-2.0"),
        ("float", b"abc", "abc"),  # neither 4 nor 8 bytes: the string
        ("byte-array", b"\x00\x01\xfe", base64.b64encode(b"\x00\x01\xfe").decode()),
        ("byte-array", b"", None),
        ("string", None, None),
        ("unknown", b"abc", "abc"),
    ],
)
def test_typed_key(key_type, key, expected) -> None:
    assert records.typed_key(key, key_type) == expected


def test_key_extensions_follow_the_key_type() -> None:
    origin = records.Origin("ns", "src", key_type="int")
    event = records.to_event(record(key=struct.pack(">i", 7)), origin)
    assert event.attributes["key"] == 7 and event.attributes["partitionkey"] == 7


@pytest.mark.parametrize(
    "rec",
    [record(), record(b"x", headers=BINARY),
     record(json.dumps(STRUCTURED).encode(), headers=[("content-type", b"application/cloudevents+json")])],
    ids=["wrapped", "binary", "structured"],
)
def test_ce_overrides_apply_to_every_event_and_win(rec) -> None:
    origin = records.Origin("ns", "src", extensions={"myext": "override", "team": "a"})
    event = records.to_event(rec, origin)
    assert event.attributes["myext"] == "override" and event.attributes["team"] == "a"


@pytest.mark.parametrize(
    "name, extension",
    [("traceparent", "kafkaheadertraceparent"), ("X-B3-TraceId", "kafkaheaderxb3traceid"),
     ("über.key", "kafkaheaderberkey"), ("---", "kafkaheader")],
)
def test_header_extension(name, extension) -> None:
    assert records.header_extension(name) == extension


@pytest.mark.parametrize(
    "ms, text",
    [(0, "1970-01-01T00:00:00Z"), (1_500, "1970-01-01T00:00:01.5Z"),
     (TS, "2023-11-14T22:13:20.123Z"), (1_700_000_000_010, "2023-11-14T22:13:20.01Z")],
)
def test_format_time(ms, text) -> None:
    assert records.format_time(ms) == text
