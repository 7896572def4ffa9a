"""Trigger: defaults, validation, immutability, dependency (ripple.api.eventing.trigger_*)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ripple import errors
from ripple.api import loading
from ripple.api.eventing import trigger, trigger_types

SUBSCRIBER = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "s"}}
DEPENDENCY = "knative.dev/dependency"
INJECTION = "eventing.knative.dev/injection"


def make(spec: Any = "default", **metadata: Any) -> dict[str, Any]:
    if spec == "default":
        spec = {"broker": "default", "subscriber": copy.deepcopy(SUBSCRIBER)}
    obj: dict[str, Any] = {
        "apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
        "metadata": {"name": "t", **metadata},
    }
    if spec is not None:
        obj["spec"] = spec
    return obj


def with_spec(**changes: Any) -> dict[str, Any]:
    obj = make()
    obj["spec"].update(changes)
    return obj


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    trigger.KIND.set_defaults(obj)
    return obj


@pytest.mark.parametrize(("given", "path", "expected"), [
    (make(), "metadata", {"name": "t", "namespace": "default",
                          "labels": {"eventing.knative.dev/broker": "default"}}),
    (make(namespace="ns", labels={"eventing.knative.dev/broker": "stale", "app": "a"}), "metadata",
     {"name": "t", "namespace": "ns",
      "labels": {"eventing.knative.dev/broker": "default", "app": "a"}}),
    (make(), "spec.filter", {}),
    (with_spec(filter={"attributes": {"type": "x"}}), "spec.filter", {"attributes": {"type": "x"}}),
    (make(namespace="ns"), "spec.subscriber.ref.namespace", "ns"),
    (with_spec(subscriber={"ref": {**SUBSCRIBER["ref"], "namespace": "other"}}),
     "spec.subscriber.ref.namespace", "other"),
    (with_spec(delivery={"deadLetterSink": {"ref": {"name": "d"}}}),
     "spec.delivery.deadLetterSink.ref.namespace", "default"),
    (with_spec(delivery=None), "spec.delivery", None),
])
def test_defaults(given: dict[str, Any], path: str, expected: Any) -> None:
    value: Any = defaulted(given)
    for part in path.split("."):
        value = value[part] if value is not None else None
    assert value == expected


def test_defaults_add_no_label_without_a_broker() -> None:
    assert "labels" not in defaulted(make({"subscriber": SUBSCRIBER}))["metadata"]


def refusal(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj, old)
    assert caught.value.status == 422
    return [(e.path, e.message) for e in caught.value.errors]


F = "spec.filters"


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    # spec, broker, subscriber
    (make(None), "spec", "required field is missing"),
    (make([]), "spec", "must be a mapping"),
    (make({"subscriber": SUBSCRIBER}), "spec.broker", "required field is missing"),
    (with_spec(broker=""), "spec.broker", "required field is missing"),
    (with_spec(broker=7), "spec.broker", "must be a string"),
    (make({"broker": "default"}), "spec.subscriber", "required field is missing"),
    (with_spec(subscriber={}), "spec.subscriber", "expected at least one of ref or uri"),
    (with_spec(subscriber={"uri": "/path"}), "spec.subscriber.uri", "must be absolute"),
    (with_spec(subscriber={"ref": {"name": "s", "kind": "Service"}}),
     "spec.subscriber.ref.apiVersion", "required field is missing"),
    (with_spec(brokerRef={"name": "b"}), "spec.brokerRef", "not supported"),
    (with_spec(sink={}), "spec.sink", 'unknown field "sink"'),
    (with_spec(delivery={"retry": -1}), "spec.delivery.retry", "invalid value -1"),
    (with_spec(delivery={"timeout": "PT0S"}), "spec.delivery.timeout", "more than zero"),
    # filter.attributes
    (with_spec(filter={"attributes": {"Type": "x"}}), "spec.filter.attributes[Type]",
     'invalid key name "Type": Attribute name must start with a letter'),
    (with_spec(filter={"attributes": {"s_pace": "x"}}), "spec.filter.attributes[s_pace]",
     "invalid key name"),
    (with_spec(filter={"attributes": {"123": "x"}}), "spec.filter.attributes[123]",
     "invalid key name"),
    (with_spec(filter={"attributes": {"type": 1}}), "spec.filter.attributes[type]",
     "must be a string"),
    (with_spec(filter={"attributes": []}), "spec.filter.attributes", "must be a mapping"),
    (with_spec(filter={"attributes": {}, "subscriber": SUBSCRIBER}), "spec.filter.subscriber",
     'unknown field "subscriber"'),
    (with_spec(filter="type=x"), "spec.filter", "must be a mapping"),
    # filters
    (with_spec(filters={"exact": {"type": "a"}}), F, "must be a list of filter expressions"),
    (with_spec(filters=[{"exact": {"type": "a"}, "suffix": {"type": "b"}}]), f"{F}[0]",
     "multiple dialects found, filters can have only one dialect set: exact, suffix"),
    (with_spec(filters=[{}]), f"{F}[0]", "needs exactly one dialect, one of: all, any, not"),
    (with_spec(filters=[{"prefix": {"type": "a"}, "exacts": {"type": "a"}}]), f"{F}[0].exacts",
     'unknown field "exacts"; the fields here are: all, any, not, exact'),
    (with_spec(filters=["type = 'a'"]), f"{F}[0]", "must be a mapping, got a string"),
    (with_spec(filters=[{"exact": {}}]), f"{F}[0].exact", "must name at least one attribute"),
    (with_spec(filters=[{"exact": None}]), f"{F}[0].exact", "must be a mapping, got null"),
    (with_spec(filters=[{"prefix": {"type": ""}}]), f"{F}[0].prefix[type]", "must not be empty"),
    (with_spec(filters=[{"suffix": {"Type": "x"}}]), f"{F}[0].suffix[Type]", "invalid key name"),
    (with_spec(filters=[{"exact": {"": "x"}}]), f"{F}[0].exact[]", "invalid key name"),
    (with_spec(filters=[{"all": []}]), f"{F}[0].all", "at least one filter expression"),
    (with_spec(filters=[{"any": {"exact": {"type": "a"}}}]), f"{F}[0].any", "must be a list"),
    (with_spec(filters=[{"any": [{"exact": {"type": "a"}}, {"prefix": {"type": 1}}]}]),
     f"{F}[0].any[1].prefix[type]", "must be a string"),
    (with_spec(filters=[{"not": {"all": [{"not": {}}]}}]), f"{F}[0].not.all[0].not",
     "needs exactly one dialect"),
    (with_spec(filters=[{"not": []}]), f"{F}[0].not", "must be a mapping"),
    (with_spec(filters=[{"cesql": ""}]), f"{F}[0].cesql", "must not be empty"),
    (with_spec(filters=[{"cesql": 5}]), f"{F}[0].cesql", "must be a string"),
    (with_spec(filters=[{"exact": {"type": "a"}}, {"cesql": "type = "}]), f"{F}[1].cesql",
     "cesql: unexpected end of expression at position 7"),
    (with_spec(filters=[{"cesql": "type LIKE 'a%' AND"}]), f"{F}[0].cesql", "cesql:"),
    # annotations
    (make(annotations={DEPENDENCY: "ping"}), f"metadata.annotations[{DEPENDENCY}]",
     "not an object reference: not JSON"),
    (make(annotations={DEPENDENCY: "[]"}), f"metadata.annotations[{DEPENDENCY}]",
     "not a JSON object"),
    (make(annotations={DEPENDENCY: '{"kind":"PingSource","name":"p"}'}),
     f"metadata.annotations[{DEPENDENCY}].apiVersion", "required field is missing"),
    (make(annotations={DEPENDENCY: '{"apiVersion":"v1","kind":"PingSource","name":"p",'
                                   '"namespace":"elsewhere"}'}),
     f"metadata.annotations[{DEPENDENCY}].namespace", "must be empty or the Trigger's namespace"),
    (make(annotations={INJECTION: "yes"}), f"metadata.annotations[{INJECTION}]",
     'must be "enabled" or "disabled"'),
    (make({"broker": "other", "subscriber": SUBSCRIBER}, annotations={INJECTION: "enabled"}),
     f"metadata.annotations[{INJECTION}]", "only used with the Broker named default"),
])
def test_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


@pytest.mark.parametrize("spec_changes", [
    {},
    {"filter": {"attributes": {"type": "dev.knative.foo.bar", "myextension": "", "c1d2e3": "x",
                               "abcdefghijklmnopqrst": "x"}}},
    {"filters": []},
    {"filters": [{"exact": {"type": "a"}}, {"prefix": {"source": "/a"}}, {"suffix": {"id": "1"}},
                 {"not": {"exact": {"type": "b"}}},
                 {"all": [{"exact": {"type": "a"}}, {"any": [{"cesql": "EXISTS subject"}]}]},
                 {"cesql": "type LIKE 'dev.knative.%' AND source = 'a'"}]},
    {"filter": {}, "filters": [{"exact": {"type": "a"}}]},
    {"subscriber": {"uri": "http://sink.example.com"}},
    {"delivery": {"retry": 3, "backoffPolicy": "linear", "backoffDelay": "PT1S",
                  "deadLetterSink": {"uri": "http://dls.example.com"}}},
])
def test_valid(spec_changes: dict[str, Any]) -> None:
    assert loading.admit(with_spec(**spec_changes))["kind"] == "Trigger"


def test_every_error_is_reported_at_once() -> None:
    obj = make({"filters": [{"exact": {"Type": ""}}], "delivery": {"retry": -1}})
    assert [p for p, _ in refusal(obj)] == [
        "spec.broker", "spec.filters[0].exact[Type]", "spec.filters[0].exact[Type]",
        "spec.subscriber", "spec.delivery.retry",
    ]


def test_broker_is_immutable_and_the_rest_is_not() -> None:
    old = loading.admit(make())
    moved = copy.deepcopy(old)
    moved["spec"]["broker"] = "other"
    assert refusal(moved, old)[0][0] == "spec.broker"
    changed = copy.deepcopy(old)
    changed["spec"]["filters"] = [{"exact": {"type": "a"}}]
    changed["spec"]["subscriber"] = {"uri": "http://elsewhere.example.com"}
    assert loading.admit(changed, old)["spec"]["filters"] == [{"exact": {"type": "a"}}]


@pytest.mark.parametrize(("annotations", "expected"), [
    ({}, None),
    ({DEPENDENCY: '{"apiVersion":"sources.knative.dev/v1","kind":"PingSource","name":"p"}'},
     {"apiVersion": "sources.knative.dev/v1", "kind": "PingSource", "name": "p",
      "namespace": "ns"}),
    ({DEPENDENCY: '{"apiVersion":"v1","kind":"K","name":"p","namespace":"ns"}'},
     {"apiVersion": "v1", "kind": "K", "name": "p", "namespace": "ns"}),
    ({DEPENDENCY: "not json"}, None),
])
def test_dependency(annotations: dict[str, str], expected: dict[str, str] | None) -> None:
    assert trigger_types.dependency(make(namespace="ns", annotations=annotations)) == expected


def test_dependency_annotation_is_admitted() -> None:
    value = '{"kind":"PingSource","name":"test-ping-source","apiVersion":"sources.knative.dev/v1"}'
    assert loading.admit(make(annotations={DEPENDENCY: value}))


@pytest.mark.parametrize(("obj", "expected"), [
    (make(), "default"), (make({"broker": 3}), ""), (make(None), ""),
])
def test_broker_name(obj: dict[str, Any], expected: str) -> None:
    assert trigger_types.broker_name(obj) == expected
