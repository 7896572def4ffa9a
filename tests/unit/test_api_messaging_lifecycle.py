"""The Channel, InMemoryChannel and Subscription condition sets and their mark_* functions
(ripple.api.messaging.*_lifecycle), and the status.subscribers[] setters (channelable)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ripple.api.messaging import channel_lifecycle as cl
from ripple.api.messaging import channelable
from ripple.api.messaging import in_memory_channel_lifecycle as il
from ripple.api.messaging import subscription_lifecycle as sl

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def condition(lifecycle: Any, status: dict[str, Any], type_: str) -> tuple[str, str, str] | None:
    found = lifecycle.CONDITIONS.get(status, type_)
    return None if found is None else (found["status"], found["reason"], found["message"])


# Channel

def channel_ok(status: dict[str, Any]) -> None:
    cl.mark_backing_channel_ready(status, now=NOW)
    cl.mark_addressable(status, "http://ingress/ns/ch", now=NOW)
    cl.mark_dead_letter_sink_not_configured(status, now=NOW)


def test_channel_initialize_then_ready() -> None:
    status: dict[str, Any] = {}
    cl.initialize(status, now=NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "Addressable", "BackingChannelReady", "DeadLetterSinkResolved", "Ready"]
    assert condition(cl, status, "Ready") == ("Unknown", "", "")
    channel_ok(status)
    assert condition(cl, status, "Ready") == ("True", "", "")
    assert status["address"] == {"name": "http", "url": "http://ingress/ns/ch"}


@pytest.mark.parametrize(("mark", "args", "type_", "expected", "ready"), [
    (cl.mark_backing_channel_failed, ("R", "m"), "BackingChannelReady", ("False", "R", "m"),
     "False"),
    (cl.mark_backing_channel_unknown, ("R", "m"), "BackingChannelReady", ("Unknown", "R", "m"),
     "Unknown"),
    (cl.mark_backing_channel_not_configured, (), "BackingChannelReady",
     ("Unknown", "BackingChannelNotConfigured", "BackingChannel has not yet been reconciled."),
     "Unknown"),
    (cl.mark_addressable, (None,), "Addressable",
     ("False", "EmptyHostname", "hostname is the empty string"), "False"),
    (cl.mark_addressable, ("",), "Addressable", ("False", "EmptyHostname",
                                                 "hostname is the empty string"), "False"),
    (cl.mark_dead_letter_sink_resolved, ("http://dls",), "DeadLetterSinkResolved",
     ("True", "", ""), "True"),
    (cl.mark_dead_letter_sink_failed, ("NotFound", "m"), "DeadLetterSinkResolved",
     ("False", "NotFound", "m"), "False"),
])
def test_channel_marks(mark: Any, args: tuple[Any, ...], type_: str,
                       expected: tuple[str, str, str], ready: str) -> None:
    status: dict[str, Any] = {}
    channel_ok(status)
    mark(status, *args, now=NOW)
    assert condition(cl, status, type_) == expected
    assert condition(cl, status, "Ready")[0] == ready  # type: ignore[index]


@pytest.mark.parametrize(("lifecycle", "mark", "args", "field", "value"), [
    (cl, cl.mark_addressable, (None,), "address", None),
    (cl, cl.mark_addressable, ("https://x/ns/c",), "address",
     {"name": "https", "url": "https://x/ns/c"}),
    (cl, cl.mark_dead_letter_sink_resolved, ("http://dls",), "deadLetterSinkUri", "http://dls"),
    (cl, cl.mark_dead_letter_sink_failed, ("R", "m"), "deadLetterSinkUri", None),
    (cl, cl.mark_dead_letter_sink_not_configured, (), "deadLetterSinkUri", None),
    (il, il.mark_addressable, (None,), "address", None),
    (il, il.mark_addressable, ("http://x/ns/c",), "address", {"name": "http", "url": "http://x/ns/c"}),
    (il, il.mark_dead_letter_sink_resolved, ("http://dls",), "deadLetterSinkUri", "http://dls"),
    (il, il.mark_dead_letter_sink_failed, ("R", "m"), "deadLetterSinkUri", None),
    (il, il.mark_dead_letter_sink_not_configured, (), "deadLetterSinkUri", None),
])
def test_marks_keep_the_fields_in_step(
    lifecycle: Any, mark: Any, args: tuple[Any, ...], field: str, value: Any
) -> None:
    status: dict[str, Any] = {"address": {"url": "http://old"}, "deadLetterSinkUri": "http://old"}
    mark(status, *args, now=NOW)
    assert status.get(field) == value


BACKING_OK = {
    "conditions": [{"type": "Ready", "status": "True"}],
    "address": {"url": "http://ingress/ns/ch-kn-channel"},
    "subscribers": [{"uid": "a", "observedGeneration": 1, "ready": "True"}],
}


@pytest.mark.parametrize(("backing", "expected", "address", "subscribers"), [
    (None, ("Unknown", "BackingChannelNotConfigured"), None, None),
    ({}, ("Unknown", "BackingChannelNotConfigured"), None, None),
    (BACKING_OK, ("True", ""), "http://ingress/ns/ch-kn-channel", BACKING_OK["subscribers"]),
    ({"conditions": [{"type": "Ready", "status": "False", "reason": "R", "message": "m"}]},
     ("False", "R"), None, None),
    ({"conditions": [{"type": "Ready", "status": "Unknown", "reason": "R", "message": "m"}]},
     ("Unknown", "R"), None, None),
    ({"conditions": [{"type": "Ready", "status": "Maybe"}]},
     ("Unknown", "BackingChannelUnknown"), None, None),
])
def test_propagate_backing_channel_status(
    backing: dict[str, Any] | None, expected: tuple[str, str], address: str | None,
    subscribers: list[dict[str, Any]] | None,
) -> None:
    status: dict[str, Any] = {"subscribers": [{"uid": "stale"}]}
    cl.propagate_backing_channel_status(status, backing, now=NOW)
    assert condition(cl, status, "BackingChannelReady")[:2] == expected  # type: ignore[index]
    assert cl.address_url({"status": status}) == address
    assert status.get("subscribers") == subscribers


def test_set_backing_channel() -> None:
    status: dict[str, Any] = {}
    ref = {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel", "name": "c",
           "namespace": "ns", "uid": "x"}
    cl.set_backing_channel(status, ref)
    assert status["channel"] == {k: ref[k] for k in ("apiVersion", "kind", "name", "namespace")}
    cl.set_backing_channel(status, None)
    assert "channel" not in status


# InMemoryChannel

def imc_ok(status: dict[str, Any]) -> None:
    il.mark_endpoints_ready(status, now=NOW)
    il.mark_dispatcher_ready(status, now=NOW)
    il.mark_addressable(status, "http://ingress/ns/imc", now=NOW)
    il.mark_dead_letter_sink_not_configured(status, now=NOW)


def test_imc_initialize_then_ready() -> None:
    status: dict[str, Any] = {}
    il.initialize(status, now=NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "Addressable", "DeadLetterSinkResolved", "DispatcherReady", "EndpointsReady", "Ready"]
    imc_ok(status)
    assert condition(il, status, "Ready") == ("True", "", "")
    assert condition(il, status, "DeadLetterSinkResolved") == (
        "True", "DeadLetterSinkNotConfigured", "No dead letter sink is configured.")


@pytest.mark.parametrize(("mark", "args", "type_", "expected", "ready"), [
    (il.mark_endpoints_failed, ("NoIngress", "m"), "EndpointsReady", ("False", "NoIngress", "m"),
     "False"),
    (il.mark_endpoints_unknown, ("R", "m"), "EndpointsReady", ("Unknown", "R", "m"), "Unknown"),
    (il.mark_dispatcher_failed, ("R", "m"), "DispatcherReady", ("False", "R", "m"), "False"),
    (il.mark_dispatcher_unknown, ("R", "m"), "DispatcherReady", ("Unknown", "R", "m"), "Unknown"),
    (il.mark_addressable, (None,), "Addressable",
     ("False", "emptyHostname", "hostname is the empty string"), "False"),
    (il.mark_dead_letter_sink_failed, ("R", "m"), "DeadLetterSinkResolved", ("False", "R", "m"),
     "False"),
])
def test_imc_marks(mark: Any, args: tuple[Any, ...], type_: str,
                   expected: tuple[str, str, str], ready: str) -> None:
    status: dict[str, Any] = {}
    imc_ok(status)
    mark(status, *args, now=NOW)
    assert condition(il, status, type_) == expected
    assert condition(il, status, "Ready")[0] == ready  # type: ignore[index]


@pytest.mark.parametrize("lifecycle", [cl, il])
@pytest.mark.parametrize(("generation", "observed", "expected"), [(2, 2, True), (2, 1, False)])
def test_channels_is_ready(lifecycle: Any, generation: int, observed: int, expected: bool) -> None:
    status: dict[str, Any] = {"observedGeneration": observed}
    (channel_ok if lifecycle is cl else imc_ok)(status)
    obj = {"metadata": {"generation": generation}, "status": status}
    assert lifecycle.is_ready(obj) is expected
    assert lifecycle.address_url(obj) is not None
    assert lifecycle.is_ready({"metadata": {}}) is False
    assert lifecycle.address_url({"status": "x"}) is None


# status.subscribers[]

@pytest.mark.parametrize("lifecycle", [cl, il])
def test_subscriber_statuses(lifecycle: Any) -> None:
    status: dict[str, Any] = {}
    lifecycle.set_subscriber_status(status, "a", "Unknown", observed_generation=1)
    lifecycle.set_subscriber_status(status, "b", "False", "no queue", observed_generation=3)
    lifecycle.set_subscriber_status(status, "a", "True", observed_generation=2)
    assert status["subscribers"] == [
        {"uid": "a", "observedGeneration": 2, "ready": "True"},
        {"uid": "b", "observedGeneration": 3, "ready": "False", "message": "no queue"},
    ]
    assert channelable.subscriber_status(status, "b") == status["subscribers"][1]
    assert channelable.subscriber_status(status, "c") is None
    lifecycle.remove_subscriber_status(status, "a")
    assert [s["uid"] for s in status["subscribers"]] == ["b"]
    lifecycle.remove_subscriber_status(status, "b")
    assert "subscribers" not in status


@pytest.mark.parametrize("ready", ["true", True, "Ready", None])
def test_subscriber_status_needs_a_condition_status(ready: Any) -> None:
    with pytest.raises(ValueError, match="ready must be one of True, False, Unknown"):
        channelable.set_subscriber_status({}, "a", ready, observed_generation=1)


def test_subscriber_statuses_survive_junk() -> None:
    status: dict[str, Any] = {"subscribers": "junk"}
    channelable.set_subscriber_status(status, "a", "True", observed_generation=1)
    assert status["subscribers"] == [{"uid": "a", "observedGeneration": 1, "ready": "True"}]


# Subscription

def subscription_ok(status: dict[str, Any]) -> None:
    sl.mark_references_resolved(status, now=NOW)
    sl.mark_added_to_channel(status, now=NOW)
    sl.mark_channel_ready(status, now=NOW)


def test_subscription_initialize_then_ready() -> None:
    status: dict[str, Any] = {}
    sl.initialize(status, now=NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "AddedToChannel", "ChannelReady", "Ready", "ReferencesResolved"]
    subscription_ok(status)
    assert condition(sl, status, "Ready") == ("True", "", "")


@pytest.mark.parametrize(("mark", "args", "type_", "expected", "ready"), [
    (sl.mark_references_not_resolved, ("SubscriberResolveFailed", "m"), "ReferencesResolved",
     ("False", "SubscriberResolveFailed", "m"), "False"),
    (sl.mark_references_resolved_unknown, ("Resolving", "m"), "ReferencesResolved",
     ("Unknown", "Resolving", "m"), "Unknown"),
    (sl.mark_not_added_to_channel, ("PhysicalChannelSyncFailed", "m"), "AddedToChannel",
     ("False", "PhysicalChannelSyncFailed", "m"), "False"),
    (sl.mark_channel_failed, ("R", "m"), "ChannelReady", ("False", "R", "m"), "False"),
    (sl.mark_channel_unknown, ("R", "m"), "ChannelReady", ("Unknown", "R", "m"), "Unknown"),
])
def test_subscription_marks(mark: Any, args: tuple[Any, ...], type_: str,
                            expected: tuple[str, str, str], ready: str) -> None:
    status: dict[str, Any] = {}
    subscription_ok(status)
    mark(status, *args, now=NOW)
    assert condition(sl, status, type_) == expected
    assert condition(sl, status, "Ready")[0] == ready  # type: ignore[index]


NOT_MARKED = "SubscriptionNotMarkedReadyByChannel"


@pytest.mark.parametrize(("entry", "expected"), [
    (None, ("Unknown", NOT_MARKED, "the channel has not reported this subscriber yet")),
    ({"uid": "a", "ready": "True"}, ("True", "", "")),
    ({"uid": "a", "ready": "False", "message": "queue gone"},
     ("False", NOT_MARKED, "Subscription marked by Channel as False: queue gone")),
    ({"uid": "a", "ready": "Unknown"},
     ("Unknown", NOT_MARKED, "Subscription marked by Channel as Unknown")),
    ({"uid": "a"}, ("Unknown", NOT_MARKED, "Subscription marked by Channel as Unknown")),
])
def test_propagate_channel_subscriber_status(
    entry: dict[str, Any] | None, expected: tuple[str, str, str]
) -> None:
    status: dict[str, Any] = {}
    sl.propagate_channel_subscriber_status(status, entry, now=NOW)
    assert condition(sl, status, "ChannelReady") == expected


def test_physical_subscription_setters() -> None:
    status: dict[str, Any] = {}
    sl.set_subscriber_uri(status, "http://s.ns.svc")
    sl.set_reply_uri(status, "http://ingress/ns/next")
    sl.set_dead_letter_sink_uri(status, "http://dls")
    assert status["physicalSubscription"] == {
        "subscriberUri": "http://s.ns.svc", "replyUri": "http://ingress/ns/next",
        "deadLetterSinkUri": "http://dls"}
    sl.set_reply_uri(status, None)
    sl.set_dead_letter_sink_uri(status, "")
    assert status["physicalSubscription"] == {"subscriberUri": "http://s.ns.svc"}
    sl.set_subscriber_uri(status, None)
    assert status["physicalSubscription"] == {}


@pytest.mark.parametrize(("generation", "observed", "expected"), [(4, 4, True), (4, 3, False)])
def test_subscription_is_ready(generation: int, observed: int, expected: bool) -> None:
    status: dict[str, Any] = {"observedGeneration": observed}
    subscription_ok(status)
    assert sl.is_ready({"metadata": {"generation": generation}, "status": status}) is expected
    assert sl.is_ready({"metadata": {}, "status": []}) is False
