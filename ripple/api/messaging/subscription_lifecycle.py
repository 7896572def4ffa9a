"""The Subscription condition set, the `mark_*` functions and the physicalSubscription setters.

Reconcilers call these and never edit `status.conditions` by hand. Upstream:
`knative/eventing:pkg/apis/messaging/v1/subscription_lifecycle.go` and the Subscription
reconciler (`pkg/reconciler/subscription`). A Subscription is Ready when all are True:
- `ReferencesResolved`: `spec.subscriber`, `spec.reply` and the dead-letter sink resolved
  into `status.physicalSubscription` (`set_subscriber_uri`, `set_reply_uri`,
  `set_dead_letter_sink_uri`; None clears one, so nothing is delivered to a stale URI);
- `AddedToChannel`: the Subscription is in the channel's `spec.subscribers`;
- `ChannelReady`: the channel reports this subscriber ready in its `status.subscribers`
  (`propagate_channel_subscriber_status`), as Knative's reconciler reads it.

`OIDCIdentityCreated` is left out until Ripple supports OIDC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ripple.api import conditions, meta

REFERENCES_RESOLVED = "ReferencesResolved"
ADDED_TO_CHANNEL = "AddedToChannel"
CHANNEL_READY = "ChannelReady"

CONDITIONS = conditions.ConditionSet(
    conditions.READY, (REFERENCES_RESOLVED, ADDED_TO_CHANNEL, CHANNEL_READY)
)

# Knative's reason when the channel's status.subscribers entry is not True.
NOT_MARKED_READY = "SubscriptionNotMarkedReadyByChannel"

Status = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


def mark_references_resolved(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, REFERENCES_RESOLVED, now=now)


def mark_references_not_resolved(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    CONDITIONS.mark_false(status, REFERENCES_RESOLVED, reason, message, now=now)


def mark_references_resolved_unknown(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    CONDITIONS.mark_unknown(status, REFERENCES_RESOLVED, reason, message, now=now)


def mark_added_to_channel(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, ADDED_TO_CHANNEL, now=now)


def mark_not_added_to_channel(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, ADDED_TO_CHANNEL, reason, message, now=now)


def mark_added_to_channel_unknown(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    CONDITIONS.mark_unknown(status, ADDED_TO_CHANNEL, reason, message, now=now)


def mark_channel_ready(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, CHANNEL_READY, now=now)


def mark_channel_failed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, CHANNEL_READY, reason, message, now=now)


def mark_channel_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, CHANNEL_READY, reason, message, now=now)


def propagate_channel_subscriber_status(
    status: Status, entry: Mapping[str, Any] | None, *, now: datetime
) -> None:
    """Mirror the channel's `status.subscribers[]` entry for this Subscription into ChannelReady.

    None means the channel has not reported the subscriber yet.
    """
    if entry is None:
        mark_channel_unknown(status, NOT_MARKED_READY,
                             "the channel has not reported this subscriber yet", now=now)
        return
    ready = entry.get("ready")
    detail = f": {entry['message']}" if entry.get("message") else ""
    if ready == conditions.TRUE:
        mark_channel_ready(status, now=now)
    elif ready == conditions.FALSE:
        mark_channel_failed(status, NOT_MARKED_READY,
                            f"Subscription marked by Channel as False{detail}", now=now)
    else:
        mark_channel_unknown(status, NOT_MARKED_READY,
                             f"Subscription marked by Channel as Unknown{detail}", now=now)


def set_subscriber_uri(status: Status, uri: str | None) -> None:
    _set_physical(status, "subscriberUri", uri)


def set_reply_uri(status: Status, uri: str | None) -> None:
    _set_physical(status, "replyUri", uri)


def set_dead_letter_sink_uri(status: Status, uri: str | None) -> None:
    _set_physical(status, "deadLetterSinkUri", uri)


def _set_physical(status: Status, name: str, uri: str | None) -> None:
    found = status.get("physicalSubscription")
    physical = dict(found) if isinstance(found, dict) else {}
    if uri:
        physical[name] = uri
    else:
        physical.pop(name, None)
    status["physicalSubscription"] = physical


def is_ready(subscription: dict[str, Any]) -> bool:
    """Ready, and for the latest spec."""
    status = subscription.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(subscription).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
