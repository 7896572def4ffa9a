"""The Channels and Subscriptions a Sequence or Parallel is built from, exactly as
Knative's `pkg/reconciler/{sequence,parallel}/resources` name and wire them. Pure.

Sequence `s` with n steps: channel `s-kn-sequence-i` and subscription `s-kn-sequence-i`
sending channel i to step i, whose reply goes to channel i+1, and the last one's to
`spec.reply`.
Parallel `p`: ingress channel `p-kn-parallel`; per branch a channel `p-kn-parallel-i`, a
filter subscription `p-kn-parallel-filter-i` on the ingress channel (the filter, replying
into the branch channel; or straight to the branch channel when there is no filter), and
a subscription `p-kn-parallel-i` from the branch channel to the branch subscriber, whose
reply goes to the branch `reply`, else the Parallel's.
Every child carries an ownerReference to its flow, so the platform can collect orphans.
"""

from __future__ import annotations

import copy
from typing import Any

from ripple.api import meta

Object = dict[str, Any]

MESSAGING = "messaging.knative.dev/v1"
DESTINATION_FIELDS = ("ref", "uri", "CACerts", "audience")


def owner_reference(owner: Object) -> dict[str, Any]:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta.key(owner)[1],
            "uid": meta.metadata(owner).get("uid", ""), "controller": True, "blockOwnerDeletion": True}


def _metadata(owner: Object, name: str) -> dict[str, Any]:
    return {"name": name, "namespace": meta.key(owner)[0], "ownerReferences": [owner_reference(owner)]}


def make_channel(owner: Object, name: str) -> Object:
    template = (owner.get("spec") or {}).get("channelTemplate") or {}
    channel = {"apiVersion": template.get("apiVersion", MESSAGING),
               "kind": template.get("kind", "InMemoryChannel"),
               "metadata": _metadata(owner, name)}
    if template.get("spec"):
        channel["spec"] = copy.deepcopy(template["spec"])
    return channel


def channel_ref(channel: Object) -> dict[str, Any]:
    return {"ref": {"apiVersion": channel["apiVersion"], "kind": channel["kind"],
                    "name": channel["metadata"]["name"], "namespace": channel["metadata"]["namespace"]}}


def make_subscription(owner: Object, name: str, channel: Object, subscriber: Object,
                      reply: Object | None, delivery: Object | None) -> Object:
    spec: dict[str, Any] = {
        "channel": {"apiVersion": channel["apiVersion"], "kind": channel["kind"],
                    "name": channel["metadata"]["name"]},
        "subscriber": {k: copy.deepcopy(v) for k, v in subscriber.items() if k in DESTINATION_FIELDS},
    }
    if reply:
        spec["reply"] = copy.deepcopy(reply)
    if delivery:
        spec["delivery"] = copy.deepcopy(delivery)
    return {"apiVersion": MESSAGING, "kind": "Subscription", "metadata": _metadata(owner, name), "spec": spec}


def sequence_channels(seq: Object) -> list[Object]:
    name = meta.key(seq)[1]
    steps = (seq.get("spec") or {}).get("steps") or []
    return [make_channel(seq, f"{name}-kn-sequence-{i}") for i in range(len(steps))]


def sequence_subscriptions(seq: Object) -> list[Object]:
    spec = seq.get("spec") or {}
    name = meta.key(seq)[1]
    channels = sequence_channels(seq)
    steps = spec.get("steps") or []
    subs = []
    for i, step in enumerate(steps):
        reply = channel_ref(channels[i + 1]) if i + 1 < len(steps) else spec.get("reply")
        subs.append(make_subscription(seq, f"{name}-kn-sequence-{i}", channels[i], step, reply,
                                      step.get("delivery")))
    return subs


def parallel_ingress(par: Object) -> Object:
    return make_channel(par, f"{meta.key(par)[1]}-kn-parallel")


def parallel_branch_channels(par: Object) -> list[Object]:
    name = meta.key(par)[1]
    branches = (par.get("spec") or {}).get("branches") or []
    return [make_channel(par, f"{name}-kn-parallel-{i}") for i in range(len(branches))]


def parallel_subscriptions(par: Object) -> tuple[list[Object], list[Object]]:
    """(filter subscriptions, subscriber subscriptions), in branch order."""
    spec = par.get("spec") or {}
    name = meta.key(par)[1]
    ingress, channels = parallel_ingress(par), parallel_branch_channels(par)
    filters, subscribers = [], []
    for i, branch in enumerate(spec.get("branches") or []):
        if branch.get("filter"):
            filters.append(make_subscription(par, f"{name}-kn-parallel-filter-{i}", ingress,
                                             branch["filter"], channel_ref(channels[i]), None))
        else:
            filters.append(make_subscription(par, f"{name}-kn-parallel-filter-{i}", ingress,
                                             channel_ref(channels[i]), None, None))
        subscribers.append(make_subscription(par, f"{name}-kn-parallel-{i}", channels[i],
                                             branch["subscriber"], branch.get("reply") or spec.get("reply"),
                                             branch.get("delivery")))
    return filters, subscribers


def children(obj: Object) -> list[Object]:
    """Every child the flow wants, channels first (so they exist before their subscribers)."""
    if obj.get("kind") == "Sequence":
        return sequence_channels(obj) + sequence_subscriptions(obj)
    if obj.get("kind") == "Parallel":
        filters, subscribers = parallel_subscriptions(obj)
        return [parallel_ingress(obj), *parallel_branch_channels(obj), *filters, *subscribers]
    return []
