"""Tables over `ripple event`'s pure parts: binary-mode headers, data, tail lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from ripple import errors
from ripple.cli.commands import event

ATTRS = {"specversion": "1.0", "id": "1", "type": "t", "source": "/s"}


@pytest.mark.parametrize(
    "extensions, content_type, expected",
    [
        ({}, None, {"ce-specversion": "1.0", "ce-id": "1", "ce-type": "t", "ce-source": "/s"}),
        (
            {"traceparent": "00-abc-01", "partition": "7"},
            "application/json",
            {
                "ce-specversion": "1.0",
                "ce-id": "1",
                "ce-type": "t",
                "ce-source": "/s",
                "ce-traceparent": "00-abc-01",
                "ce-partition": "7",
                "content-type": "application/json",
            },
        ),
        (
            {"subject": "a b"},
            None,
            {**{f"ce-{k}": v for k, v in ATTRS.items()}, "ce-subject": "a%20b"},
        ),
        (
            {"x": 'q"%€'},
            None,
            {**{f"ce-{k}": v for k, v in ATTRS.items()}, "ce-x": "q%22%25%E2%82%AC"},
        ),
    ],
)
def test_binary_headers(extensions: dict, content_type: str | None, expected: dict) -> None:
    assert event.binary_headers(ATTRS, extensions, content_type) == expected


@pytest.mark.parametrize(
    "name, says",
    [
        ("Upper", "lower-case letters and digits"),
        ("with-dash", "lower-case letters and digits"),
        ("", "lower-case letters and digits"),
        ("id", "reserved"),
        ("datacontenttype", "reserved"),
    ],
)
def test_binary_headers_rejects(name: str, says: str) -> None:
    with pytest.raises(errors.Invalid, match=says):
        event.binary_headers(ATTRS, {name: "v"}, None)


@pytest.mark.parametrize(
    "data, expected",
    [
        (None, None),
        (b'{"a": 1}', "application/json"),
        (b"[1, 2]", "application/json"),
        (b"42", "application/json"),
        (b"hello", "text/plain"),
        (b"", "text/plain"),
        (b"\xff\xfe\x00", "application/octet-stream"),
    ],
)
def test_guess_content_type(data: bytes | None, expected: str | None) -> None:
    assert event.guess_content_type(data) == expected


def test_read_data(tmp_path: Path) -> None:
    (tmp_path / "d.json").write_bytes(b'{"x": 1}')
    assert event.read_data(None) is None
    assert event.read_data("plain") == b"plain"
    assert event.read_data(f"@{tmp_path / 'd.json'}") == b'{"x": 1}'
    with pytest.raises(errors.Invalid, match="No such file"):
        event.read_data(f"@{tmp_path / 'missing'}")


@pytest.mark.parametrize(
    "cloudevent, line",
    [
        (
            {
                "specversion": "1.0",
                "id": "e1",
                "type": "dev.x",
                "source": "/s",
                "time": "2024-05-01T12:00:00.123Z",
                "data": {"msg": "hi"},
            },
            '2024-05-01T12:00:00Z  dev.x  /s  e1  {"msg":"hi"}',
        ),
        (
            {
                "id": "e2",
                "type": "t",
                "source": "s",
                "time": "2024-05-01T14:00:00+02:00",
                "data": "plain text",
            },
            "2024-05-01T12:00:00Z  t  s  e2  plain text",
        ),
        ({"id": "e3", "type": "t", "source": "s"}, "-  t  s  e3"),
        ({"id": "e4", "type": "t", "source": "s", "data_base64": "AAEC"}, "-  t  s  e4  AAEC"),
        (
            {"id": "e5", "type": "t", "source": "s", "data": "x" * 100},
            "-  t  s  e5  " + "x" * 57 + "...",
        ),
    ],
)
def test_format_event_line(cloudevent: dict, line: str) -> None:
    assert event.format_event_line(cloudevent) == line


# --- issue #16: kn-plugin-event's --field typing and --to form -----------------------------


@pytest.mark.parametrize("text, value", [
    ("true", True), ("false", False), ("True", "True"), ("1", 1), ("-7", -7), ("007", "007"),
    ("2345.40", "2345.40"), ("1.500000", 1.5), ("1e3", "1e3"), ("x", "x"), ("", ""),
])
def test_typed_value_reads_like_kn(text: str, value: object) -> None:
    assert event.typed_value(text) == value
    assert type(event.typed_value(text)) is type(value)


def test_build_field_data_nests_dotted_paths() -> None:
    assert event.build_field_data(["a.b.c=1", "a.d=x", "e=true"], ["a.b.f=2"]) == {
        "a": {"b": {"c": 1, "f": "2"}, "d": "x"}, "e": True}


@pytest.mark.parametrize("text, expected", [
    ("Broker:eventing.knative.dev/v1:default",
     {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}),
    ("Service:serving.knative.dev/v1:event-display",
     {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "event-display"}),
    ("Service:v1:svc", {"apiVersion": "v1", "kind": "Service", "name": "svc"}),
    ("broker:default:other", None),  # Ripple's sink syntax: NAME:NAMESPACE
    ("broker:default", None),
    ("http://x:80/a", None),
])
def test_parse_kn_target(text: str, expected: dict | None) -> None:
    found = event.parse_kn_target(text, "ns")
    assert found == (None if expected is None else {"ref": {**expected, "namespace": "ns"}})


@pytest.mark.parametrize("target, path", [
    ("broker:b", "/tail/ns/b"),
    ("broker:b:other", "/tail/other/b"),
    ("channel:c", "/tail/ns/channels/c"),
    ("imc:c", "/tail/ns/channels/c"),
    ("messaging.knative.dev/v1/inmemorychannels:c", "/tail/ns/channels/c"),
])
def test_tail_path_follows_brokers_and_channels(target: str, path: str) -> None:
    assert event.tail_path(target, "ns") == path


@pytest.mark.parametrize("target", ["ksvc:x", "http://x/", "eventing.knative.dev/v1/triggers:t",
                                    "a:b:c:d"])
def test_tail_path_refuses_what_has_no_log(target: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        event.tail_path(target, "ns")
    assert str(caught.value).startswith("event tail follows a broker or a channel")
