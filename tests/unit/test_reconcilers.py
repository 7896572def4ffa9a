"""Reconciler tables, Knative style: the object and the observed world in, the status out."""

from __future__ import annotations

import datetime as dt

import pytest

from controllers.reconcilers import broker, trigger
from controllers.reconciling import Context, ObservedList

BASE = "http://127.0.0.1:8080"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
T1 = T0 + dt.timedelta(minutes=5)


def a_broker(name: str = "default", delivery: dict | None = None, *, ready: bool | None = None,
             dls: str | None = None) -> dict:
    obj = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
           "metadata": {"name": name, "namespace": "ns", "generation": 2},
           "spec": {"delivery": delivery} if delivery else {}}
    if ready is not None:
        status = broker.reconcile(obj, Context(ObservedList([]), T0, BASE)).status
        if not ready:
            status["conditions"] = [dict(c, status="False", reason="Boom", message="broken")
                                    if c["type"] in ("Ready", "IngressReady") else c
                                    for c in status["conditions"]]
        if dls:
            status["deadLetterSinkUri"] = dls
        obj["status"] = status
    return obj


def a_trigger(subscriber: dict, *, delivery: dict | None = None, annotations: dict | None = None) -> dict:
    spec = {"broker": "default", "subscriber": subscriber}
    if delivery:
        spec["delivery"] = delivery
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
            "metadata": {"name": "t", "namespace": "ns", "generation": 3, "annotations": annotations or {}},
            "spec": spec}


def conditions(status: dict) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c.get("reason", "")) for c in status["conditions"]}


@pytest.mark.parametrize(
    "obj, world, ready, extra",
    [
        (a_broker(), [], ("True", ""), {"address": {"name": "http", "url": f"{BASE}/ns/default"}}),
        (a_broker(delivery={"deadLetterSink": {"uri": "http://dls/"}}), [], ("True", ""),
         {"deadLetterSinkUri": "http://dls/"}),
        (a_broker(delivery={"deadLetterSink": {"ref": {"apiVersion": "eventing.knative.dev/v1",
                                                        "kind": "Broker", "name": "dlq", "namespace": "ns"}}}),
         [a_broker("dlq", ready=True)], ("True", ""), {"deadLetterSinkUri": f"{BASE}/ns/dlq"}),
        (a_broker(delivery={"deadLetterSink": {"ref": {"apiVersion": "eventing.knative.dev/v1",
                                                        "kind": "Broker", "name": "gone", "namespace": "ns"}}}),
         [], ("False", "Unable to get the dead letter sink's URI"), {}),
    ],
)
def test_broker(obj: dict, world: list[dict], ready: tuple[str, str], extra: dict) -> None:
    status = broker.reconcile(obj, Context(ObservedList(world), T0, BASE)).status
    assert conditions(status)["Ready"] == ready
    assert status["observedGeneration"] == 2
    for key, value in extra.items():
        assert status[key] == value


SERVICE_REF = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "display"}}
BROKER_REF = {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "other"}}


@pytest.mark.parametrize(
    "obj, world, wanted, subscriber_uri, dls_uri",
    [
        (a_trigger({"uri": "http://sub/"}), [],
         {"Ready": ("False", "BrokerDoesNotExist"), "SubscriberResolved": ("True", "")}, "http://sub/", None),
        (a_trigger({"uri": "http://sub/"}), [a_broker(ready=True)],
         {"Ready": ("True", ""), "BrokerReady": ("True", "")}, "http://sub/", None),
        (a_trigger({"uri": "http://sub/"}), [a_broker(ready=False)],
         {"Ready": ("False", "Boom"), "BrokerReady": ("False", "Boom")}, "http://sub/", None),
        (a_trigger(SERVICE_REF), [a_broker(ready=True)],
         {"Ready": ("False", "NotFound"), "SubscriberResolved": ("False", "NotFound")}, None, None),
        (a_trigger(BROKER_REF), [a_broker(ready=True)],
         {"SubscriberResolved": ("False", "NotFound")}, None, None),
        (a_trigger(dict(BROKER_REF, uri="extra/path")), [a_broker(ready=True), a_broker("other", ready=True)],
         {"Ready": ("True", "")}, f"{BASE}/ns/extra/path", None),
        # the Broker's dead-letter sink is inherited even when the Trigger sets its own delivery
        (a_trigger({"uri": "http://sub/"}, delivery={"retry": 1}), [a_broker(ready=True, dls="http://bdls/")],
         {"DeadLetterSinkResolved": ("True", "")}, "http://sub/", "http://bdls/"),
        (a_trigger({"uri": "http://sub/"}, delivery={"deadLetterSink": {"uri": "http://tdls/"}}),
         [a_broker(ready=True, dls="http://bdls/")], {"DeadLetterSinkResolved": ("True", "")},
         "http://sub/", "http://tdls/"),
        (a_trigger({"uri": "http://sub/"}, annotations={"knative.dev/dependency": '{"apiVersion": '
                   '"sources.knative.dev/v1", "kind": "PingSource", "name": "ping"}'}), [a_broker(ready=True)],
         {"Ready": ("False", "DependencyDoesNotExist")}, "http://sub/", None),
    ],
)
def test_trigger(obj: dict, world: list[dict], wanted: dict, subscriber_uri: str | None,
                 dls_uri: str | None) -> None:
    status = trigger.reconcile(obj, Context(ObservedList(world), T0, BASE)).status
    got = conditions(status)
    for condition, expected in wanted.items():
        assert got[condition] == expected, (condition, status["conditions"])
    assert status.get("subscriberUri") == subscriber_uri
    assert status.get("deadLetterSinkUri") == dls_uri
    assert status["observedGeneration"] == 3


def test_a_subscriber_failure_message_names_the_ref() -> None:
    status = trigger.reconcile(a_trigger(SERVICE_REF), Context(ObservedList([a_broker(ready=True)]), T0, BASE)).status
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert "Service ns/display" in ready["message"]


@pytest.mark.parametrize("reconcile, obj, world", [
    (broker.reconcile, a_broker(), []),
    (trigger.reconcile, a_trigger({"uri": "http://sub/"}), [a_broker(ready=True)]),
    (trigger.reconcile, a_trigger(SERVICE_REF), []),
])
def test_reconciling_again_later_changes_nothing(reconcile, obj, world) -> None:
    first = reconcile(obj, Context(ObservedList(world), T0, BASE)).status
    again = reconcile(dict(obj, status=first), Context(ObservedList(world), T1, BASE)).status
    assert again == first  # lastTransitionTime moves only when a condition changes


from controllers.reconcilers import channel as channel_reconciler  # noqa: E402
from controllers.reconcilers import subscription as subscription_reconciler  # noqa: E402


def an_imc(name: str = "ch", subscribers_ready: bool | None = None) -> dict:
    return {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel",
            "metadata": {"name": name, "namespace": "ns", "generation": 1}, "spec": {}}


def a_subscription(channel: str = "ch", *, resolved: bool = False, reply: dict | None = None) -> dict:
    spec = {"channel": {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel", "name": channel},
            "subscriber": {"uri": "http://sub/"}}
    if reply:
        spec["reply"] = reply
    obj = {"apiVersion": "messaging.knative.dev/v1", "kind": "Subscription",
           "metadata": {"name": "s", "namespace": "ns", "uid": "u1", "generation": 1}, "spec": spec}
    if resolved:
        obj["status"] = {"physicalSubscription": {"subscriberUri": "http://sub/"}}
    return obj


@pytest.mark.parametrize(
    "subs, wanted_subscribers",
    [
        ([], None),
        ([a_subscription(resolved=True)], [{"uid": "u1", "observedGeneration": 1, "ready": "True"}]),
        # not resolved: not in spec.subscribers yet (Knative adds it once it resolves)
        ([a_subscription(resolved=False)], None),
        ([a_subscription("other", resolved=True)], None),
    ],
)
def test_in_memory_channel(subs: list[dict], wanted_subscribers) -> None:
    status = channel_reconciler.reconcile_in_memory_channel(an_imc(), Context(ObservedList(subs), T0, BASE)).status
    assert conditions(status)["Ready"] == ("True", "")
    assert status["address"]["url"] == f"{BASE}/channels/ns/ch"
    assert status.get("subscribers") == wanted_subscribers


def test_channel_with_an_unsupported_backing_is_not_ready() -> None:
    ch = {"apiVersion": "messaging.knative.dev/v1", "kind": "Channel",
          "metadata": {"name": "k", "namespace": "ns", "generation": 1},
          "spec": {"channelTemplate": {"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel"}}}
    status = channel_reconciler.reconcile_channel(ch, Context(ObservedList([]), T0, BASE)).status
    assert conditions(status)["Ready"] == ("False", "BackingChannelNotSupported")


@pytest.mark.parametrize(
    "sub, world, ready, physical",
    [
        (a_subscription(), [], ("False", "ChannelNotFound"), {"subscriberUri": "http://sub/"}),
        (a_subscription(reply={"uri": "http://reply/"}), [an_imc()], ("Unknown", "SubscriptionNotMarkedReadyByChannel"),
         {"subscriberUri": "http://sub/", "replyUri": "http://reply/"}),
        (a_subscription(reply=BROKER_REF), [an_imc()], ("False", "ReferencesNotResolved"),
         {"subscriberUri": "http://sub/"}),
    ],
)
def test_subscription(sub: dict, world: list[dict], ready: tuple[str, str], physical: dict) -> None:
    status = subscription_reconciler.reconcile(sub, Context(ObservedList(world), T0, BASE)).status
    assert conditions(status)["Ready"] == ready
    assert status["physicalSubscription"] == physical


def test_subscription_is_ready_once_its_channel_reports_it() -> None:
    sub = a_subscription(resolved=True)
    imc = an_imc()
    result = channel_reconciler.reconcile_in_memory_channel(imc, Context(ObservedList([sub]), T0, BASE))
    imc["status"] = result.status
    status = subscription_reconciler.reconcile(sub, Context(ObservedList([imc]), T0, BASE)).status
    assert conditions(status)["AddedToChannel"] == ("Unknown", "NotAddedToChannel")
    assert result.spec == {"subscribers": [
        {"name": "s", "uid": "u1", "generation": 1, "subscriberUri": "http://sub/"}]}
    imc["spec"] = {**imc.get("spec", {}), **result.spec}  # as the applier writes it
    status = subscription_reconciler.reconcile(sub, Context(ObservedList([imc]), T0, BASE)).status
    assert conditions(status)["Ready"] == ("True", "")


def test_a_ref_to_a_target_that_is_not_ready_does_not_resolve() -> None:
    world = [a_broker(ready=True), a_broker("other", ready=False)]
    status = trigger.reconcile(a_trigger(BROKER_REF), Context(ObservedList(world), T0, BASE)).status
    resolved = next(c for c in status["conditions"] if c["type"] == "SubscriberResolved")
    assert (resolved["status"], resolved["reason"]) == ("False", "NotReady")
    assert "ns/other" in resolved["message"] and "Boom" in resolved["message"]
    assert "subscriberUri" not in status
