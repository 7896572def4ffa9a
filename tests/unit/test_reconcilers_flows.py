"""Sequence and Parallel in; the channels, subscriptions and status Knative would build out."""

from __future__ import annotations

import datetime as dt

import pytest

from controllers.reconcilers import channel as channel_reconciler
from controllers.reconcilers import flows as flow_reconciler
from controllers.reconcilers import subscription as subscription_reconciler
from controllers.reconciling import Context, ObservedList
from controllers.reconcilers.resources import flows

BASE = "http://127.0.0.1:8080"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
IMC = "messaging.knative.dev/v1"

SEQUENCE = {"apiVersion": "flows.knative.dev/v1", "kind": "Sequence",
            "metadata": {"name": "seq", "namespace": "ns", "uid": "u-seq", "generation": 1},
            "spec": {"channelTemplate": {"apiVersion": IMC, "kind": "InMemoryChannel"},
                     "steps": [{"uri": "http://a/"}, {"uri": "http://b/", "delivery": {"retry": 2}},
                               {"uri": "http://c/"}],
                     "reply": {"uri": "http://out/"}}}
PARALLEL = {"apiVersion": "flows.knative.dev/v1", "kind": "Parallel",
            "metadata": {"name": "par", "namespace": "ns", "uid": "u-par", "generation": 1},
            "spec": {"branches": [{"filter": {"uri": "http://f0/"}, "subscriber": {"uri": "http://s0/"}},
                                  {"subscriber": {"uri": "http://s1/"}, "reply": {"uri": "http://r1/"}}],
                     "reply": {"uri": "http://out/"}}}


def names(objs: list[dict]) -> list[tuple[str, str]]:
    return [(o["kind"], o["metadata"]["name"]) for o in objs]


def test_sequence_children_follow_knative_names_and_wiring() -> None:
    children = flows.children(SEQUENCE)
    assert names(children) == [
        ("InMemoryChannel", "seq-kn-sequence-0"), ("InMemoryChannel", "seq-kn-sequence-1"),
        ("InMemoryChannel", "seq-kn-sequence-2"), ("Subscription", "seq-kn-sequence-0"),
        ("Subscription", "seq-kn-sequence-1"), ("Subscription", "seq-kn-sequence-2")]
    subs = children[3:]
    assert [s["spec"]["channel"]["name"] for s in subs] == [f"seq-kn-sequence-{i}" for i in range(3)]
    assert [s["spec"]["subscriber"] for s in subs] == [{"uri": "http://a/"}, {"uri": "http://b/"}, {"uri": "http://c/"}]
    assert [s["spec"].get("reply") for s in subs] == [
        {"ref": {"apiVersion": IMC, "kind": "InMemoryChannel", "name": "seq-kn-sequence-1", "namespace": "ns"}},
        {"ref": {"apiVersion": IMC, "kind": "InMemoryChannel", "name": "seq-kn-sequence-2", "namespace": "ns"}},
        {"uri": "http://out/"}]
    assert subs[1]["spec"]["delivery"] == {"retry": 2} and "delivery" not in subs[0]["spec"]
    assert all(c["metadata"]["ownerReferences"][0]["uid"] == "u-seq" for c in children)


@pytest.mark.parametrize("branch, filter_subscriber, filter_reply, reply", [
    (0, {"uri": "http://f0/"}, "par-kn-parallel-0", {"uri": "http://out/"}),  # filter replies into the branch
    (1, "par-kn-parallel-1", None, {"uri": "http://r1/"}),  # no filter: straight to the branch channel
])
def test_parallel_children(branch, filter_subscriber, filter_reply, reply) -> None:
    filters, subscribers = flows.parallel_subscriptions(PARALLEL)
    f, s = filters[branch]["spec"], subscribers[branch]["spec"]
    assert filters[branch]["metadata"]["name"] == f"par-kn-parallel-filter-{branch}"
    assert f["channel"]["name"] == "par-kn-parallel"
    if isinstance(filter_subscriber, str):
        assert f["subscriber"]["ref"]["name"] == filter_subscriber
    else:
        assert f["subscriber"] == filter_subscriber
    assert (f.get("reply") or {}).get("ref", {}).get("name") == filter_reply
    assert s["channel"]["name"] == f"par-kn-parallel-{branch}" and s["reply"] == reply


def ready_world(owner: dict) -> list[dict]:
    """The owner's children as a platform would have them after a few passes: reconciled."""
    children = flows.children(owner)
    for child in children:
        child["metadata"].update(uid=child["metadata"]["name"], generation=1)
    channels = [c for c in children if c["kind"] != "Subscription"]
    subs = [c for c in children if c["kind"] == "Subscription"]
    for _ in range(3):  # references between children settle over a few passes, as on a platform
        for ch in channels:
            result = channel_reconciler.reconcile_in_memory_channel(
                ch, Context(ObservedList(subs), NOW, BASE))
            ch["status"] = result.status
            if result.spec is not None:  # the applier writes the managed spec fields
                ch["spec"] = {**ch.get("spec", {}), **result.spec}
        for sub in subs:
            sub["status"] = subscription_reconciler.reconcile(sub, Context(ObservedList(channels), NOW, BASE)).status
    return children


@pytest.mark.parametrize("owner, reconcile", [
    (SEQUENCE, flow_reconciler.reconcile_sequence),
    (PARALLEL, flow_reconciler.reconcile_parallel),
])
def test_status_is_ready_once_children_are(owner, reconcile) -> None:
    before = reconcile(owner, Context(ObservedList([]), NOW, BASE)).status
    ready = next(c for c in before["conditions"] if c["type"] == "Ready")
    assert ready["status"] != "True"
    after = reconcile(owner, Context(ObservedList(ready_world(owner)), NOW, BASE)).status
    ready = next(c for c in after["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True", after["conditions"]
    first = "seq-kn-sequence-0" if owner["kind"] == "Sequence" else "par-kn-parallel"
    assert after["address"]["url"] == f"{BASE}/channels/ns/{first}"
