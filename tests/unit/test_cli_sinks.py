"""Tables over `ripple.cli.sinks`: kn's sink syntax in, Destinations out and back."""

from __future__ import annotations

import pytest

from ripple import errors
from ripple.cli import sinks
from ripple.cli.sinks import Sink, SinkRef

EV, MSG, SRV = "eventing.knative.dev", "messaging.knative.dev", "serving.knative.dev"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("broker:default", Sink(ref=SinkRef(EV, "v1", "brokers", "default", "ns1", "Broker"))),
        ("broker:b:other", Sink(ref=SinkRef(EV, "v1", "brokers", "b", "other", "Broker"))),
        ("channel:pipe", Sink(ref=SinkRef(MSG, "v1", "channels", "pipe", "ns1", "Channel"))),
        ("ksvc:hello", Sink(ref=SinkRef(SRV, "v1", "services", "hello", "ns1", "Service"))),
        ("kservice:hello", Sink(ref=SinkRef(SRV, "v1", "services", "hello", "ns1", "Service"))),
        ("KSVC:hello", Sink(ref=SinkRef(SRV, "v1", "services", "hello", "ns1", "Service"))),
        ("hello", Sink(ref=SinkRef(SRV, "v1", "services", "hello", "ns1", "Service"))),
        ("svc:web:prod", Sink(ref=SinkRef("", "v1", "services", "web", "prod", "Service"))),
        ("service:web", Sink(ref=SinkRef("", "v1", "services", "web", "ns1", "Service"))),
        (
            "messaging.knative.dev/v1/InMemoryChannels:imc",
            Sink(ref=SinkRef(MSG, "v1", "inmemorychannels", "imc", "ns1", None)),
        ),
        ("v1/services:web", Sink(ref=SinkRef("", "v1", "services", "web", "ns1", None))),
        ("http://example.com/x", Sink(uri="http://example.com/x")),
        ("https://example.com:8443/a?b=c", Sink(uri="https://example.com:8443/a?b=c")),
        ("  broker:default  ", Sink(ref=SinkRef(EV, "v1", "brokers", "default", "ns1", "Broker"))),
    ],
)
def test_parse_sink(text: str, expected: Sink) -> None:
    assert sinks.parse_sink(text, "ns1") == expected


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "sink is required"),
        ("http://", "no host"),
        ("foo:bar", "unknown prefix 'foo'"),
        ("http:bar", "unknown prefix 'http'"),
        ("broker:a:b:c", "too many ':'"),
        ("broker:", "does not name a resource"),
        ("broker:Upper", "does not name a resource"),
        ("a/b/c/d:x", "unknown prefix"),
        ("/v1/x:y", "unknown prefix"),
    ],
)
def test_parse_sink_rejects(text: str, says: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        sinks.parse_sink(text, "default")
    assert says in str(caught.value)
    assert "broker:NAME" in str(caught.value)  # every error names the syntax


@pytest.mark.parametrize(
    "text, expected",
    [
        ("http://x/y", {"uri": "http://x/y"}),
        (
            "broker:b",
            {
                "ref": {
                    "apiVersion": "eventing.knative.dev/v1",
                    "kind": "Broker",
                    "name": "b",
                    "namespace": "default",
                }
            },
        ),
        (
            "svc:web",
            {"ref": {"apiVersion": "v1", "kind": "Service", "name": "web", "namespace": "default"}},
        ),
    ],
)
def test_to_destination(text: str, expected: dict) -> None:
    assert sinks.to_destination(sinks.parse_sink(text, "default")) == expected


def test_to_destination_needs_a_kind() -> None:
    with pytest.raises(errors.Invalid, match="kind"):
        sinks.to_destination(sinks.parse_sink("a.dev/v1/things:x", "default"))


def _ref(api_version: str, kind: str, name: str, ns: str | None = None) -> dict:
    ref = {"apiVersion": api_version, "kind": kind, "name": name}
    return {"ref": {**ref, "namespace": ns} if ns else ref}


@pytest.mark.parametrize(
    "dest, expected",
    [
        (None, ""),
        ({}, ""),
        ({"uri": "http://x"}, "http://x"),
        (_ref("serving.knative.dev/v1", "Service", "hello", "default"), "ksvc:hello"),
        (_ref("serving.knative.dev/v1", "Service", "hello"), "ksvc:hello"),
        (_ref("eventing.knative.dev/v1", "Broker", "b", "other"), "broker:b:other"),
        (_ref("messaging.knative.dev/v1", "Channel", "c", "default"), "channel:c"),
        (_ref("v1", "Service", "web", "default"), "svc:web"),
        (
            _ref("messaging.knative.dev/v1", "InMemoryChannel", "i", "default"),
            "messaging.knative.dev/v1/inmemorychannels:i",
        ),
        (_ref("flows.knative.dev/v1", "Sequence", "s"), "flows.knative.dev/v1/sequences:s"),
        (_ref("sources.knative.dev/v1", "PingSource", "p"), "sources.knative.dev/v1/pingsources:p"),
        (_ref("x.dev/v1", "Policy", "p"), "x.dev/v1/policies:p"),
        ({**_ref("serving.knative.dev/v1", "Service", "s"), "uri": "/path"}, "ksvc:s /path"),
    ],
)
def test_format_destination(dest: dict | None, expected: str) -> None:
    assert sinks.format_destination(dest, "default") == expected


@pytest.mark.parametrize("text", ["broker:b", "broker:b:other", "channel:c", "ksvc:k", "svc:s:x"])
def test_format_parses_back(text: str) -> None:
    dest = sinks.to_destination(sinks.parse_sink(text, "default"))
    assert sinks.format_destination(dest, "default") == text
