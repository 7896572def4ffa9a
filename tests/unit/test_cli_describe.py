"""`describe`'s kn-style view, and the pure builders of `broker` and `trigger` commands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ripple import errors
from ripple.cli.commands import broker, resources, trigger

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
T0 = "2024-05-01T11:55:00Z"

BROKER = {
    "apiVersion": "eventing.knative.dev/v1",
    "kind": "Broker",
    "metadata": {
        "name": "default",
        "namespace": "default",
        "creationTimestamp": T0,
        "annotations": {"eventing.knative.dev/broker.class": "MTChannelBasedBroker"},
    },
    "spec": {
        "delivery": {
            "backoffDelay": "PT0.2S",
            "retry": 3,
            "backoffPolicy": "exponential",
            "deadLetterSink": {"uri": "http://dlq"},
        }
    },
    "status": {
        "address": {"url": "http://127.0.0.1:8080/default/default"},
        "conditions": [
            {"type": "Addressable", "status": "True", "lastTransitionTime": T0},
            {"type": "Ready", "status": "True", "lastTransitionTime": T0},
        ],
    },
}

BROKER_VIEW = """\
Name:         default
Namespace:    default
Annotations:  eventing.knative.dev/broker.class=MTChannelBasedBroker
Age:          5m

Address:
  URL:        http://127.0.0.1:8080/default/default

Delivery:
  Retry:      3
  Backoff:    exponential
  BackoffDelay: PT0.2S
  DeadLetter: http://dlq

Conditions:
  OK   TYPE          AGE   REASON
  ++   Ready         5m
  ++   Addressable   5m"""

TRIGGER = {
    "apiVersion": "eventing.knative.dev/v1",
    "kind": "Trigger",
    "metadata": {"name": "t", "namespace": "default", "creationTimestamp": T0},
    "spec": {
        "broker": "default",
        "filter": {"attributes": {"type": "dev.x", "source": "/s"}},
        "subscriber": {
            "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "hello"}
        },
    },
    "status": {
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "SubscriberResolved",
                "message": "no service hello",
                "lastTransitionTime": T0,
            },
            {"type": "BrokerReady", "status": "Unknown"},
        ]
    },
}

TRIGGER_VIEW = """\
Name:         t
Namespace:    default
Age:          5m
Broker:       default
Filter:
  source:     /s
  type:       dev.x

Sink:
  Name:       hello
  Namespace:  default
  Resource:   Service (serving.knative.dev/v1)

Conditions:
  OK   TYPE          AGE   REASON
  !!   Ready         5m    SubscriberResolved: no service hello
  ??   BrokerReady"""

SEQUENCE = {
    "kind": "Sequence",
    "metadata": {"name": "seq", "namespace": "ns", "labels": {"a": "b"}},
    "spec": {"steps": [{"uri": "http://one"}]},
}

SEQUENCE_VIEW = """\
Name:         seq
Namespace:    ns
Labels:       a=b
Age:

Spec:
  steps:
  - uri: http://one

Conditions:
  (none reported yet)"""


@pytest.mark.parametrize(
    "obj, view", [(BROKER, BROKER_VIEW), (TRIGGER, TRIGGER_VIEW), (SEQUENCE, SEQUENCE_VIEW)]
)
def test_describe_lines(obj: dict, view: str) -> None:
    assert "\n".join(resources.describe_lines(obj, NOW)) == view


@pytest.mark.parametrize(
    "args, expected",
    [
        ((None,), None),
        (({"uri": "http://d"},), {"deadLetterSink": {"uri": "http://d"}}),
        (
            (None, 3, "linear", "PT1S", "PT5S"),
            {"retry": 3, "backoffPolicy": "linear", "backoffDelay": "PT1S", "timeout": "PT5S"},
        ),
        ((None, 0), {"retry": 0}),
    ],
)
def test_make_delivery(args: tuple, expected: dict | None) -> None:
    assert broker.make_delivery(*args) == expected


@pytest.mark.parametrize(
    "broker_class, delivery, expected_meta, expected_spec",
    [
        (None, None, {"name": "b", "namespace": "ns"}, {}),
        (
            "Kafka",
            {"retry": 1},
            {
                "name": "b",
                "namespace": "ns",
                "annotations": {"eventing.knative.dev/broker.class": "Kafka"},
            },
            {"delivery": {"retry": 1}},
        ),
    ],
)
def test_make_broker(
    broker_class: str | None, delivery: dict | None, expected_meta: dict, expected_spec: dict
) -> None:
    assert broker.make_broker("b", "ns", broker_class, delivery) == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": expected_meta,
        "spec": expected_spec,
    }


@pytest.mark.parametrize(
    "start, flags, removals, expected",
    [
        ({}, None, False, {}),
        ({}, ["type=dev.x"], False, {"type": "dev.x"}),
        ({}, ["type=a", "source=/s", "type=b"], False, {"type": "b", "source": "/s"}),
        ({}, ["data=a=b"], False, {"data": "a=b"}),
        ({}, ["type="], False, {"type": ""}),
        ({"type": "a", "source": "s"}, ["type-"], True, {"source": "s"}),
        ({"type": "a"}, ["missing-"], True, {"type": "a"}),
        ({"type": "a"}, ["x=y-"], True, {"type": "a", "x": "y-"}),
    ],
)
def test_edit_filters(start: dict, flags: list | None, removals: bool, expected: dict) -> None:
    assert trigger.edit_filters(start, flags, removals=removals) == expected


@pytest.mark.parametrize("flag", ["type", "type-", "=x"])
def test_edit_filters_rejects(flag: str) -> None:
    with pytest.raises(errors.Invalid, match="expected KEY=VALUE"):
        trigger.edit_filters({}, [flag], removals=False)


@pytest.mark.parametrize(
    "filters, spec_filter",
    [({}, None), ({"type": "x"}, {"attributes": {"type": "x"}})],
)
def test_make_trigger(filters: dict, spec_filter: dict | None) -> None:
    made = trigger.make_trigger("t", "ns", "default", filters, {"uri": "http://s"})
    assert made["apiVersion"] == "eventing.knative.dev/v1" and made["kind"] == "Trigger"
    assert made["metadata"] == {"name": "t", "namespace": "ns"}
    assert made["spec"].get("filter") == spec_filter
    assert made["spec"]["subscriber"] == {"uri": "http://s"}
    assert made["spec"]["broker"] == "default"


# -- the Queue section: delivery stats from the operations API (ripple dlq, #13/#16) --------
from ripple.cli.commands import dlq  # noqa: E402
from ripple.cli.commands.resources import queue_lines  # noqa: E402

QUEUE_NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("stats, lines", [
    ({"target": "trigger:t", "backlog": 4, "inFlight": 1, "retries": 2, "deadLetters": 0,
      "deadLetteredTotal": 0, "lastError": None},
     ["", "Queue:", "  Backlog:    4", "  In flight:  1", "  Retries:    2", "  Dead letters: 0"]),
    ({"target": "trigger:t", "backlog": 0, "inFlight": 0, "retries": 0, "deadLetters": 3,
      "deadLetteredTotal": 5, "lastError": {"code": 500, "destination": "http://sub/",
                                            "message": "HTTP 500", "time": "2026-12-03T11:59:48.000Z"}},
     ["", "Queue:", "  Backlog:    0", "  In flight:  0", "  Retries:    0",
      "  Dead letters: 3 (5 in all); ripple dlq list trigger:t",
      "  Last error: 500 from http://sub/, 12s ago", "              HTTP 500"]),
    ("the server answered HTTP 404", ["", "Queue:", "  (unavailable: the server answered HTTP 404)"]),
])
def test_queue_lines(stats, lines) -> None:
    assert queue_lines(stats, QUEUE_NOW) == lines


@pytest.mark.parametrize("words, split", [
    ([], (None, [])),
    (["trigger:t", "1-0"], ("trigger:t", ["1-0"])),
    (["Broker:b"], ("Broker:b", [])),
    (["urn:uuid:1234", "e2"], (None, ["urn:uuid:1234", "e2"])),  # an event id with colons
    (["trigger:"], (None, ["trigger:"])),
    (["1700000000000-0"], (None, ["1700000000000-0"])),
])
def test_dlq_scope_and_ids(words, split) -> None:
    assert dlq.split_scope(words) == split


def test_dlq_list_rows() -> None:
    item = {"id": "1764763188000-0", "target": "trigger:t", "namespace": "ns", "code": 500,
            "destination": "http://sub/", "attempts": 3, "time": "2026-12-03T11:59:48.000Z",
            "event": {"type": "dev.t", "source": "/s", "id": "e1"}}
    headers, table = dlq.rows([item], QUEUE_NOW)
    assert headers == ["ID", "TARGET", "TYPE", "SOURCE", "CODE", "DESTINATION", "ATTEMPTS", "AGE"]
    assert table == [["1764763188000-0", "trigger:t", "dev.t", "/s", "500", "http://sub/", "3", "12s"]]
    headers, table = dlq.rows([item], QUEUE_NOW, all_namespaces=True)
    assert headers[0] == "NAMESPACE" and table[0][0] == "ns"


def test_dlq_show_lines() -> None:
    item = {"id": "1-0", "target": "trigger:t", "namespace": "ns", "code": 500, "destination": "http://sub/",
            "attempts": 3, "reason": "HTTP 500", "time": "2026-12-03T11:59:48.000Z",
            "event": {"specversion": "1.0", "id": "e1"}}
    lines = dlq.detail_lines(item, QUEUE_NOW)
    assert lines[:4] == ["ID:           1-0", "Target:       trigger:t", "Namespace:    ns",
                         "Time:         2026-12-03T11:59:48.000Z (12s ago)"]
    assert lines[-5:] == ["Event:", "  {", '    "specversion": "1.0",', '    "id": "e1"', "  }"]


def test_get_wide_shows_the_backlog_from_the_operations_api() -> None:
    from ripple.cli import output
    from ripple.cli.commands import common

    class Api:
        calls: list[str] = []

        def call(self, method: str, path: str) -> dict:
            self.calls.append(path)
            if "/namespaces/down/" in path:
                raise errors.RippleError("store unavailable")
            return {"items": [{"namespace": "ns", "target": "trigger:a", "backlog": 42}]}

    items = [{"kind": "Trigger", "metadata": {"name": "a", "namespace": "ns"}, "spec": {"broker": "b"}},
             {"kind": "Trigger", "metadata": {"name": "c", "namespace": "ns"}, "spec": {"broker": "b"}},
             {"kind": "Trigger", "metadata": {"name": "d", "namespace": "down"}, "spec": {"broker": "b"}}]
    api = Api()
    common.WIDE_ENRICHERS["Trigger"](api, items)  # type: ignore[arg-type]
    assert sorted(api.calls) == ["/apis/ripple.dev/v1/namespaces/down/deliverystats",
                                 "/apis/ripple.dev/v1/namespaces/ns/deliverystats"]
    headers, rows = output.table_rows(items, "Trigger", QUEUE_NOW, wide=True)
    column = headers.index("BACKLOG")
    assert [row[column] for row in rows] == ["42", "", ""]
    assert "BACKLOG" not in output.table_rows(items, "Trigger", QUEUE_NOW)[0]
