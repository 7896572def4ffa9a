"""The Broker condition set and the `mark_*` functions its reconciler calls.

Reconcilers call these and never edit `status.conditions` by hand; readers use `is_ready`
and `CONDITIONS.get`. Upstream: `broker_lifecycle.go` and `broker_lifecycle_mt.go`.

Ripple's Broker reports the conditions it can honestly observe:
- `IngressReady`: every data-plane process's multi-tenant ingress routes this Broker
  (Unknown, reason `WaitingForDataPlane`, until they all do; False, reason
  `BrokerClassNotSupported`, for a class Ripple does not implement);
- `FilterReady`: the fan-out that reads the Broker's log once and applies the Triggers'
  filters is running for this Broker in every data-plane process;
- `Addressable`: `status.address.url` is set;
- `DeadLetterSinkResolved`: `spec.delivery.deadLetterSink` resolved into
  `status.deadLetterSinkUri`, or True with reason `DeadLetterSinkNotConfigured`.

Knative's `TriggerChannelReady` is left out: a Ripple Broker has no channel, its log is a
stream the ingress writes, and the ingress answers 202 only after that write, so
`IngressReady` already covers it. `EventPoliciesReady` is left out because Ripple has no
EventPolicy support yet; it will join the set when it does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions, dead_letters, duck, meta

INGRESS = "IngressReady"
FILTER = "FilterReady"
ADDRESSABLE = "Addressable"
DEAD_LETTER_SINK_RESOLVED = "DeadLetterSinkResolved"

CONDITIONS = conditions.ConditionSet(
    conditions.READY, (INGRESS, FILTER, ADDRESSABLE, DEAD_LETTER_SINK_RESOLVED)
)

Status = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


def mark_ingress_ready(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, INGRESS, now=now)


def mark_ingress_failed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, INGRESS, reason, message, now=now)


def mark_ingress_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, INGRESS, reason, message, now=now)


def mark_filter_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, FILTER, reason, message, now=now)


def mark_filter_ready(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, FILTER, now=now)


def mark_filter_failed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, FILTER, reason, message, now=now)


def mark_addressable(status: Status, url: str | None, *, now: datetime) -> None:
    """Publish the ingress URL; like Knative's SetAddress, `address.name` is its scheme."""
    if not url:
        status.pop("address", None)
        CONDITIONS.mark_false(status, ADDRESSABLE, "NoAddress", "the Broker has no URL", now=now)
        return
    status["address"] = duck.address(url)
    CONDITIONS.mark_true(status, ADDRESSABLE, now=now)


def mark_addressable_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, ADDRESSABLE, reason, message, now=now)


_DEAD_LETTER_SINK = dead_letters.Marks(CONDITIONS, DEAD_LETTER_SINK_RESOLVED)
mark_dead_letter_sink_resolved = _DEAD_LETTER_SINK.resolved
mark_dead_letter_sink_not_configured = _DEAD_LETTER_SINK.not_configured
mark_dead_letter_sink_failed = _DEAD_LETTER_SINK.failed


def address_url(broker: dict[str, Any]) -> str | None:
    """The ingress URL the reconciler published, if any."""
    status = broker.get("status")
    address = status.get("address") if isinstance(status, dict) else None
    url = address.get("url") if isinstance(address, dict) else None
    return url if isinstance(url, str) and url else None


def is_ready(broker: dict[str, Any]) -> bool:
    """Ready, and for the latest spec: Knative's `Broker.IsReady`."""
    status = broker.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(broker).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
