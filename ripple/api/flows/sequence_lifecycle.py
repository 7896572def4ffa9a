"""The Sequence condition set, its `mark_*` functions and the status setters its reconciler calls.

Reconcilers call these and never edit `status.conditions` by hand. Upstream:
`knative/eventing:pkg/apis/flows/v1/sequence_lifecycle.go`. A Sequence is Ready when:
- `ChannelsReady`: every step's channel is Ready (`propagate_channel_statuses`, which
  writes `status.channelStatuses[]` and takes the address from channel 0);
- `SubscriptionsReady`: every step's Subscription is Ready
  (`propagate_subscription_statuses`, which writes `status.subscriptionStatuses[]`);
- `Addressable`: `status.address.url` is set (`mark_addressable`; Unknown, reason
  `emptyAddress`, when channel 0 has no address yet).

Not-ready children leave the conditions Unknown, as upstream: they are still coming up.
`EventPoliciesReady` is left out because Ripple has no EventPolicy support yet.
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


def propagate_channel_statuses(status: Status, channels: Sequence[Obj], *, now: datetime) -> None:
    """The steps' channels, in step order: their entries, ChannelsReady and the address."""
    entries = [statuses.channel_status(c, now=now) for c in channels]
    status["channelStatuses"] = entries
    if channels:
        mark_addressable(status, statuses.address_url(channels[0]), now=now)
    if entries and all(statuses.is_ready(e) for e in entries):
        CONDITIONS.mark_true(status, CHANNELS, now=now)
    else:
        mark_channels_not_ready(status, "ChannelsNotReady",
                                "Channels are not ready yet, or there are none", now=now)


def propagate_subscription_statuses(
    status: Status, subscriptions: Sequence[Obj], *, now: datetime
) -> None:
    """The steps' Subscriptions, in step order: their entries and SubscriptionsReady."""
    entries = [statuses.subscription_status(s, now=now) for s in subscriptions]
    status["subscriptionStatuses"] = entries
    if entries and all(statuses.is_ready(e) for e in entries):
        CONDITIONS.mark_true(status, SUBSCRIPTIONS, now=now)
    else:
        mark_subscriptions_not_ready(status, "SubscriptionsNotReady",
                                     "Subscriptions are not ready yet, or there are none", now=now)


def mark_channels_not_ready(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, CHANNELS, reason, message, now=now)


def mark_subscriptions_not_ready(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    CONDITIONS.mark_unknown(status, SUBSCRIPTIONS, reason, message, now=now)


def mark_addressable(status: Status, url: str | None, *, now: datetime) -> None:
    """Publish channel 0's URL as the Sequence's; `address.name` is its scheme."""
    if not url:
        status.pop("address", None)
        mark_addressable_not_ready(status, "emptyAddress", "addressable is nil", now=now)
        return
    status["address"] = duck.address(url)
    CONDITIONS.mark_true(status, ADDRESSABLE, now=now)


def mark_addressable_not_ready(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    CONDITIONS.mark_unknown(status, ADDRESSABLE, reason, message, now=now)


def address_url(sequence: Obj) -> str | None:
    """The URL the reconciler published (channel 0's), if any."""
    return statuses.address_url(sequence)


def is_ready(sequence: Obj) -> bool:
    """Ready, and for the latest spec."""
    status = sequence.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(sequence).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
