"""The Trigger condition set and the `mark_*` functions its reconciler calls.

Reconcilers call these and never edit `status.conditions` by hand. Upstream:
`knative/eventing:pkg/apis/eventing/v1/trigger_lifecycle.go`. Ripple's Trigger is Ready
when all of these are True:
- `BrokerReady`: the Broker exists and is Ready (`propagate_broker_condition`);
- `DependencyReady`: the source named by `knative.dev/dependency` is Ready, or there is
  no such annotation (`mark_dependency_succeeded`);
- `SubscriberResolved`: `spec.subscriber` resolved into `status.subscriberUri`;
- `DeadLetterSinkResolved`: the Trigger's dead-letter sink, or else its Broker's, resolved
  into `status.deadLetterSinkUri`, or True with reason `DeadLetterSinkNotConfigured`.

- `SubscriptionReady`: the Trigger's delivery queue exists and every data-plane process
  runs its dispatcher. Knative's stands for the Subscription to the Broker's trigger
  channel; Ripple's Trigger has its queue instead, and this is when tools that wait on
  SubscriptionReady (kn) may go on.

`OIDCIdentityCreated` is left out until Ripple supports OIDC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions, dead_letters, meta

BROKER = "BrokerReady"
SUBSCRIPTION = "SubscriptionReady"
DEPENDENCY = "DependencyReady"
SUBSCRIBER_RESOLVED = "SubscriberResolved"
DEAD_LETTER_SINK_RESOLVED = "DeadLetterSinkResolved"

CONDITIONS = conditions.ConditionSet(
    conditions.READY,
    (BROKER, SUBSCRIPTION, DEPENDENCY, SUBSCRIBER_RESOLVED, DEAD_LETTER_SINK_RESOLVED),
)

Status = dict[str, Any]
Condition = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


def mark_broker_ready(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, BROKER, now=now)


def mark_broker_not_ready(
    status: Status,
    reason: str = "BrokerNotConfigured",
    message: str = "Broker has not yet been reconciled.",
    *,
    now: datetime,
) -> None:
    """Unknown: the Broker is missing or still reconciling (a Trigger may precede it)."""
    CONDITIONS.mark_unknown(status, BROKER, reason, message, now=now)


def mark_broker_failed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, BROKER, reason, message, now=now)


def propagate_broker_condition(status: Status, ready: Condition | None, *, now: datetime) -> None:
    """Mirror the Broker's Ready condition (None: no Broker yet) into BrokerReady."""
    _propagate(status, BROKER, ready, now, "BrokerNotConfigured",
               "Broker has not yet been reconciled.", "BrokerUnknown")


def mark_subscription_ready(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, SUBSCRIPTION, now=now)


def mark_subscription_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, SUBSCRIPTION, reason, message, now=now)


def mark_subscriber_resolved(status: Status, uri: str, *, now: datetime) -> None:
    status["subscriberUri"] = uri
    CONDITIONS.mark_true(status, SUBSCRIBER_RESOLVED, now=now)


def mark_subscriber_failed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    """The ref cannot be resolved: the URI is cleared, so nothing is delivered to a stale one."""
    status.pop("subscriberUri", None)
    CONDITIONS.mark_false(status, SUBSCRIBER_RESOLVED, reason, message, now=now)


def mark_subscriber_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, SUBSCRIBER_RESOLVED, reason, message, now=now)


_DEAD_LETTER_SINK = dead_letters.Marks(CONDITIONS, DEAD_LETTER_SINK_RESOLVED)
mark_dead_letter_sink_resolved = _DEAD_LETTER_SINK.resolved
mark_dead_letter_sink_not_configured = _DEAD_LETTER_SINK.not_configured
mark_dead_letter_sink_failed = _DEAD_LETTER_SINK.failed


def mark_dependency_succeeded(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, DEPENDENCY, now=now)


def mark_dependency_failed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, DEPENDENCY, reason, message, now=now)


def mark_dependency_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, DEPENDENCY, reason, message, now=now)


def mark_dependency_not_configured(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, DEPENDENCY, "DependencyNotConfigured",
                            "Dependency has not yet been reconciled.", now=now)


def propagate_dependency_condition(
    status: Status, ready: Condition | None, *, now: datetime
) -> None:
    """Mirror the dependency's Ready condition (None: not reconciled yet) into DependencyReady."""
    _propagate(status, DEPENDENCY, ready, now, "DependencyNotConfigured",
               "Dependency has not yet been reconciled.", "DependencyUnknown")


def _propagate(
    status: Status, type_: str, ready: Condition | None, now: datetime,
    absent_reason: str, absent_message: str, invalid_reason: str,
) -> None:
    if ready is None:
        CONDITIONS.mark_unknown(status, type_, absent_reason, absent_message, now=now)
        return
    state = ready.get("status")
    reason, message = str(ready.get("reason") or ""), str(ready.get("message") or "")
    if state == conditions.TRUE:
        CONDITIONS.mark_true(status, type_, now=now)
    elif state == conditions.FALSE:
        CONDITIONS.mark_false(status, type_, reason, message, now=now)
    elif state == conditions.UNKNOWN:
        CONDITIONS.mark_unknown(status, type_, reason, message, now=now)
    else:
        CONDITIONS.mark_unknown(status, type_, invalid_reason,
                                f"the Ready status is invalid: {state!r}", now=now)


def is_ready(trigger: dict[str, Any]) -> bool:
    """Ready, and for the latest spec."""
    status = trigger.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(trigger).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
