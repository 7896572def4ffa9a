"""The InMemoryChannel condition set and the `mark_*` functions its reconciler calls.

Reconcilers call these and never edit `status.conditions` by hand. Upstream:
`knative/eventing:pkg/apis/messaging/v1/in_memory_channel_lifecycle.go`.

Ripple's InMemoryChannel reports the conditions it can honestly observe:
- `EndpointsReady`: the multi-tenant channel ingress that accepts this channel's events
  (at its `status.address.url`) is serving; Knative's reads "the dispatcher Service has
  ready endpoints", which is the same promise;
- `DispatcherReady`: the dispatch that drains the channel's log into one delivery queue
  per subscriber runs for this channel. Knative declares this type but leaves it out of
  the Ready set, since its dispatcher Deployment is shared; Ripple's dispatch is per
  channel, and a channel nobody delivers from is not Ready;
- `Addressable`: `status.address.url` is set (False, reason `emptyHostname`, if not);
- `DeadLetterSinkResolved`: `spec.delivery.deadLetterSink` resolved into
  `status.deadLetterSinkUri`, or True with reason `DeadLetterSinkNotConfigured`.

Left out: `ServiceReady` and `ChannelServiceReady` (Kubernetes Service objects: Ripple
has no per-channel Service, its address is the shared ingress's, and on Kubernetes that
Service's health is what `EndpointsReady` reports), and `EventPoliciesReady` (Ripple has
no EventPolicy support yet). `status.subscribers[]` entries are set with
`set_subscriber_status` (from `channelable`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions, dead_letters, duck, meta
from ripple.api.messaging import channelable

ENDPOINTS = "EndpointsReady"
DISPATCHER = "DispatcherReady"
ADDRESSABLE = "Addressable"
DEAD_LETTER_SINK_RESOLVED = "DeadLetterSinkResolved"

CONDITIONS = conditions.ConditionSet(
    conditions.READY, (ENDPOINTS, DISPATCHER, ADDRESSABLE, DEAD_LETTER_SINK_RESOLVED)
)

Status = dict[str, Any]

set_subscriber_status = channelable.set_subscriber_status
remove_subscriber_status = channelable.remove_subscriber_status


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


def mark_endpoints_ready(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, ENDPOINTS, now=now)


def mark_endpoints_failed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, ENDPOINTS, reason, message, now=now)


def mark_endpoints_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, ENDPOINTS, reason, message, now=now)


def mark_dispatcher_ready(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, DISPATCHER, now=now)


def mark_dispatcher_failed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, DISPATCHER, reason, message, now=now)


def mark_dispatcher_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, DISPATCHER, reason, message, now=now)


def mark_addressable(status: Status, url: str | None, *, now: datetime) -> None:
    """Publish the ingress URL; like Knative's SetAddress, `address.name` is its scheme."""
    if not url:
        status.pop("address", None)
        CONDITIONS.mark_false(status, ADDRESSABLE, "emptyHostname",
                              "hostname is the empty string", now=now)
        return
    status["address"] = duck.address(url)
    CONDITIONS.mark_true(status, ADDRESSABLE, now=now)


_DEAD_LETTER_SINK = dead_letters.Marks(CONDITIONS, DEAD_LETTER_SINK_RESOLVED)
mark_dead_letter_sink_resolved = _DEAD_LETTER_SINK.resolved
mark_dead_letter_sink_not_configured = _DEAD_LETTER_SINK.not_configured
mark_dead_letter_sink_failed = _DEAD_LETTER_SINK.failed


def address_url(imc: dict[str, Any]) -> str | None:
    """The ingress URL the reconciler published, if any."""
    status = imc.get("status")
    address = status.get("address") if isinstance(status, dict) else None
    url = address.get("url") if isinstance(address, dict) else None
    return url if isinstance(url, str) and url else None


def is_ready(imc: dict[str, Any]) -> bool:
    """Ready, and for the latest spec: Knative's `InMemoryChannel.IsReady`."""
    status = imc.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(imc).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
