"""Sequence: names, defaults, validation and lifecycle (ripple.api.flows.sequence_*, statuses)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from ripple import errors
from ripple.api import loading, registry
from ripple.api.flows import sequence, sequence_lifecycle, sequence_types, statuses

NOW = datetime(2024, 5, 1, tzinfo=UTC)
IMC_TEMPLATE = {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel"}


def svc(name: str) -> dict[str, Any]:
    return {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": name}}


def make(spec: Any = "default", **metadata: Any) -> dict[str, Any]:
    if spec == "default":
        spec = {"steps": [svc("first"), svc("second")]}
    obj: dict[str, Any] = {
        "apiVersion": "flows.knative.dev/v1", "kind": "Sequence",
        "metadata": {"name": "seq", **metadata},
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
    sequence.KIND.set_defaults(obj)
    return obj


@pytest.mark.parametrize("name", ["sequence", "sequences", "Sequence",
                                  "sequences.flows.knative.dev"])
def test_names(name: str) -> None:
    found = registry.by_name(name)
    assert (found.kind, found.plural, found.addressable) == ("Sequence", "sequences", True)
    assert registry.by_resource("flows.knative.dev", "v1", "sequences") is found


@pytest.mark.parametrize(("given", "path", "expected"), [
    (make(), "metadata", {"name": "seq", "namespace": "default"}),
    (make(), "spec.channelTemplate", IMC_TEMPLATE),
    (with_spec(channelTemplate=None), "spec.channelTemplate", IMC_TEMPLATE),
    (with_spec(channelTemplate={"apiVersion": "messaging.knative.dev/v1beta1",
                                "kind": "KafkaChannel"}),
     "spec.channelTemplate", {"apiVersion": "messaging.knative.dev/v1beta1",
                              "kind": "KafkaChannel"}),
    (make(namespace="ns"), "spec.steps", [
        {"ref": {**svc("first")["ref"], "namespace": "ns"}},
        {"ref": {**svc("second")["ref"], "namespace": "ns"}}]),
    (with_spec(steps=[{"uri": "http://x", "delivery": {"deadLetterSink": {"ref": {"name": "d"}}}}]),
     "spec.steps", [{"uri": "http://x", "delivery": {"deadLetterSink": {
         "ref": {"name": "d", "namespace": "default"}}}}]),
    (with_spec(reply=svc("display")), "spec.reply",
     {"ref": {**svc("display")["ref"], "namespace": "default"}}),
])
def test_defaults(given: dict[str, Any], path: str, expected: Any) -> None:
    value: Any = defaulted(given)
    for part in path.split("."):
        value = value[part]
    assert value == expected


@pytest.mark.parametrize("spec", [None, "x", {"steps": "x"}, {"steps": ["x", None]}])
def test_defaults_survive_a_malformed_spec(spec: Any) -> None:
    got = defaulted(make(spec)).get("spec")
    if isinstance(spec, dict):
        assert got == {**spec, "channelTemplate": IMC_TEMPLATE}
    else:
        assert got == spec


def refusal(obj: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj)
    assert caught.value.status == 422
    return [(e.path, e.message) for e in caught.value.errors]


S = "spec.steps"
T = "spec.channelTemplate"


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    (make(None), "spec", "required field is missing: a Sequence needs at least one step"),
    (make([]), "spec", "must be a mapping, got a list"),
    (with_spec(step=[]), "spec.step", ('unknown field "step"; the fields here are: steps, '
                                      "channelTemplate, reply")),
    # steps
    (make({}), S, "required field is missing: a Sequence needs at least one step"),
    (with_spec(steps=[]), S, "a Sequence needs at least one step"),
    (with_spec(steps=svc("first")), S, "must be a list of steps, got a mapping"),
    (with_spec(steps=["first"]), f"{S}[0]", "must be a mapping, got a string"),
    (with_spec(steps=[svc("a"), {}]), f"{S}[1]", "expected at least one of ref or uri"),
    (with_spec(steps=[{"delivery": {"retry": 1}}]), f"{S}[0]",
     "expected at least one of ref or uri"),
    (with_spec(steps=[svc("a"), {"ref": {"apiVersion": "v1", "name": "s"}}]),
     f"{S}[1].ref.kind", "required field is missing"),
    (with_spec(steps=[{"uri": "/relative"}]), f"{S}[0].uri", "must be absolute"),
    (with_spec(steps=[{**svc("a"), "uri": "http://abs"}]), f"{S}[0].uri",
     "an absolute URI is not allowed beside a ref"),
    (with_spec(steps=[{**svc("a"), "reply": svc("b")}]), f"{S}[0].reply",
     'unknown field "reply"; the fields here are: ref, uri, CACerts, audience, delivery'),
    (with_spec(steps=[{**svc("a"), "delivery": {"retry": -1}}]), f"{S}[0].delivery.retry",
     "invalid value -1"),
    (with_spec(steps=[{**svc("a"), "delivery": []}]), f"{S}[0].delivery", "must be a mapping"),
    (with_spec(steps=[{**svc("a"), "audience": 1}]), f"{S}[0].audience", "must be a string"),
    # channelTemplate
    (with_spec(channelTemplate={"kind": "InMemoryChannel"}), f"{T}.apiVersion",
     "required field is missing"),
    (with_spec(channelTemplate={**IMC_TEMPLATE, "kind": "<kind>"}), f"{T}.kind",
     "a kind is a CamelCase name"),
    (with_spec(channelTemplate=[]), T, "must be a mapping"),
    # reply
    (with_spec(reply={}), "spec.reply", "expected at least one of ref or uri"),
    (with_spec(reply={"ref": {"kind": "Broker", "name": "default"}}), "spec.reply.ref.apiVersion",
     "required field is missing"),
    (with_spec(reply="display"), "spec.reply", "must be a mapping"),
    # metadata
    (make(name="seq_1"), "metadata.name", "RFC 1123 subdomain"),
])
def test_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


@pytest.mark.parametrize("changes", [
    {},
    {"steps": [svc("only")]},
    {"steps": [{"uri": "http://step.example.com/a"}, {**svc("b"), "uri": "/path"},
               {**svc("c"), "delivery": {"retry": 2, "deadLetterSink": svc("dls")}}]},
    {"reply": {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                       "name": "default"}}},
    {"reply": {"uri": "http://display.example.com"}},
    {"channelTemplate": {"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel",
                         "spec": {"numPartitions": 1}}},
])
def test_valid(changes: dict[str, Any]) -> None:
    assert loading.admit(with_spec(**changes))["kind"] == "Sequence"


def test_every_error_is_reported_at_once() -> None:
    obj = make({"steps": [{}, {"uri": "x"}], "channelTemplate": {}, "reply": {"uri": "y"}})
    assert [p for p, _ in refusal(obj)] == [
        f"{S}[0]", f"{S}[1].uri", f"{T}.apiVersion", f"{T}.kind", "spec.reply.uri",
    ]


def test_nothing_is_immutable() -> None:
    old = loading.admit(make())
    new = copy.deepcopy(old)
    new["spec"]["steps"] = [svc("other")]
    new["spec"]["channelTemplate"] = {"apiVersion": "messaging.knative.dev/v1beta1",
                                      "kind": "KafkaChannel"}
    assert loading.admit(new, old)["spec"]["steps"][0]["ref"]["name"] == "other"


def test_steps_reader() -> None:
    assert sequence_types.steps(make()) == [svc("first"), svc("second")]
    assert sequence_types.steps(make({"steps": ["x", svc("a")]})) == [svc("a")]
    assert sequence_types.steps(make(None)) == []


# lifecycle

def child(kind: str, name: str, ready: str | None, url: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": ready, "reason": "", "message": ""}]
    if url is not None:
        status["address"] = {"url": url}
    api = "messaging.knative.dev/v1"
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "ns"},
            "status": status}


def channels(*ready: str | None) -> list[dict[str, Any]]:
    return [child("InMemoryChannel", f"seq-kn-sequence-{i}", r, f"http://ingress/ns/c{i}")
            for i, r in enumerate(ready)]


def subscriptions(*ready: str | None) -> list[dict[str, Any]]:
    return [child("Subscription", f"seq-kn-sequence-{i}", r) for i, r in enumerate(ready)]


def condition(status: dict[str, Any], type_: str) -> tuple[str, str] | None:
    found = sequence_lifecycle.CONDITIONS.get(status, type_)
    return None if found is None else (found["status"], found["reason"])


def test_initialize_then_ready() -> None:
    status: dict[str, Any] = {}
    sequence_lifecycle.initialize(status, now=NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "Addressable", "ChannelsReady", "Ready", "SubscriptionsReady"]
    sequence_lifecycle.propagate_channel_statuses(status, channels("True", "True"), now=NOW)
    sequence_lifecycle.propagate_subscription_statuses(status, subscriptions("True", "True"),
                                                       now=NOW)
    assert condition(status, "Ready") == ("True", "")
    assert status["address"] == {"name": "http", "url": "http://ingress/ns/c0"}
    assert status["channelStatuses"][1] == {
        "channel": {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel",
                    "name": "seq-kn-sequence-1", "namespace": "ns"},
        "ready": {"type": "Ready", "status": "True", "reason": "", "message": ""},
    }
    assert status["subscriptionStatuses"][0]["subscription"]["kind"] == "Subscription"
    assert sequence_lifecycle.address_url({"status": status}) == "http://ingress/ns/c0"


@pytest.mark.parametrize(("ready", "expected"), [
    (("True", "True"), ("True", "")),
    (("True", "False"), ("Unknown", "ChannelsNotReady")),
    (("True", None), ("Unknown", "ChannelsNotReady")),
    ((), ("Unknown", "ChannelsNotReady")),
])
def test_propagate_channel_statuses(ready: tuple[str | None, ...],
                                    expected: tuple[str, str]) -> None:
    status: dict[str, Any] = {}
    sequence_lifecycle.propagate_channel_statuses(status, channels(*ready), now=NOW)
    assert condition(status, "ChannelsReady") == expected
    assert len(status["channelStatuses"]) == len(ready)


@pytest.mark.parametrize(("ready", "expected"), [
    (("True",), ("True", "")),
    (("True", "Unknown"), ("Unknown", "SubscriptionsNotReady")),
    (("False",), ("Unknown", "SubscriptionsNotReady")),
    ((), ("Unknown", "SubscriptionsNotReady")),
])
def test_propagate_subscription_statuses(ready: tuple[str | None, ...],
                                         expected: tuple[str, str]) -> None:
    status: dict[str, Any] = {}
    sequence_lifecycle.propagate_subscription_statuses(status, subscriptions(*ready), now=NOW)
    assert condition(status, "SubscriptionsReady") == expected


def test_a_child_without_ready_gets_knatives_stand_in() -> None:
    status: dict[str, Any] = {}
    sequence_lifecycle.propagate_subscription_statuses(status, subscriptions(None), now=NOW)
    assert status["subscriptionStatuses"][0]["ready"] == {
        "type": "Ready", "status": "Unknown", "lastTransitionTime": "2024-05-01T00:00:00Z",
        "reason": "NoReady", "message": "Subscription does not have Ready condition"}


def test_address_follows_channel_zero() -> None:
    status: dict[str, Any] = {}
    no_address = [child("InMemoryChannel", "c0", "True"), *channels("True")]
    sequence_lifecycle.propagate_channel_statuses(status, no_address, now=NOW)
    assert condition(status, "Addressable") == ("Unknown", "emptyAddress")
    assert "address" not in status
    sequence_lifecycle.mark_addressable(status, "https://x/ns/seq", now=NOW)
    assert status["address"] == {"name": "https", "url": "https://x/ns/seq"}


@pytest.mark.parametrize(("mark", "type_"), [
    (sequence_lifecycle.mark_channels_not_ready, "ChannelsReady"),
    (sequence_lifecycle.mark_subscriptions_not_ready, "SubscriptionsReady"),
    (sequence_lifecycle.mark_addressable_not_ready, "Addressable"),
])
def test_not_ready_marks_are_unknown(mark: Any, type_: str) -> None:
    status: dict[str, Any] = {}
    mark(status, "R", "m", now=NOW)
    assert condition(status, type_) == ("Unknown", "R")
    assert condition(status, "Ready") == ("Unknown", "R")


@pytest.mark.parametrize(("generation", "observed", "expected"), [(2, 2, True), (2, 1, False)])
def test_is_ready(generation: int, observed: int, expected: bool) -> None:
    status: dict[str, Any] = {"observedGeneration": observed}
    sequence_lifecycle.propagate_channel_statuses(status, channels("True"), now=NOW)
    sequence_lifecycle.propagate_subscription_statuses(status, subscriptions("True"), now=NOW)
    obj = {"metadata": {"generation": generation}, "status": status}
    assert sequence_lifecycle.is_ready(obj) is expected
    assert sequence_lifecycle.is_ready({"metadata": {}}) is False


@pytest.mark.parametrize(("obj", "expected"), [
    ({"kind": "Channel", "metadata": {"name": "c"}},
     {"apiVersion": "", "kind": "Channel", "name": "c", "namespace": "default"}),
    ({}, {"apiVersion": "", "kind": "", "name": "", "namespace": "default"}),
])
def test_object_reference(obj: dict[str, Any], expected: dict[str, str]) -> None:
    assert statuses.object_reference(obj) == expected
