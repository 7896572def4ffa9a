"""Validation of context attributes: every broken rule names its attribute."""

from __future__ import annotations

import pytest

from ripple import cloudevents as ce
from ripple.cloudevents import event as events
from ripple.errors import FieldError, Invalid

BASE: dict[str, object] = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


@pytest.mark.parametrize(
    ("change", "path", "rule"),
    [
        ({"id": None}, "id", "required, a non-empty string"),
        ({"id": ""}, "id", "required, a non-empty string"),
        ({"id": 25}, "id", "must be a string"),
        ({"type": None}, "type", "required, a non-empty string"),
        ({"source": ""}, "source", "required, a non-empty URI-reference"),
        ({"specversion": None}, "specversion", "required, a non-empty string"),
        ({"specversion": 1.0}, "specversion", "required, a non-empty string"),
        ({"specversion": "0.9"}, "specversion", "unsupported '0.9'"),
        ({"specversion": "1.1"}, "specversion", "unsupported '1.1'"),
        ({"subject": ""}, "subject", "if present, a non-empty string"),
        ({"time": "2018-04-05"}, "time", "not an RFC 3339 timestamp"),
        ({"datacontenttype": "json"}, "datacontenttype", "not an RFC 2046 media type"),
        ({"dataschema": "/relative"}, "dataschema", "a non-empty absolute URI"),
        ({"dataschema": "http://x/a b"}, "dataschema", "a non-empty absolute URI"),
        ({"MyExt": "v"}, "MyExt", "lower-case letters a-z and digits 0-9 only"),
        ({"my_ext": "v"}, "my_ext", "lower-case letters a-z and digits 0-9 only"),
        ({"": "v"}, "", "must not be empty"),  # R4 fuzz: the old rule named no letter
        ({"data": "v"}, "data", "reserved"),
        ({"data_base64": "v"}, "data_base64", "lower-case letters"),
        ({"ext": 1.5}, "ext", "a string, an integer or a boolean"),
        ({"ext": [1]}, "ext", "a string, an integer or a boolean"),
        ({"ext": 2**31}, "ext", "32 bits"),
        ({"ext": "a\nb"}, "ext", "control character"),
        ({"ext": "a\x85b"}, "ext", "control character"),
        ({"ext": "\udead"}, "ext", "lone surrogate"),
        ({"ext": "\ufdd0"}, "ext", "noncharacter"),
        ({"subject": "\U0010ffff"}, "subject", "noncharacter"),
        ({"specversion": "0.3", "schemaurl": ""}, "schemaurl", "a non-empty URI-reference"),
        ({"specversion": "0.3", "datacontentencoding": 1}, "datacontentencoding", "a string"),
    ],
)
def test_broken_rule_names_the_attribute(change: dict[str, object], path: str, rule: str) -> None:
    attributes = {k: v for k, v in (BASE | change).items() if v is not None}
    with pytest.raises(Invalid) as raised:
        ce.validate(attributes)
    [error] = raised.value.errors
    assert error.path == path and rule in error.message


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"specversion": "0.3", "schemaurl": "/relative/ok"},
        {"specversion": "0.3", "dataschema": "not checked in 0.3"},
        {"source": "#fragment"},
        {"schemaurl": 5, "datacontentencoding": True},  # mere extensions in 1.0
        {"source": "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"},
        {"datacontenttype": "application/json; charset=utf-8"},
        {"datacontenttype": "Application/Vnd.Apache.Thrift.Binary"},
        {"dataschema": "https://example.com/schema.json"},
        {"time": "2018-04-05T17:31:00.123456789+05:30"},
        {"ext": 2**31 - 1, "ext2": -(2**31), "flag": True, "name1": "Euro € 😀"},
        {"ext": "\ud83d\ude00".encode("utf-16", "surrogatepass").decode("utf-16")},
        {"abcdefghijklmnopqrstuvwxyz0123456789": "long names are only a SHOULD"},
    ],
)
def test_valid_attributes_pass(change: dict[str, object]) -> None:
    ce.validate(BASE | change)


def test_every_broken_rule_is_reported() -> None:
    with pytest.raises(Invalid) as raised:
        ce.validate({"specversion": "1.0", "id": "", "Bad": 1})
    assert raised.value.errors == [
        FieldError("source", "required, a non-empty URI-reference"),
        FieldError("type", "required, a non-empty string"),
        FieldError("id", "required, a non-empty string"),
        FieldError("Bad", "an attribute name must be lower-case letters a-z and digits 0-9 only"),
    ]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2018-04-05T17:31:00Z", True),
        ("2018-04-05t17:31:00z", True),
        ("2018-04-05T16:31:00-01:00", True),
        ("2018-04-05T17:31:00.000000000Z", True),
        ("2016-12-31T23:59:60Z", True),
        ("2024-02-29T00:00:00Z", True),
        ("2023-02-29T00:00:00Z", False),
        ("2023-04-31T00:00:00Z", False),
        ("2023-13-01T00:00:00Z", False),
        ("2023-01-01T24:00:00Z", False),
        ("2023-01-01T00:60:00Z", False),
        ("2018-04-05T18:31Z", False),
        ("2018-04-05T18:31:00", False),
        ("2018-04-05T18:31:00X", False),
        ("2018-04-05T18:31:00+25:00", False),
        ("2018-04-05T18:31:00+05", False),
        ("2018-04-05T18:31:00.Z", False),
        ("2018-04-05 18:31:00Z", False),
        ("\uff12018-04-05T18:31:00Z", False),  # a full-width digit is no ASCII digit
    ],
)
def test_timestamps(value: str, valid: bool) -> None:
    assert events.is_timestamp(value) is valid


@pytest.mark.parametrize(
    ("datacontenttype", "is_json"),
    [
        (None, True),
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("APPLICATION/JSON", True),
        ("text/json", True),
        ("application/cloudevents+json", True),
        ("application/vnd.api+JSON;x=y", True),
        ("text/plain", False),
        ("application/jsonx", False),
        ("application/xml", False),
    ],
)
def test_json_content_types(datacontenttype: str | None, is_json: bool) -> None:
    assert events.is_json_content_type(datacontenttype) is is_json


def test_convenience_properties() -> None:
    event = ce.CloudEvent(dict(BASE))
    assert (event.specversion, event.id, event.source, event.type, event.data) == (
        "1.0",
        "1",
        "/s",
        "t",
        None,
    )


def test_public_names() -> None:
    assert sorted(ce.__all__) == [
        "CloudEvent", "child_traceparent", "from_http", "from_json_dict", "from_record",
        "is_cloudevent", "is_valid_traceparent", "new_traceparent", "to_batch", "to_binary",
        "to_json_dict", "to_record", "to_structured", "validate",
    ]  # fmt: skip
