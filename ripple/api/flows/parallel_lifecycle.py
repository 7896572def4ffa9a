"""The Parallel condition set, its `mark_*` functions and the status setters its reconciler calls.

Reconcilers call these and never edit `status.conditions` by hand. Upstream:
`knative/eventing:pkg/apis/flows/v1/parallel_lifecycle.go`. A Parallel is Ready when:
- `ChannelsReady`: the ingress channel and every branch channel are Ready
  (`propagate_channel_statuses`, which writes `status.ingressChannelStatus`, each
  `branchStatuses[i].filterChannelStatus`, and the address from the ingress channel);
- `SubscriptionsReady`: every branch's filter and subscriber Subscriptions are Ready
  (`propagate_subscription_statuses`, which writes `filterSubscriptionStatus` and
  `subscriberSubscriptionStatus` of each `branchStatuses[i]`);
- `Addressable`: `status.address.url` is set (`mark_addressable`; False, reason
  `emptyAddress`, when the ingress channel has none).

As upstream, the Parallel's conditions go False (not Unknown, as a Sequence's do) while
children are not ready. Knative counts a Parallel's channel as ready once it has an
address; Ripple mirrors the channel's own Ready condition, as for a Sequence, since an
addressable channel whose dispatch is down delivers nothing. `EventPoliciesReady` is
left out because Ripple has no EventPolicy support yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ripple.api import conditions, duck, meta
from ripple.api.flows import statuses

CHANNELS = "ChannelsReady"
SUBSCRIPTIONS = "SubscriptionsReady"
ADDRESSABLE = "Addressable"

CONDITIONS = conditions.ConditionSet(conditions.READY, (CHANNELS, SUBSCRIPTIONS, ADDRESSABLE))

Status = dict[str, Any]
Obj = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


def propagate_channel_statuses(
    status: Status, ingress: Obj, branch_channels: Sequence[Obj], *, now: datetime
) -> None:
    """The ingress channel and the branch channels, in branch order."""
    ingress_entry = statuses.channel_status(ingress, now=now)
    status["ingressChannelStatus"] = ingress_entry
    mark_addressable(status, statuses.address_url(ingress), now=now)
    branch_statuses = _branch_statuses(status, len(branch_channels))
    entries = [statuses.channel_status(c, now=now) for c in branch_channels]
    for branch, entry in zip(branch_statuses, entries):
        branch["filterChannelStatus"] = entry
    if all(statuses.is_ready(e) for e in [ingress_entry, *entries]):
        CONDITIONS.mark_true(status, CHANNELS, now=now)
    else:
        mark_channels_not_ready(status, "ChannelsNotReady",
                                "Channels are not ready yet, or there are none", now=now)


def propagate_subscription_statuses(
    status: Status,
    filter_subscriptions: Sequence[Obj],
    subscriber_subscriptions: Sequence[Obj],
    *,
    now: datetime,
) -> None:
    """Each branch's filter and subscriber Subscriptions, in branch order (one of each)."""
    if len(filter_subscriptions) != len(subscriber_subscriptions):
        raise ValueError(
            f"one filter Subscription per branch: got {len(filter_subscriptions)} filter and "
            f"{len(subscriber_subscriptions)} subscriber Subscriptions"
        )
    branch_statuses = _branch_statuses(status, len(subscriber_subscriptions))
    ready = bool(subscriber_subscriptions)
    for branch, filtering, subscribing in zip(
        branch_statuses, filter_subscriptions, subscriber_subscriptions
    ):
        branch["filterSubscriptionStatus"] = statuses.subscription_status(filtering, now=now)
        branch["subscriberSubscriptionStatus"] = statuses.subscription_status(subscribing, now=now)
        ready = ready and statuses.is_ready(branch["filterSubscriptionStatus"])
        ready = ready and statuses.is_ready(branch["subscriberSubscriptionStatus"])
    if ready:
        CONDITIONS.mark_true(status, SUBSCRIPTIONS, now=now)
    else:
        mark_subscriptions_not_ready(status, "SubscriptionsNotReady",
                                     "Subscriptions are not ready yet, or there are none", now=now)


def _branch_statuses(status: Status, count: int) -> list[dict[str, Any]]:
    """The `branchStatuses` list, kept when it has one entry per branch, else made anew."""
    found = status.get("branchStatuses")
    if not isinstance(found, list) or len(found) != count or not all(
        isinstance(b, dict) for b in found
    ):
        found = [{} for _ in range(count)]
    status["branchStatuses"] = found
    return found


def mark_channels_not_ready(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, CHANNELS, reason, message, now=now)


def mark_subscriptions_not_ready(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    CONDITIONS.mark_false(status, SUBSCRIPTIONS, reason, message, now=now)


def mark_addressable(status: Status, url: str | None, *, now: datetime) -> None:
    """Publish the ingress channel's URL as the Parallel's; `address.name` is its scheme."""
    if not url:
        status.pop("address", None)
        mark_addressable_not_ready(status, "emptyAddress", "addressable is nil", now=now)
        return
    status["address"] = duck.address(url)
    CONDITIONS.mark_true(status, ADDRESSABLE, now=now)


def mark_addressable_not_ready(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    CONDITIONS.mark_false(status, ADDRESSABLE, reason, message, now=now)


def address_url(parallel: Obj) -> str | None:
    """The URL the reconciler published (the ingress channel's), if any."""
    return statuses.address_url(parallel)


def is_ready(parallel: Obj) -> bool:
    """Ready, and for the latest spec."""
    status = parallel.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(parallel).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
