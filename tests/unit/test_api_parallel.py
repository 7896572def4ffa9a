"""Parallel: names, defaults, validation and lifecycle (ripple.api.flows.parallel_*)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from ripple import errors
from ripple.api import loading, registry
from ripple.api.flows import parallel, parallel_lifecycle, parallel_types

NOW = datetime(2024, 5, 1, tzinfo=UTC)
IMC_TEMPLATE = {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel"}


def svc(name: str) -> dict[str, Any]:
    return {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": name}}


def make(spec: Any = "default", **metadata: Any) -> dict[str, Any]:
    if spec == "default":
        spec = {"branches": [{"filter": svc("even-filter"), "subscriber": svc("even")},
                             {"subscriber": svc("all")}]}
    obj: dict[str, Any] = {
        "apiVersion": "flows.knative.dev/v1", "kind": "Parallel",
        "metadata": {"name": "par", **metadata},
    }
    if spec is not None:
        obj["spec"] = spec
    return obj


def with_spec(**changes: Any) -> dict[str, Any]:
    obj = make()
    obj["spec"].update(changes)
    return obj


def with_branch(**branch: Any) -> dict[str, Any]:
    return with_spec(branches=[{k: v for k, v in branch.items() if v is not None}])


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    parallel.KIND.set_defaults(obj)
    return obj


@pytest.mark.parametrize("name", ["parallel", "parallels", "Parallel",
                                  "parallels.flows.knative.dev"])
def test_names(name: str) -> None:
    found = registry.by_name(name)
    assert (found.kind, found.plural, found.addressable) == ("Parallel", "parallels", True)
    assert registry.by_resource("flows.knative.dev", "v1", "parallels") is found


def ns(ref_holder: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    return {**ref_holder, "ref": {**ref_holder["ref"], "namespace": namespace}}


@pytest.mark.parametrize(("given", "path", "expected"), [
    (make(), "metadata", {"name": "par", "namespace": "default"}),
    (make(), "spec.channelTemplate", IMC_TEMPLATE),
    (with_spec(channelTemplate={**IMC_TEMPLATE, "spec": {"delivery": {"retry": 1}}}),
     "spec.channelTemplate", {**IMC_TEMPLATE, "spec": {"delivery": {"retry": 1}}}),
    (make(namespace="ns"), "spec.branches", [
        {"filter": ns(svc("even-filter"), "ns"), "subscriber": ns(svc("even"), "ns")},
        {"subscriber": ns(svc("all"), "ns")}]),
    (with_branch(subscriber={"uri": "http://s"}, reply=svc("r"),
                 delivery={"deadLetterSink": svc("dls")}), "spec.branches",
     [{"subscriber": {"uri": "http://s"}, "reply": ns(svc("r")),
       "delivery": {"deadLetterSink": ns(svc("dls"))}}]),
    (with_spec(reply=svc("display")), "spec.reply", ns(svc("display"))),
])
def test_defaults(given: dict[str, Any], path: str, expected: Any) -> None:
    value: Any = defaulted(given)
    for part in path.split("."):
        value = value[part]
    assert value == expected


@pytest.mark.parametrize("spec", [None, 7, {"branches": {"a": 1}}, {"branches": [None, "x"]}])
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


B = "spec.branches"
B0 = "spec.branches[0]"
T = "spec.channelTemplate"


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    (make(None), "spec", "required field is missing: a Parallel needs at least one branch"),
    (make("x"), "spec", "must be a mapping, got a string"),
    (with_spec(steps=[]), "spec.steps", ('unknown field "steps"; the fields here are: branches, '
                                        "channelTemplate, reply")),
    # branches
    (make({}), B, "required field is missing: a Parallel needs at least one branch"),
    (with_spec(branches=[]), B, "a Parallel needs at least one branch"),
    (with_spec(branches={"subscriber": svc("s")}), B, "must be a list of branches, got a mapping"),
    (with_branch(subscriber=svc("s"), sink=svc("x")), f"{B0}.sink",
     'unknown field "sink"; the fields here are: filter, subscriber, reply, delivery'),
    (with_spec(branches=[None]), B0, "must be a mapping, got null"),
    (with_branch(filter=svc("f")), f"{B0}.subscriber",
     "required field is missing: each branch needs a subscriber"),
    (with_spec(branches=[{"subscriber": svc("a")}, {"subscriber": {}}]),
     f"{B}[1].subscriber", "expected at least one of ref or uri"),
    (with_branch(subscriber={"ref": {"apiVersion": "v1", "kind": "Service"}}),
     f"{B0}.subscriber.ref.name", "required field is missing"),
    (with_branch(subscriber={"uri": "even"}), f"{B0}.subscriber.uri", "must be absolute"),
    (with_branch(subscriber=svc("s"), filter={}), f"{B0}.filter",
     "expected at least one of ref or uri"),
    (with_branch(subscriber=svc("s"), filter={"uri": "/0"}), f"{B0}.filter.uri",
     "must be absolute"),
    (with_branch(subscriber=svc("s"), reply={"ref": {"kind": "Service", "name": "r"}}),
     f"{B0}.reply.ref.apiVersion", "required field is missing"),
    (with_branch(subscriber=svc("s"), delivery={"backoffPolicy": "constant"}),
     f"{B0}.delivery.backoffPolicy", "must be one of exponential, linear"),
    (with_branch(subscriber=svc("s"), delivery={"retry": 1.5}), f"{B0}.delivery.retry",
     "must be an integer"),
    # channelTemplate
    (with_spec(channelTemplate={"apiVersion": "messaging.knative.dev/v1"}), f"{T}.kind",
     "required field is missing"),
    (with_spec(channelTemplate={**IMC_TEMPLATE, "apiVersion": "v1/"}), f"{T}.apiVersion",
     "an apiVersion is a version"),
    # reply
    (with_spec(reply={"uri": "display"}), "spec.reply.uri", "must be absolute"),
    (with_spec(reply={"ref": svc("d")["ref"], "CACerts": "not pem"}), "spec.reply.CACerts",
     "not a PEM-encoded CA certificate"),
])
def test_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


@pytest.mark.parametrize("changes", [
    {},
    {"branches": [{"subscriber": {"uri": "http://only.example.com"}}]},
    {"branches": [{"filter": {"uri": "http://switch.default.svc.cluster.local/0"},
                   "subscriber": svc("a"), "reply": svc("r"),
                   "delivery": {"retry": 2, "deadLetterSink": svc("dls")}}]},
    {"reply": svc("display")},
    {"channelTemplate": {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel",
                         "spec": {"delivery": {"retry": 3}}}},
])
def test_valid(changes: dict[str, Any]) -> None:
    assert loading.admit(with_spec(**changes))["kind"] == "Parallel"


def test_every_error_is_reported_at_once() -> None:
    obj = make({"branches": [{"filter": {}}, {"subscriber": {"uri": "x"}, "reply": {}}],
                "channelTemplate": {"kind": "K"}})
    assert [p for p, _ in refusal(obj)] == [
        f"{B0}.subscriber", f"{B0}.filter", f"{B}[1].subscriber.uri", f"{B}[1].reply",
        f"{T}.apiVersion",
    ]


def test_nothing_is_immutable() -> None:
    old = loading.admit(make())
    new = copy.deepcopy(old)
    new["spec"]["branches"].pop()
    new["spec"]["channelTemplate"] = {"apiVersion": "messaging.knative.dev/v1beta1",
                                      "kind": "KafkaChannel"}
    assert len(loading.admit(new, old)["spec"]["branches"]) == 1


def test_branches_reader() -> None:
    assert len(parallel_types.branches(make())) == 2
    assert parallel_types.branches(make({"branches": ["x"]})) == []
    assert parallel_types.branches(make(None)) == []


# lifecycle

def child(kind: str, name: str, ready: str | None, url: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if ready is not None:
        status["conditions"] = [{"type": "Ready", "status": ready, "reason": "", "message": ""}]
    if url is not None:
        status["address"] = {"url": url}
    return {"apiVersion": "messaging.knative.dev/v1", "kind": kind,
            "metadata": {"name": name, "namespace": "ns"}, "status": status}


INGRESS = child("InMemoryChannel", "par-kn-parallel", "True", "http://ingress/ns/par-kn-parallel")


def branch_channels(*ready: str | None) -> list[dict[str, Any]]:
    return [child("InMemoryChannel", f"par-kn-parallel-{i}", r, f"http://ingress/ns/b{i}")
            for i, r in enumerate(ready)]


def subs(prefix: str, *ready: str | None) -> list[dict[str, Any]]:
    return [child("Subscription", f"par-kn-parallel{prefix}-{i}", r) for i, r in enumerate(ready)]


def condition(status: dict[str, Any], type_: str) -> tuple[str, str] | None:
    found = parallel_lifecycle.CONDITIONS.get(status, type_)
    return None if found is None else (found["status"], found["reason"])


def all_good(status: dict[str, Any], branches: int = 2) -> None:
    parallel_lifecycle.propagate_channel_statuses(
        status, INGRESS, branch_channels(*["True"] * branches), now=NOW)
    parallel_lifecycle.propagate_subscription_statuses(
        status, subs("-filter", *["True"] * branches), subs("", *["True"] * branches), now=NOW)


def test_initialize_then_ready() -> None:
    status: dict[str, Any] = {}
    parallel_lifecycle.initialize(status, now=NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "Addressable", "ChannelsReady", "Ready", "SubscriptionsReady"]
    all_good(status)
    assert condition(status, "Ready") == ("True", "")
    assert status["address"] == {"name": "http", "url": "http://ingress/ns/par-kn-parallel"}
    assert status["ingressChannelStatus"]["channel"]["name"] == "par-kn-parallel"
    assert [sorted(b) for b in status["branchStatuses"]] == [
        ["filterChannelStatus", "filterSubscriptionStatus", "subscriberSubscriptionStatus"]] * 2
    second = status["branchStatuses"][1]
    assert second["filterChannelStatus"]["channel"]["name"] == "par-kn-parallel-1"
    assert second["filterSubscriptionStatus"]["subscription"] == {
        "apiVersion": "messaging.knative.dev/v1", "kind": "Subscription",
        "name": "par-kn-parallel-filter-1", "namespace": "ns"}
    assert second["subscriberSubscriptionStatus"]["ready"]["status"] == "True"
    assert parallel_lifecycle.address_url({"status": status}) == "http://ingress/ns/par-kn-parallel"


@pytest.mark.parametrize(("ingress", "ready", "expected"), [
    (INGRESS, ("True", "True"), ("True", "")),
    (INGRESS, ("True", "Unknown"), ("False", "ChannelsNotReady")),
    (INGRESS, ("True", None), ("False", "ChannelsNotReady")),
    (child("InMemoryChannel", "i", "False", "http://i"), ("True",), ("False", "ChannelsNotReady")),
    (child("InMemoryChannel", "i", None), ("True",), ("False", "ChannelsNotReady")),
])
def test_propagate_channel_statuses(ingress: dict[str, Any], ready: tuple[str | None, ...],
                                    expected: tuple[str, str]) -> None:
    status: dict[str, Any] = {}
    parallel_lifecycle.propagate_channel_statuses(status, ingress, branch_channels(*ready),
                                                  now=NOW)
    assert condition(status, "ChannelsReady") == expected
    assert len(status["branchStatuses"]) == len(ready)


@pytest.mark.parametrize(("filters", "subscribers", "expected"), [
    (("True",), ("True",), ("True", "")),
    (("False",), ("True",), ("False", "SubscriptionsNotReady")),
    (("True",), ("Unknown",), ("False", "SubscriptionsNotReady")),
    (("True", None), ("True", "True"), ("False", "SubscriptionsNotReady")),
    ((), (), ("False", "SubscriptionsNotReady")),
])
def test_propagate_subscription_statuses(filters: tuple[str | None, ...],
                                         subscribers: tuple[str | None, ...],
                                         expected: tuple[str, str]) -> None:
    status: dict[str, Any] = {}
    parallel_lifecycle.propagate_subscription_statuses(
        status, subs("-filter", *filters), subs("", *subscribers), now=NOW)
    assert condition(status, "SubscriptionsReady") == expected


def test_subscriptions_need_one_filter_per_branch() -> None:
    with pytest.raises(ValueError, match="got 1 filter and 2 subscriber Subscriptions"):
        parallel_lifecycle.propagate_subscription_statuses(
            {}, subs("-filter", "True"), subs("", "True", "True"), now=NOW)


def test_branch_statuses_are_kept_while_the_branch_count_holds() -> None:
    status: dict[str, Any] = {}
    all_good(status)
    parallel_lifecycle.propagate_channel_statuses(status, INGRESS, branch_channels("True", "False"),
                                                  now=NOW)
    assert "subscriberSubscriptionStatus" in status["branchStatuses"][1]
    parallel_lifecycle.propagate_channel_statuses(status, INGRESS, branch_channels("True"), now=NOW)
    assert status["branchStatuses"] == [{"filterChannelStatus": status["branchStatuses"][0][
        "filterChannelStatus"]}]


def test_no_ingress_address() -> None:
    status: dict[str, Any] = {"address": {"url": "http://old"}}
    parallel_lifecycle.propagate_channel_statuses(
        status, child("InMemoryChannel", "i", "True"), branch_channels("True"), now=NOW)
    assert condition(status, "Addressable") == ("False", "emptyAddress")
    assert "address" not in status


@pytest.mark.parametrize(("mark", "type_"), [
    (parallel_lifecycle.mark_channels_not_ready, "ChannelsReady"),
    (parallel_lifecycle.mark_subscriptions_not_ready, "SubscriptionsReady"),
    (parallel_lifecycle.mark_addressable_not_ready, "Addressable"),
])
def test_not_ready_marks_are_false(mark: Any, type_: str) -> None:
    status: dict[str, Any] = {}
    all_good(status)
    mark(status, "R", "m", now=NOW)
    assert condition(status, type_) == ("False", "R")
    assert condition(status, "Ready") == ("False", "R")


@pytest.mark.parametrize(("generation", "observed", "expected"), [(5, 5, True), (5, 4, False)])
def test_is_ready(generation: int, observed: int, expected: bool) -> None:
    status: dict[str, Any] = {"observedGeneration": observed}
    all_good(status, branches=1)
    obj = {"metadata": {"generation": generation}, "status": status}
    assert parallel_lifecycle.is_ready(obj) is expected
    assert parallel_lifecycle.is_ready({"metadata": {}}) is False
