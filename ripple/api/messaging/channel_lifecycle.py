"""The Channel condition set and the `mark_*` functions its reconciler calls.

Reconcilers call these and never edit `status.conditions` by hand; readers use `is_ready`
and `CONDITIONS.get`. Upstream: `knative/eventing:pkg/apis/messaging/v1/
channel_lifecycle.go`. A Channel is Ready when all of these are True:
- `BackingChannelReady`: the channel named by `spec.channelTemplate` (recorded in
  `status.channel` by `set_backing_channel`) is Ready; `propagate_backing_channel_status`
  mirrors its Ready condition, address and subscriber statuses, as Knative's
  `PropagateStatuses` does;
- `Addressable`: `status.address.url` is set (False, reason `EmptyHostname`, if not);
- `DeadLetterSinkResolved`: `spec.delivery.deadLetterSink` resolved into
  `status.deadLetterSinkUri`, or True with reason `DeadLetterSinkNotConfigured`.

`EventPoliciesReady` is left out because Ripple has no EventPolicy support yet.
`status.subscribers[]` entries are set with `set_subscriber_status` (from `channelable`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions, dead_letters, duck, meta
from ripple.api.messaging import channelable

BACKING_CHANNEL = "BackingChannelReady"
ADDRESSABLE = "Addressable"
DEAD_LETTER_SINK_RESOLVED = "DeadLetterSinkResolved"

CONDITIONS = conditions.ConditionSet(
    conditions.READY, (BACKING_CHANNEL, ADDRESSABLE, DEAD_LETTER_SINK_RESOLVED)
)

Status = dict[str, Any]
Condition = dict[str, Any]

set_subscriber_status = channelable.set_subscriber_status
remove_subscriber_status = channelable.remove_subscriber_status


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


def set_backing_channel(status: Status, ref: dict[str, str] | None) -> None:
    """Record the backing channel as a KReference {apiVersion, kind, name, namespace}."""
    if ref is None:
        status.pop("channel", None)
        return
    status["channel"] = {k: ref[k] for k in ("apiVersion", "kind", "name", "namespace") if k in ref}


def mark_backing_channel_ready(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, BACKING_CHANNEL, now=now)


def mark_backing_channel_failed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, BACKING_CHANNEL, reason, message, now=now)


def mark_backing_channel_unknown(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    CONDITIONS.mark_unknown(status, BACKING_CHANNEL, reason, message, now=now)


def mark_backing_channel_not_configured(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, BACKING_CHANNEL, "BackingChannelNotConfigured",
                            "BackingChannel has not yet been reconciled.", now=now)


def propagate_backing_channel_status(
    status: Status, backing: Status | None, *, now: datetime
) -> None:
    """Mirror the backing channel's status (None: not created yet): Ready, address, subscribers."""
    backing = backing if isinstance(backing, dict) else {}
    ready = next(
        (c for c in conditions.conditions_of(backing) if c["type"] == conditions.READY), None
    )
    state = None if ready is None else ready.get("status")
    reason = "" if ready is None else str(ready.get("reason") or "")
    message = "" if ready is None else str(ready.get("message") or "")
    if ready is None:
        mark_backing_channel_not_configured(status, now=now)
    elif state == conditions.TRUE:
        mark_backing_channel_ready(status, now=now)
    elif state == conditions.FALSE:
        mark_backing_channel_failed(status, reason, message, now=now)
    elif state == conditions.UNKNOWN:
        mark_backing_channel_unknown(status, reason, message, now=now)
    else:
        mark_backing_channel_unknown(status, "BackingChannelUnknown",
                                     f"The status of BackingChannel is invalid: {state!r}",
                                     now=now)
    address = backing.get("address")
    url = address.get("url") if isinstance(address, dict) else None
    mark_addressable(status, url if isinstance(url, str) else None, now=now)
    subscribers = backing.get("subscribers")
    if isinstance(subscribers, list) and subscribers:
        status["subscribers"] = [dict(s) for s in subscribers if isinstance(s, dict)]
    else:
        status.pop("subscribers", None)


def mark_addressable(status: Status, url: str | None, *, now: datetime) -> None:
    """Publish the channel's URL; `address.name` is its scheme, as for the Broker."""
    if not url:
        status.pop("address", None)
        CONDITIONS.mark_false(status, ADDRESSABLE, "EmptyHostname",
                              "hostname is the empty string", now=now)
        return
    status["address"] = duck.address(url)
    CONDITIONS.mark_true(status, ADDRESSABLE, now=now)


_DEAD_LETTER_SINK = dead_letters.Marks(CONDITIONS, DEAD_LETTER_SINK_RESOLVED)
mark_dead_letter_sink_resolved = _DEAD_LETTER_SINK.resolved
mark_dead_letter_sink_not_configured = _DEAD_LETTER_SINK.not_configured
mark_dead_letter_sink_failed = _DEAD_LETTER_SINK.failed


def address_url(channel: dict[str, Any]) -> str | None:
    """The URL the reconciler published, if any."""
    status = channel.get("status")
    address = status.get("address") if isinstance(status, dict) else None
    url = address.get("url") if isinstance(address, dict) else None
    return url if isinstance(url, str) and url else None


def is_ready(channel: dict[str, Any]) -> bool:
    """Ready, and for the latest spec."""
    status = channel.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(channel).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
