"""The JSON event format's data rules, both ways: `data` vs `data_base64`, by content type."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ripple import cloudevents as ce
from ripple.cloudevents import jsonformat
from ripple.errors import Invalid

BASE: dict[str, object] = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
V03 = BASE | {"specversion": "0.3"}


@pytest.mark.parametrize(
    ("members", "data"),
    [
        ({"data": {"a": 1}}, b'{"a":1}'),
        ({"datacontenttype": "application/json", "data": "a string"}, b'"a string"'),
        ({"datacontenttype": "application/vnd.x+json", "data": [1, "é"]}, '[1,"é"]'.encode()),
        (
            {"datacontenttype": "application/json", "data": None},
            b"null",
        ),  # an explicit null payload
        ({"datacontenttype": "text/plain", "data": "Simple text"}, b"Simple text"),
        ({"datacontenttype": "application/xml", "data": '<much wow="xml"/>'}, b'<much wow="xml"/>'),
        ({"datacontenttype": "text/plain", "data": 12}, b"12"),  # lenient: kept as JSON
        ({"data_base64": "eyAieHl6IjogMTIzIH0="}, b'{ "xyz": 123 }'),
        ({"datacontenttype": "image/png", "data_base64": ""}, b""),
        ({"data_base64": None, "data": True}, b"true"),  # a null member is an absent one
        ({"datacontenttype": "text/plain"}, None),
        ({"data": "\udead"}, b'"\\udead"'),  # a lone surrogate survives as a JSON escape
        ({**V03, "datacontentencoding": "Base64", "data": "AAE="}, b"\x00\x01"),
    ],
)
def test_data_decoding(members: dict[str, Any], data: bytes | None) -> None:
    assert ce.from_json_dict(BASE | members).data == data


@pytest.mark.parametrize(
    ("members", "path", "rule"),
    [
        ({"data": "x", "data_base64": "eA=="}, "data_base64", "must not appear together with data"),
        ({"data_base64": "not base64!"}, "data_base64", "not valid base64"),
        ({"data_base64": 12}, "data_base64", "must be a base64 string"),
        (
            {"datacontenttype": "text/plain", "data": "\udead"},
            "data",
            "a string with a lone surrogate",
        ),
        (
            {**V03, "datacontentencoding": "base64", "data": {"a": 1}},
            "data",
            "must be a base64 string",
        ),
    ],
)
def test_data_errors_name_the_member(members: dict[str, Any], path: str, rule: str) -> None:
    with pytest.raises(Invalid) as raised:
        ce.from_json_dict(BASE | members)
    [error] = raised.value.errors
    assert (error.path, error.message) == (path, rule)


@pytest.mark.parametrize(
    ("attributes", "data", "members"),
    [
        ({}, None, {}),
        ({}, b'{"a":1}', {"data": {"a": 1}}),
        ({}, b"plain words", {"data_base64": "cGxhaW4gd29yZHM="}),  # not the JSON it is taken for
        ({"datacontenttype": "application/json"}, b'"s"', {"data": "s"}),
        ({"datacontenttype": "application/json"}, b"NaN", {"data_base64": "TmFO"}),
        ({"datacontenttype": "text/plain"}, b"hi", {"data": "hi"}),
        ({"datacontenttype": "text/plain"}, b'{"a":1}', {"data": '{"a":1}'}),
        ({"datacontenttype": "text/plain"}, b"\xff", {"data_base64": "/w=="}),
        ({"datacontenttype": "application/octet-stream"}, b"", {"data": ""}),
        ({**V03, "datacontentencoding": "base64"}, b"\x00", {"data": "AA=="}),
    ],
)
def test_data_encoding(
    attributes: dict[str, object], data: bytes | None, members: dict[str, Any]
) -> None:
    event = ce.CloudEvent(BASE | attributes, data)
    assert ce.to_json_dict(event) == BASE | attributes | members
    assert ce.from_json_dict(ce.to_json_dict(event)) == event


def test_to_json_dict_keeps_attribute_types() -> None:
    event = ce.CloudEvent(BASE | {"extint": 10, "extbool": False})
    assert ce.to_json_dict(event) == BASE | {"extint": 10, "extbool": False}


def test_from_json_dict_drops_null_attributes() -> None:
    event = ce.from_json_dict(BASE | {"subject": None, "time": None, "ext": None})
    assert event.attributes == BASE


@pytest.mark.parametrize("value", [
    {},
    {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"},
    {"extint": -5, "extbig": 2**31 - 1, "yes": True, "no": False},
    {"subject": "Euro € 😀", "quote": 'say "hi" \\ there', "ctl": "tab\tnewline\n\u0001"},
    {"x-request-id": "abc", "knative-foo": "bar"},
])
def test_flat_json_is_what_the_compact_encoder_gives(value: dict[str, object]) -> None:
    expected = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode(value)
    assert jsonformat.flat_json(value) == expected
    assert json.loads(jsonformat.flat_json(value)) == value


def test_flat_json_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError, match="bytes is not JSON serializable"):
        jsonformat.flat_json({"a": b"raw"})
