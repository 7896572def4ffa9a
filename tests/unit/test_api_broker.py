"""Broker: defaults, validation, immutability and lifecycle (ripple.api.eventing.broker_*)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from ripple import errors
from ripple.api import loading
from ripple.api.eventing import broker, broker_lifecycle

NOW = datetime(2024, 5, 1, tzinfo=UTC)
CLASS = "eventing.knative.dev/broker.class"
DEFAULT_DELIVERY = {"retry": 10, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S"}


def make(spec: Any = None, **metadata: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
        "metadata": {"name": "default", **metadata},
    }
    if spec is not None:
        obj["spec"] = spec
    return obj


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    broker.KIND.set_defaults(obj)
    return obj


@pytest.mark.parametrize(("given", "expected"), [
    pytest.param(make(), {
        "metadata": {"name": "default", "namespace": "default",
                     "annotations": {CLASS: "MTChannelBasedBroker"}},
        "spec": {"delivery": DEFAULT_DELIVERY},
    }, id="everything-defaulted"),
    pytest.param(make({"delivery": {"retry": 2}}, namespace="team", annotations={CLASS: "Kafka"}), {
        "metadata": {"name": "default", "namespace": "team", "annotations": {CLASS: "Kafka"}},
        "spec": {"delivery": {"retry": 2}},
    }, id="class-and-delivery-kept"),
    pytest.param(make({"delivery": {}}), {
        "metadata": {"name": "default", "namespace": "default",
                     "annotations": {CLASS: "MTChannelBasedBroker"}},
        "spec": {"delivery": {}},
    }, id="empty-delivery-is-not-absent"),
    pytest.param(make({"config": {"apiVersion": "v1", "kind": "ConfigMap", "name": "c"},
                       "delivery": {"deadLetterSink": {"ref": {"name": "d"}}}}, namespace="ns"), {
        "metadata": {"name": "default", "namespace": "ns",
                     "annotations": {CLASS: "MTChannelBasedBroker"}},
        "spec": {"config": {"apiVersion": "v1", "kind": "ConfigMap", "name": "c",
                            "namespace": "ns"},
                 "delivery": {"deadLetterSink": {"ref": {"name": "d", "namespace": "ns"}}}},
    }, id="ref-namespaces"),
    pytest.param(make(annotations={CLASS: ""}), {
        "metadata": {"name": "default", "namespace": "default", "annotations": {CLASS: ""}},
        "spec": {"delivery": DEFAULT_DELIVERY},
    }, id="empty-class-is-not-defaulted"),
])
def test_defaults(given: dict[str, Any], expected: dict[str, Any]) -> None:
    got = defaulted(given)
    assert {"metadata": got["metadata"], "spec": got["spec"]} == expected


def test_default_delivery_is_a_fresh_copy() -> None:
    first, second = defaulted(make()), defaulted(make())
    first["spec"]["delivery"]["retry"] = 1
    assert second["spec"]["delivery"]["retry"] == 10


def test_defaults_survive_a_malformed_broker() -> None:
    obj = make([1, 2])
    broker.KIND.set_defaults(obj)
    assert obj["spec"] == [1, 2]


def refusal(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj, old)
    assert caught.value.status == 422
    return [(e.path, e.message) for e in caught.value.errors]


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    (make(annotations={CLASS: ""}), f"metadata.annotations[{CLASS}]", "required field is missing"),
    (make("spec"), "spec", "must be a mapping, got a string"),
    (make({"channel": {}}), "spec.channel", 'unknown field "channel"'),
    (make({"config": {"kind": "ConfigMap", "name": "c"}}), "spec.config.apiVersion",
     "required field is missing"),
    (make({"config": "c"}), "spec.config", "must be a mapping"),
    (make({"delivery": {"retry": -2}}), "spec.delivery.retry", "invalid value -2"),
    (make({"delivery": {"backoffPolicy": "<policy-type>"}}), "spec.delivery.backoffPolicy",
     "must be one of exponential, linear"),
    (make({"delivery": {"deadLetterSink": {"uri": "dls"}}}), "spec.delivery.deadLetterSink.uri",
     "must be absolute"),
    (make(name="Default"), "metadata.name", "RFC 1123 subdomain"),
])
def test_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


@pytest.mark.parametrize("obj", [
    make(),
    make({}),
    make({"delivery": {"retry": 5, "backoffPolicy": "linear", "backoffDelay": "PT1S",
                       "deadLetterSink": {"ref": {"apiVersion": "v1", "kind": "Service",
                                                  "name": "dls"}, "uri": "/dead"}}}),
    make(annotations={CLASS: "Kafka", "kafka.eventing.knative.dev/external.topic": "t"}),
])
def test_valid(obj: dict[str, Any]) -> None:
    assert loading.admit(obj)["kind"] == "Broker"


CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "name": "c", "namespace": "default"}


@pytest.mark.parametrize(("change", "path"), [
    (lambda b: b["spec"].update(config={**CONFIG, "name": "other"}), "spec.config"),
    (lambda b: b["spec"].pop("config"), "spec.config"),
    (lambda b: b["metadata"]["annotations"].update({CLASS: "Kafka"}),
     f"metadata.annotations[{CLASS}]"),
    (lambda b: b["metadata"].update(name="other"), "metadata.name"),
])
def test_immutable(change: Any, path: str) -> None:
    old = loading.admit(make({"config": CONFIG}))
    new = copy.deepcopy(old)
    change(new)
    assert path in [p for p, _ in refusal(new, old)]


def test_delivery_may_change() -> None:
    old = loading.admit(make({"config": CONFIG}))
    new = copy.deepcopy(old)
    new["spec"]["delivery"] = {"retry": 1}
    assert loading.admit(new, old)["spec"]["delivery"] == {"retry": 1}


def condition(status: dict[str, Any], type_: str) -> tuple[str, str] | None:
    found = broker_lifecycle.CONDITIONS.get(status, type_)
    return None if found is None else (found["status"], found["reason"])


def test_lifecycle_to_ready_and_back() -> None:
    status: dict[str, Any] = {}
    broker_lifecycle.initialize(status, now=NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "Addressable", "DeadLetterSinkResolved", "FilterReady", "IngressReady", "Ready"]
    broker_lifecycle.mark_ingress_ready(status, now=NOW)
    broker_lifecycle.mark_filter_ready(status, now=NOW)
    broker_lifecycle.mark_addressable(status, "http://127.0.0.1:8080/ns/default", now=NOW)
    assert condition(status, "Ready") == ("Unknown", "")
    broker_lifecycle.mark_dead_letter_sink_not_configured(status, now=NOW)
    assert condition(status, "DeadLetterSinkResolved") == ("True", "DeadLetterSinkNotConfigured")
    assert condition(status, "Ready") == ("True", "")
    assert status["address"] == {"name": "http", "url": "http://127.0.0.1:8080/ns/default"}
    broker_lifecycle.mark_ingress_failed(status, "StoreUnavailable", "valkey is down", now=NOW)
    assert condition(status, "Ready") == ("False", "StoreUnavailable")


@pytest.mark.parametrize(("mark", "args", "type_", "expected", "field"), [
    (broker_lifecycle.mark_ingress_failed, ("R", "m"), "IngressReady", ("False", "R"), None),
    (broker_lifecycle.mark_filter_failed, ("R", "m"), "FilterReady", ("False", "R"), None),
    (broker_lifecycle.mark_addressable, (None,), "Addressable", ("False", "NoAddress"),
     ("address", None)),
    (broker_lifecycle.mark_addressable, ("https://b.example.com/ns/b",), "Addressable",
     ("True", ""), ("address", {"name": "https", "url": "https://b.example.com/ns/b"})),
    (broker_lifecycle.mark_addressable_unknown, ("R", "m"), "Addressable", ("Unknown", "R"), None),
    (broker_lifecycle.mark_dead_letter_sink_resolved, ("http://dls",), "DeadLetterSinkResolved",
     ("True", ""), ("deadLetterSinkUri", "http://dls")),
    (broker_lifecycle.mark_dead_letter_sink_failed, ("Unresolvable", "m"),
     "DeadLetterSinkResolved", ("False", "Unresolvable"), ("deadLetterSinkUri", None)),
    (broker_lifecycle.mark_dead_letter_sink_not_configured, (), "DeadLetterSinkResolved",
     ("True", "DeadLetterSinkNotConfigured"), ("deadLetterSinkUri", None)),
])
def test_marks(mark: Any, args: tuple[Any, ...], type_: str, expected: tuple[str, str],
               field: tuple[str, Any] | None) -> None:
    status: dict[str, Any] = {"address": {"url": "http://old"}, "deadLetterSinkUri": "http://old"}
    mark(status, *args, now=NOW)
    assert condition(status, type_) == expected
    if field is not None:
        assert status.get(field[0]) == field[1]


@pytest.mark.parametrize(("generation", "observed", "ready", "expected"), [
    (2, 2, True, True),
    (2, 1, True, False),
    (2, 2, False, False),
    (None, None, True, True),
])
def test_is_ready_needs_the_latest_generation(
    generation: int | None, observed: int | None, ready: bool, expected: bool
) -> None:
    status: dict[str, Any] = {"observedGeneration": observed}
    for mark in (broker_lifecycle.mark_ingress_ready, broker_lifecycle.mark_filter_ready,
                 broker_lifecycle.mark_dead_letter_sink_not_configured):
        mark(status, now=NOW)
    broker_lifecycle.mark_addressable(status, "http://x/ns/b" if ready else None, now=NOW)
    obj = {"metadata": {"generation": generation}, "status": status}
    assert broker_lifecycle.is_ready(obj) is expected
    assert broker_lifecycle.address_url(obj) == ("http://x/ns/b" if ready else None)
