"""`ripple source`: parsing, the pure builders, and kn's `source list` table."""

from __future__ import annotations

from typing import Any

import pytest

from ripple import errors
from ripple.cli import main
from ripple.cli.commands import source

SINK = {"uri": "http://sink.example/"}


@pytest.mark.parametrize(
    ("argv", "handler", "expected"),
    [
        (["source", "ping", "create", "p", "--sink", "http://s/"], source.run_ping_create,
         {"name": "p", "schedule": "", "data": "", "encoding": "text", "ce_override": None}),
        (["source", "ping", "create", "p", "--schedule", "*/2 * * * *", "-d", "x", "-e", "base64",
          "--ce-override", "a=b", "--ce-override", "c=d=e", "-s", "http://s/", "-n", "ns"],
         source.run_ping_create,
         {"schedule": "*/2 * * * *", "data": "x", "encoding": "base64", "ce_override": ["a=b", "c=d=e"],
          "namespace": "ns"}),
        (["source", "kafka", "create", "k", "--servers", "a:9092,b:9092", "--topics", "t",
          "--consumergroup", "g", "--initial-offset", "earliest", "--sink", "http://s/"],
         source.run_kafka_create,
         {"servers": "a:9092,b:9092", "topics": "t", "consumergroup": "g", "initial_offset": "earliest"}),
        (["source", "list", "-A"], source.run_list_all, {"all_namespaces": True}),
        (["source", "ls"], source.run_list_all, {"all_namespaces": False}),
    ],
)
def test_parsing(argv: list[str], handler: Any, expected: dict[str, Any]) -> None:
    args = main.build_parser().parse_args(argv)
    assert args.handler is handler
    for key, value in expected.items():
        assert getattr(args, key) == value, key


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["source", "ping", "create", "p"], "--sink"),
        (["source", "kafka", "create", "k", "--topics", "t", "--sink", "x"], "--servers"),
        (["source", "ping", "create", "p", "-s", "x", "-e", "hex"], "invalid choice"),
    ],
)
def test_parsing_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main.build_parser().parse_args(argv)
    assert message in capsys.readouterr().err


PING_CASES = [
    ("defaults: no schedule, no data", {"schedule": "", "data": "", "encoding": "text"},
     {"sink": SINK}),
    ("text data", {"schedule": "*/5 * * * *", "data": '{"a": 1}', "encoding": "text"},
     {"sink": SINK, "schedule": "*/5 * * * *", "data": '{"a": 1}'}),
    ("base64 data", {"schedule": "", "data": "aGk=", "encoding": "base64"},
     {"sink": SINK, "dataBase64": "aGk="}),
]


@pytest.mark.parametrize(("name", "flags", "spec"), PING_CASES, ids=[c[0] for c in PING_CASES])
def test_make_ping_source(name: str, flags: dict[str, str], spec: dict[str, Any]) -> None:
    obj = source.make_ping_source("p", "ns", sink=SINK, overrides={}, **flags)
    assert obj["apiVersion"] == "sources.knative.dev/v1" and obj["kind"] == "PingSource"
    assert obj["metadata"] == {"name": "p", "namespace": "ns"}
    assert obj["spec"] == spec


def test_make_ping_source_refuses_bad_base64() -> None:
    with pytest.raises(errors.Invalid, match="base64"):
        source.make_ping_source("p", "ns", schedule="", data="not base64!", encoding="base64",
                                sink=SINK, overrides={})


def test_make_kafka_source_with_overrides() -> None:
    obj = source.make_kafka_source("k", "ns", servers="a:1, b:2,", topics="t1,t2", group=None,
                                   initial_offset=None, sink=SINK, overrides={"team": "x"})
    assert obj["apiVersion"] == "sources.knative.dev/v1" and obj["kind"] == "KafkaSource"
    assert obj["spec"] == {"sink": SINK, "ceOverrides": {"extensions": {"team": "x"}},
                           "bootstrapServers": ["a:1", "b:2"], "topics": ["t1", "t2"]}


def test_source_rows_are_kn_source_list() -> None:
    ready = {"conditions": [{"type": "Ready", "status": "True"}]}
    items = [
        {"kind": "PingSource", "metadata": {"name": "p", "namespace": "ns"},
         "spec": {"sink": {"uri": "http://s/"}}, "status": ready},
        {"kind": "KafkaSource", "metadata": {"name": "k", "namespace": "ns"},
         "spec": {"sink": {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                                    "name": "default", "namespace": "ns"}}}},
    ]
    headers, rows = source.source_rows(items, ["pingsources.sources.knative.dev",
                                               "kafkasources.sources.knative.dev"])
    assert headers == ["NAME", "TYPE", "RESOURCE", "SINK", "READY"]
    assert rows[0][:3] == ["p", "PingSource", "pingsources.sources.knative.dev"]
    assert rows[0][4] == "True" and rows[1][3] == "broker:default"
