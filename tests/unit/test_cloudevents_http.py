"""The HTTP binding: binary percent-encoding, content modes, round trips, batch errors."""

from __future__ import annotations

import pytest

from ripple import cloudevents as ce
from ripple.cloudevents import http, jsonformat
from ripple.errors import FieldError, Invalid

BASE: dict[str, object] = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
BINARY = {f"ce-{k}": str(v) for k, v in BASE.items()}


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("plain-ascii/./:?#[]@!$&'()*+,;=~", "plain-ascii/./:?#[]@!$&'()*+,;=~"),
        ("Euro € 😀", "Euro%20%E2%82%AC%20%F0%9F%98%80"),  # the binding's own example
        ('say "hi"', "say%20%22hi%22"),
        ("100%", "100%25"),
        ("%41", "%2541"),
        ("日本‍", "%E6%97%A5%E6%9C%AC%E2%80%8D"),
    ],
)
def test_percent_encoding_round_trip(value: str, encoded: str) -> None:
    assert http.encode_value(value) == encoded
    headers, _ = ce.to_binary(ce.CloudEvent(BASE | {"subject": value}))
    assert ("ce-subject", encoded) in headers
    [event] = ce.from_http(dict(headers), b"")
    assert event.attributes["subject"] == value


@pytest.mark.parametrize(
    ("value", "encoded"),
    [("tab\there", "tab%09here"), ("\x7f\u0080", "%7F%C2%80"), ("", "")],
)
def test_percent_encoding_of_what_validation_would_refuse(value: str, encoded: str) -> None:
    assert http.encode_value(value) == encoded


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Euro%20%e2%82%ac", "Euro €"),  # lower-case hex
        ("%41%42", "AB"),  # needlessly encoded
        ("50% off", "50% off"),  # a bare % from an older producer
        ("%zz%4", "%zz%4"),
        ('"quoted value"', "quoted value"),
        ('"with \\"escapes\\" and \\\\"', 'with "escapes" and \\'),
        ('"quoted%20and%20encoded"', "quoted and encoded"),
        ('not "quoted" whole', 'not "quoted" whole'),
        ("caf\xc3\xa9", "café"),  # raw UTF-8 bytes as an ASGI server decodes them (latin-1)
        ("\u20ac", "€"),  # a caller that decoded the header as UTF-8 already
    ],
)
def test_header_decoding(header: str, value: str) -> None:
    [event] = ce.from_http(BINARY | {"ce-subject": header}, b"")
    assert event.attributes["subject"] == value


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        ("%C0%A0", "not valid UTF-8"),  # overlong space, the binding's own example
        ("%ED%A0%80", "not valid UTF-8"),  # an encoded surrogate
        ("%FF", "not valid UTF-8"),
        ("caf\xe9", "not valid UTF-8"),  # raw latin-1 is not UTF-8
        ("a%0Ab", "control character"),
    ],
)
def test_header_decoding_rejects(header: str, rule: str) -> None:
    with pytest.raises(Invalid) as raised:
        ce.from_http(BINARY | {"ce-subject": header}, b"")
    [error] = raised.value.errors
    assert error.path == "subject" and rule in error.message


@pytest.mark.parametrize(("value", "message"), [
    ("x", "an attribute name must not be empty (a header named just 'ce-', or a \"\" member)"),
    ("%FF", "ce-: not valid UTF-8 after percent-decoding"),
])
def test_a_bare_ce_header_is_named(value: str, message: str) -> None:
    # Found by the R4 fuzz check: the message named nothing ("not valid UTF-8 after
    # percent-decoding"), as the attribute's name is the empty string.
    with pytest.raises(Invalid) as raised:
        ce.from_http(BINARY | {"ce-": value}, b"")
    assert str(raised.value) == message


EVENTS = [
    pytest.param(ce.CloudEvent(dict(BASE)), id="minimal"),
    pytest.param(
        ce.CloudEvent(BASE | {"datacontenttype": "application/json"}, b'{"a":[1,2]}'), id="json"
    ),
    pytest.param(
        ce.CloudEvent(BASE | {"datacontenttype": "application/json"}, b'"a string"'),
        id="json-string",
    ),
    pytest.param(
        ce.CloudEvent(BASE | {"datacontenttype": "application/json"}, b"not json"), id="bad-json"
    ),
    pytest.param(
        ce.CloudEvent(BASE | {"datacontenttype": "text/plain"}, "héllo\n".encode()), id="text"
    ),
    pytest.param(
        ce.CloudEvent(BASE | {"datacontenttype": "text/plain"}, b"\xff\xfe"), id="text-not-utf8"
    ),
    pytest.param(
        ce.CloudEvent(BASE | {"datacontenttype": "image/png"}, bytes(range(256))), id="binary"
    ),
    pytest.param(ce.CloudEvent(dict(BASE), b'{"untyped":true}'), id="no-type-json"),
    pytest.param(ce.CloudEvent(dict(BASE), b"\x00\x01"), id="no-type-bytes"),
    pytest.param(ce.CloudEvent(BASE | {"datacontenttype": "text/plain"}), id="type-without-data"),
    pytest.param(
        ce.CloudEvent(
            BASE
            | {
                "subject": "Euro € 😀",
                "time": "2018-04-05T17:31:00Z",
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "dataschema": "https://example.com/s",
                "comexampleext": 'a "b" %',
            }
        ),
        id="all-attributes",
    ),
    pytest.param(
        ce.CloudEvent(
            {
                "specversion": "0.3",
                "id": "1",
                "source": "/s",
                "type": "t",
                "datacontentencoding": "base64",
                "datacontenttype": "image/png",
            },
            b"\x89PNG",
        ),
        id="v03-base64",
    ),
]


@pytest.mark.parametrize("event", EVENTS)
def test_binary_round_trip(event: ce.CloudEvent) -> None:
    headers, body = ce.to_binary(event)
    assert all(name == "content-type" or name.startswith("ce-") for name, _ in headers)
    assert all(value.isascii() and value.isprintable() for _, value in headers)
    assert ce.from_http(dict(headers), body) == [event]


@pytest.mark.parametrize("event", EVENTS)
def test_structured_round_trip(event: ce.CloudEvent) -> None:
    headers, body = ce.to_structured(event)
    assert headers == [("content-type", "application/cloudevents+json")]
    assert ce.from_http(dict(headers), body) == [event]


def test_batch_round_trip() -> None:
    # One batch holds one specversion: leave out the 0.3 event.
    batch = [p.values[0] for p in EVENTS[:-1] if isinstance(p.values[0], ce.CloudEvent)]
    headers, body = ce.to_batch(batch)
    assert ce.from_http(dict(headers), body) == batch


def test_structured_keeps_json_data_bytes_and_compacts_on_the_way_in() -> None:
    event = ce.CloudEvent(BASE | {"datacontenttype": "application/json"}, b'{ "a" : [1, 2] }')
    _, body = ce.to_structured(event)
    assert body.endswith(b',"data":{ "a" : [1, 2] }}')  # the producer's bytes, spliced in
    [decoded] = ce.from_http({"content-type": "application/cloudevents+json"}, body)
    assert decoded.data == b'{"a":[1,2]}'


def test_binary_typed_extensions_go_as_canonical_strings() -> None:
    event = ce.CloudEvent(BASE | {"extint": 10, "extbool": True, "extno": False})
    headers, _ = ce.to_binary(event)
    assert headers[-3:] == [("ce-extint", "10"), ("ce-extbool", "true"), ("ce-extno", "false")]
    [decoded] = ce.from_http(dict(headers), b"")
    assert decoded.attributes == BASE | {"extint": "10", "extbool": "true", "extno": "false"}


@pytest.mark.parametrize(
    ("headers", "body", "data", "datacontenttype"),
    [
        ({}, b"", None, None),  # HTTP cannot tell an empty body from none
        ({"content-type": "text/plain"}, b"", None, "text/plain"),
        ({"content-type": "text/plain"}, b"x", b"x", "text/plain"),
        ({"ce-datacontenttype": "text/csv"}, b"x", b"x", "text/csv"),  # lenient: a stray header
        (
            {"ce-datacontenttype": "text/csv", "content-type": "text/plain"},
            b"x",
            b"x",
            "text/plain",
        ),
    ],
)
def test_binary_data_and_content_type(
    headers: dict[str, str], body: bytes, data: bytes | None, datacontenttype: str | None
) -> None:
    [event] = ce.from_http(BINARY | headers, body)
    assert event.data == data
    assert event.attributes.get("datacontenttype") == datacontenttype


@pytest.mark.parametrize(
    ("headers", "body", "errors"),
    [
        ({"content-type": "application/json"}, b"{}", ["specversion", "id", "source", "type"]),
        ({"content-type": "application/cloudevents+json"}, b"{nope", ["body"]),
        ({"content-type": "application/cloudevents+json"}, b"", ["body"]),
        ({"content-type": "application/cloudevents+json"}, b"[]", ["body"]),
        ({"content-type": "application/cloudevents+json"}, b'{"x": NaN}', ["body"]),
        ({"content-type": "application/cloudevents+json"}, b"\xff{}", ["body"]),
        ({"content-type": "application/cloudevents+json"}, b"[" * 100_000, ["body"]),
        ({"content-type": "application/cloudevents+avro"}, b"{}", ["content-type"]),
        ({"content-type": "application/cloudevents-batch+json"}, b"{}", ["body"]),
    ],
)
def test_rejections_name_the_field(headers: dict[str, str], body: bytes, errors: list[str]) -> None:
    with pytest.raises(Invalid) as raised:
        ce.from_http(headers, body)
    assert [e.path for e in raised.value.errors] == errors


def test_invalid_json_says_so() -> None:
    with pytest.raises(Invalid, match=r"^body: not valid JSON: "):
        ce.from_http({"content-type": "application/cloudevents+json"}, b"{nope")


@pytest.mark.parametrize(
    ("batch", "errors"),
    [
        ([BASE, BASE | {"id": ""}], [FieldError("[1].id", "required, a non-empty string")]),
        ([BASE, 7, BASE], [FieldError("[1]", "a structured event must be a JSON object")]),
        (
            [BASE | {"Bad": 1}, BASE, BASE | {"time": "now"}],
            [
                FieldError(
                    "[0].Bad",
                    "an attribute name must be lower-case letters a-z and digits 0-9 only",
                ),
                FieldError("[2].time", "not an RFC 3339 timestamp: 'now'"),
            ],
        ),
        (
            [BASE, BASE | {"specversion": "0.3"}],
            [FieldError("[1].specversion", "must match the batch's first event ('1.0')")],
        ),
        (
            [BASE | {"data": 1, "data_base64": "AA=="}],
            [FieldError("[0].data_base64", "must not appear together with data")],
        ),
    ],
)
def test_batch_errors_name_the_index(batch: list[object], errors: list[FieldError]) -> None:
    body = jsonformat.dumps(batch).encode()
    with pytest.raises(Invalid) as raised:
        ce.from_http({"content-type": "application/cloudevents-batch+json"}, body)
    assert raised.value.errors == errors


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"ce-specversion": "1.0"}, True),
        ({"content-type": "application/cloudevents+json; charset=utf-8"}, True),
        ({"content-type": "Application/CloudEvents+JSON"}, True),
        ({"content-type": "application/cloudevents-batch+json"}, True),
        ({"content-type": "application/json"}, False),
        ({"ce-id": "1", "ce-type": "t"}, False),
        ({}, False),
    ],
)
def test_is_cloudevent(headers: dict[str, str], expected: bool) -> None:
    assert ce.is_cloudevent(headers, b"") is expected
