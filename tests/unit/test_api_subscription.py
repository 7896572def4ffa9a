"""Subscription: names, defaults, validation, immutability, readers, and the
`ripple.dev/delivery-order` annotation on Subscriptions and Triggers.

The lifecycle is in test_api_messaging_lifecycle.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ripple import errors
from ripple.api import loading, registry
from ripple.api.messaging import delivery_order, subscription, subscription_types

CHANNEL = {"apiVersion": "messaging.knative.dev/v1", "kind": "Channel", "name": "ch"}
SUBSCRIBER = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "s"}}
REPLY = {"ref": {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel",
                 "name": "next"}}
ORDER = "ripple.dev/delivery-order"
ORDER_PATH = f"metadata.annotations[{ORDER}]"


def make(spec: Any = "default", **metadata: Any) -> dict[str, Any]:
    if spec == "default":
        spec = {"channel": copy.deepcopy(CHANNEL), "subscriber": copy.deepcopy(SUBSCRIBER)}
    obj: dict[str, Any] = {
        "apiVersion": "messaging.knative.dev/v1", "kind": "Subscription",
        "metadata": {"name": "sub", **metadata},
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
    subscription.KIND.set_defaults(obj)
    return obj


@pytest.mark.parametrize("name", ["sub", "subscription", "subscriptions", "Subscription",
                                  "subscriptions.messaging.knative.dev"])
def test_names(name: str) -> None:
    found = registry.by_name(name)
    assert (found.kind, found.plural, found.addressable) == ("Subscription", "subscriptions", False)


@pytest.mark.parametrize(("given", "path", "expected"), [
    (make(), "metadata", {"name": "sub", "namespace": "default"}),
    (make(namespace="ns"), "spec.subscriber.ref.namespace", "ns"),
    (with_spec(subscriber={"ref": {**SUBSCRIBER["ref"], "namespace": "other"}}),
     "spec.subscriber.ref.namespace", "other"),
    (with_spec(reply=copy.deepcopy(REPLY)), "spec.reply.ref.namespace", "default"),
    (with_spec(delivery={"deadLetterSink": {"ref": {"name": "d"}}}),
     "spec.delivery.deadLetterSink.ref.namespace", "default"),
    (make(namespace="ns"), "spec.channel", CHANNEL),  # as written: Knative refuses a namespace
    (with_spec(subscriber={"uri": "http://x"}), "spec.subscriber", {"uri": "http://x"}),
])
def test_defaults(given: dict[str, Any], path: str, expected: Any) -> None:
    value: Any = defaulted(given)
    for part in path.split("."):
        value = value[part]
    assert value == expected


@pytest.mark.parametrize("spec", [None, "x", []])
def test_defaults_survive_a_malformed_spec(spec: Any) -> None:
    assert defaulted(make(spec)).get("spec") == spec


def refusal(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj, old)
    assert caught.value.status == 422
    return [(e.path, e.message) for e in caught.value.errors]


C = "spec.channel"


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    # spec
    (make(None), "spec", ("required field is missing: a Subscription needs a channel and a "
                         "subscriber")),
    (make("spec"), "spec", "must be a mapping, got a string"),
    (with_spec(filter={}), "spec.filter", ('unknown field "filter"; the fields here are: '
                                          "channel, subscriber, reply, delivery")),
    # channel
    (make({"subscriber": SUBSCRIBER}), C,
     "required field is missing: the Subscription must reference a channel"),
    (with_spec(channel={}), C, "the Subscription must reference a channel"),
    (with_spec(channel="ch"), C, "must be a mapping, got a string"),
    (with_spec(channel={"kind": "Channel", "name": "ch"}), f"{C}.apiVersion",
     "required field is missing"),
    (with_spec(channel={"apiVersion": "messaging.knative.dev/v1", "name": "ch"}), f"{C}.kind",
     "required field is missing"),
    (with_spec(channel={**CHANNEL, "name": ""}), f"{C}.name", "required field is missing"),
    (with_spec(channel={**CHANNEL, "name": 1}), f"{C}.name", "must be a string"),
    (with_spec(channel={**CHANNEL, "namespace": "other"}), f"{C}.namespace",
     'invalid value "other": must be empty or the Subscription\'s namespace "default"'),
    (with_spec(channel={**CHANNEL, "namespace": 3}), f"{C}.namespace", "must be a string"),
    (with_spec(channel={**CHANNEL, "group": "messaging.knative.dev"}), f"{C}.group",
     "must not be set"),
    (with_spec(channel={**CHANNEL, "uid": "x"}), f"{C}.uid", 'unknown field "uid"'),
    # subscriber
    (make({"channel": CHANNEL}), "spec.subscriber",
     "required field is missing: the Subscription must reference a subscriber"),
    (with_spec(subscriber={}), "spec.subscriber", "the Subscription must reference a subscriber"),
    (with_spec(subscriber=None), "spec.subscriber", "the Subscription must reference a subscriber"),
    (with_spec(subscriber={"uri": "/path"}), "spec.subscriber.uri", "must be absolute"),
    (with_spec(subscriber={"ref": {"kind": "Service", "name": "s"}}),
     "spec.subscriber.ref.apiVersion", "required field is missing"),
    (with_spec(subscriber={"ref": SUBSCRIBER["ref"], "url": "/x"}), "spec.subscriber.url",
     'unknown field "url"'),
    # reply
    (with_spec(reply={"uri": "next"}), "spec.reply.uri", "must be absolute"),
    (with_spec(reply={"ref": {**REPLY["ref"], "name": None}}), "spec.reply.ref.name",
     "required field is missing"),
    (with_spec(reply="next"), "spec.reply", "must be a mapping"),
    # delivery
    (with_spec(delivery={"retry": "3"}), "spec.delivery.retry", "must be an integer"),
    (with_spec(delivery={"backoffDelay": "-PT1S"}), "spec.delivery.backoffDelay", "zero or more"),
    (with_spec(delivery={"deadLetterSink": {}}), "spec.delivery.deadLetterSink",
     "expected at least one of ref or uri"),
    # annotations
    (make(annotations={ORDER: "fifo"}), ORDER_PATH,
     'invalid value "fifo": must be one of ordered, unordered'),
    (make(annotations={ORDER: "Ordered"}), ORDER_PATH, 'invalid value "Ordered"'),
    (make(annotations={ORDER: ""}), ORDER_PATH, 'invalid value ""'),
    (make(annotations={ORDER: True}), ORDER_PATH, "must be a string"),
])
def test_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


@pytest.mark.parametrize("changes", [
    {},
    {"channel": {**CHANNEL, "namespace": "default"}},
    {"channel": {"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel",
                 "name": "k"}},
    {"channel": {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel",
                 "name": "i"}},
    {"subscriber": {"uri": "http://sink.example.com/path"}},
    {"subscriber": {"ref": SUBSCRIBER["ref"], "uri": "/path"}},
    {"reply": REPLY},
    {"reply": {}},
    {"delivery": {"retry": 3, "backoffPolicy": "linear", "backoffDelay": "PT2S",
                  "retryAfterMax": "PT120S", "timeout": "PT5S",
                  "deadLetterSink": {"ref": SUBSCRIBER["ref"]}}},
])
def test_valid(changes: dict[str, Any]) -> None:
    admitted = loading.admit(with_spec(**changes))
    assert admitted["spec"]["channel"] == changes.get("channel", CHANNEL)


@pytest.mark.parametrize("value", ["ordered", "unordered"])
def test_delivery_order_is_admitted(value: str) -> None:
    admitted = loading.admit(make(annotations={ORDER: value}))
    assert delivery_order.of(admitted) == value


@pytest.mark.parametrize(("annotations", "expected"), [
    ({}, "unordered"), ({ORDER: "ordered"}, "ordered"), ({ORDER: "junk"}, "unordered"),
])
def test_delivery_order_reader(annotations: dict[str, str], expected: str) -> None:
    assert delivery_order.of(make(annotations=annotations)) == expected


TRIGGER = {"broker": "default", "subscriber": SUBSCRIBER}


@pytest.mark.parametrize(("value", "refused"), [
    ("ordered", False), ("unordered", False), ("in-order", True), ("ORDERED", True),
])
def test_delivery_order_on_triggers(value: str, refused: bool) -> None:
    trigger = {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
               "metadata": {"name": "t", "annotations": {ORDER: value}}, "spec": TRIGGER}
    if not refused:
        assert delivery_order.of(loading.admit(trigger)) == value
        return
    found = refusal(trigger)
    assert found == [(ORDER_PATH, f'invalid value "{value}": must be one of ordered, unordered')]


def test_every_error_is_reported_at_once() -> None:
    obj = make({"channel": {"kind": "Channel"}, "reply": {"uri": "r"}, "delivery": {"retry": -1}},
               annotations={ORDER: "x"})
    assert [p for p, _ in refusal(obj)] == [
        ORDER_PATH, f"{C}.apiVersion", f"{C}.name", "spec.subscriber", "spec.reply.uri",
        "spec.delivery.retry",
    ]


@pytest.mark.parametrize(("change", "immutable"), [
    (lambda s: s["spec"]["channel"].update(name="other"), True),
    (lambda s: s["spec"]["channel"].update(kind="InMemoryChannel"), True),
    (lambda s: s["spec"]["channel"].update(apiVersion="messaging.knative.dev/v1beta1"), True),
    (lambda s: s["spec"]["channel"].update(namespace="default"), False),  # the same channel
    (lambda s: s["spec"].update(subscriber={"uri": "http://elsewhere.example.com"}), False),
    (lambda s: s["spec"].update(reply=REPLY), False),
    (lambda s: s["spec"].update(delivery={"retry": 1}), False),
])
def test_channel_is_immutable_and_the_rest_is_not(change: Any, immutable: bool) -> None:
    old = loading.admit(make())
    new = copy.deepcopy(old)
    change(new)
    if immutable:
        (found,) = refusal(new, old)
        assert found[0] == C
        assert "field is immutable" in found[1]
    else:
        assert loading.admit(new, old)


@pytest.mark.parametrize(("obj", "expected"), [
    (make(namespace="ns"), {**CHANNEL, "namespace": "ns"}),
    (make(), {**CHANNEL, "namespace": "default"}),
    (with_spec(channel={**CHANNEL, "namespace": "ns", "address": "x"}),
     {**CHANNEL, "namespace": "ns"}),
    (with_spec(channel={}), None),
    (make(None), None),
    (make("x"), None),
])
def test_channel_ref(obj: dict[str, Any], expected: dict[str, str] | None) -> None:
    assert subscription_types.channel_ref(obj) == expected


@pytest.mark.parametrize(("status", "expected"), [
    (None, {}),
    ({"physicalSubscription": {"subscriberUri": "http://s"}}, {"subscriberUri": "http://s"}),
    ({"physicalSubscription": "x"}, {}),
])
def test_physical_subscription(status: Any, expected: dict[str, str]) -> None:
    assert subscription_types.physical_subscription({**make(), "status": status}) == expected
