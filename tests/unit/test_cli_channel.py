"""`ripple channel` and `ripple subscription`: parsing, the objects built, and the wire.

The tables check argument parsing and the pure builders; the last test drives both
commands against the recording fake API of `test_cli_fakeapi`, taught the two kinds.
"""

from __future__ import annotations

from typing import Any

import pytest
import test_cli_fakeapi
from test_cli_fakeapi import State, api, ripple

from ripple import errors
from ripple.cli import main
from ripple.cli.commands import channel, common, subscription

__all__ = ["api"]  # the fixture, imported for pytest

MESSAGING = "messaging.knative.dev/v1"
CHANNELS = "/apis/messaging.knative.dev/v1/namespaces/default/channels"
SUBSCRIPTIONS = "/apis/messaging.knative.dev/v1/namespaces/default/subscriptions"


def ksvc(name: str, ns: str = "default") -> dict[str, Any]:
    return {
        "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": name,
                "namespace": ns}
    }


@pytest.mark.parametrize(
    ("argv", "handler", "expected"),
    [
        (["channel", "create", "c"], channel.run_create,
         {"name": "c", "channel_type": "imc", "namespace": None}),
        (["channel", "create", "c", "--type", "messaging.knative.dev:v1:InMemoryChannel",
          "-n", "x"], channel.run_create,
         {"channel_type": "messaging.knative.dev:v1:InMemoryChannel", "namespace": "x"}),
        (["channel", "list", "-A"], channel.run_list, {"all_namespaces": True}),
        (["channel", "ls", "-o", "name"], channel.run_list, {"output": "name"}),
        (["channel", "describe", "c", "-o", "url"], channel.run_describe,
         {"name": "c", "output": "url"}),
        (["channel", "delete", "c"], channel.run_delete, {"name": "c"}),
        (["subscription", "create", "s", "--channel", "c", "--sink", "ksvc:a"],
         subscription.run_create,
         {"name": "s", "channel": "c", "sink": "ksvc:a", "sink_reply": None,
          "sink_dead_letter": None}),
        (["subscription", "create", "s", "--channel", "imc:c", "-s", "a", "--sink-reply",
          "broker:b", "--sink-dead-letter", "http://dl", "-n", "ns"],
         subscription.run_create,
         {"channel": "imc:c", "sink": "a", "sink_reply": "broker:b",
          "sink_dead_letter": "http://dl", "namespace": "ns"}),
        (["subscription", "list"], subscription.run_list, {"all_namespaces": False}),
        (["subscription", "describe", "s", "-o", "yaml"], subscription.run_describe,
         {"name": "s", "output": "yaml"}),
        (["subscription", "delete", "s", "-n", "ns"], subscription.run_delete,
         {"name": "s", "namespace": "ns"}),
    ],
)
def test_parsing(argv: list[str], handler: object, expected: dict[str, Any]) -> None:
    args = main.build_parser().parse_args(argv)
    assert args.handler is handler
    assert {k: getattr(args, k) for k in expected} == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["subscription", "create", "s", "--sink", "a"],  # no --channel
        ["subscription", "create", "s", "--channel", "c"],  # no --sink
        ["channel", "create"],
        ["channel", "describe", "c", "-o", "name"],
    ],
)
def test_parsing_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main.build_parser().parse_args(argv)
    capsys.readouterr()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("imc", ("messaging.knative.dev", "v1", "InMemoryChannel")),
        ("IMC", ("messaging.knative.dev", "v1", "InMemoryChannel")),
        ("messaging.knative.dev:v1:InMemoryChannel",
         ("messaging.knative.dev", "v1", "InMemoryChannel")),
        ("messaging.knative.dev:v1beta1:KafkaChannel",
         ("messaging.knative.dev", "v1beta1", "KafkaChannel")),
    ],
)
def test_channel_types(text: str, expected: common.Kind) -> None:
    assert channel.parse_type(text) == expected


@pytest.mark.parametrize("text", ["kafka", "a:b", "a::c", "a:b:c:d", ""])
def test_bad_channel_types(text: str) -> None:
    with pytest.raises(errors.Invalid, match="channel type"):
        channel.parse_type(text)


def test_make_channel() -> None:
    assert channel.make_channel("c", "ns", common.IN_MEMORY_CHANNEL) == {
        "apiVersion": MESSAGING,
        "kind": "Channel",
        "metadata": {"name": "c", "namespace": "ns"},
        "spec": {"channelTemplate": {"apiVersion": MESSAGING, "kind": "InMemoryChannel"}},
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("c", {"apiVersion": MESSAGING, "kind": "Channel", "name": "c"}),
        ("imc:c", {"apiVersion": MESSAGING, "kind": "InMemoryChannel", "name": "c"}),
        ("messaging.knative.dev:v1beta1:KafkaChannel:k",
         {"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel", "name": "k"}),
    ],
)
def test_channel_reference(text: str, expected: dict[str, str]) -> None:
    assert subscription.channel_reference(text) == expected


@pytest.mark.parametrize("text", ["", "imc:", ":c", "kafka:c", "a:b:c", "a:b:c:d:e"])
def test_bad_channel_reference(text: str) -> None:
    with pytest.raises(errors.Invalid, match="channel"):
        subscription.channel_reference(text)


@pytest.mark.parametrize(
    ("reply", "dead_letter", "extra"),
    [
        (None, None, {}),
        ({"uri": "http://r"}, None, {"reply": {"uri": "http://r"}}),
        (None, ksvc("dl"), {"delivery": {"deadLetterSink": ksvc("dl")}}),
        ({"uri": "http://r"}, {"uri": "http://d"},
         {"reply": {"uri": "http://r"}, "delivery": {"deadLetterSink": {"uri": "http://d"}}}),
    ],
)
def test_make_subscription(
    reply: dict[str, Any] | None, dead_letter: dict[str, Any] | None, extra: dict[str, Any]
) -> None:
    ref = {"apiVersion": MESSAGING, "kind": "Channel", "name": "c"}
    made = subscription.make_subscription("s", "ns", ref, ksvc("a", "ns"), reply, dead_letter)
    assert made == {
        "apiVersion": MESSAGING,
        "kind": "Subscription",
        "metadata": {"name": "s", "namespace": "ns"},
        "spec": {"channel": ref, "subscriber": ksvc("a", "ns"), **extra},
    }


@pytest.fixture
def messaging(monkeypatch: pytest.MonkeyPatch) -> None:
    """Teach the fake API the Channel and Subscription kinds."""
    kinds = [
        {"group": "messaging.knative.dev", "version": "v1", "kind": kind, "plural": plural,
         "singular": kind.lower(), "shortNames": [], "namespaced": True}
        for kind, plural in (("Channel", "channels"), ("Subscription", "subscriptions"))
    ]
    monkeypatch.setattr(test_cli_fakeapi, "DISCOVERY", [*test_cli_fakeapi.DISCOVERY, *kinds])
    for kind in kinds:
        monkeypatch.setitem(test_cli_fakeapi.PLURALS, kind["plural"], kind)


def test_channel_and_subscription_over_http(
    messaging: None, api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    assert ripple(url, "channel", "create", "c") == 0
    assert ripple(
        url, "subscription", "create", "s", "--channel", "c", "--sink", "ksvc:a",
        "--sink-reply", "channel:other", "--sink-dead-letter", "http://dl.example",
    ) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Channel 'c' created in namespace 'default'.",
        "Subscription 's' created in namespace 'default'.",
    ]
    posts = [(s.path, s.json()) for s in state.seen if s.method == "POST"]
    assert [path for path, _ in posts] == [CHANNELS, SUBSCRIPTIONS]
    assert posts[0][1]["spec"] == {
        "channelTemplate": {"apiVersion": MESSAGING, "kind": "InMemoryChannel"}
    }
    assert posts[1][1]["spec"] == {
        "channel": {"apiVersion": MESSAGING, "kind": "Channel", "name": "c"},
        "subscriber": ksvc("a"),
        "reply": {"ref": {"apiVersion": MESSAGING, "kind": "Channel", "name": "other",
                          "namespace": "default"}},
        "delivery": {"deadLetterSink": {"uri": "http://dl.example"}},
    }

    assert ripple(url, "subscription", "list", "-o", "name") == 0
    assert capsys.readouterr().out == "subscription.messaging.knative.dev/s\n"
    assert ripple(url, "subscription", "list") == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:5] == ["NAME", "CHANNEL", "SUBSCRIBER", "REPLY", "DEAD-LETTER-SINK"]
    assert row.split()[:5] == ["s", "c", "ksvc:a", "channel:other", "http://dl.example"]
    assert ripple(url, "channel", "describe", "c", "-o", "json") == 0
    assert '"InMemoryChannel"' in capsys.readouterr().out
    assert ripple(url, "channel", "describe", "c") == 0
    assert capsys.readouterr().out.startswith("Name:")

    assert ripple(url, "subscription", "delete", "s") == 0
    assert ripple(url, "channel", "delete", "c") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Subscription 's' deleted in namespace 'default'.",
        "Channel 'c' deleted in namespace 'default'.",
    ]
    assert state.objects == {}
    assert ripple(url, "channel", "delete", "c") == 1
    assert capsys.readouterr().err == 'Error: channels "c" not found\n'
