"""ReconcileKind for Trigger: its Broker, dependency, subscriber and dead-letter sink. Pure.

Follows `pkg/reconciler/broker/trigger/trigger.go`: the Trigger is not Ready until its
Broker is; the subscriber is resolved into `status.subscriberUri` (cleared when it cannot
be); the dead-letter sink is the Trigger's own, else the Broker's resolved one; and
`SubscriptionReady` waits until every data-plane process runs the Trigger's dispatcher.
"""

from __future__ import annotations

import copy

from controllers import resolving
from controllers.reconcilers import dead_letters, waiting
from controllers.reconciling import Context, Object, Result
from ripple.api import conditions, meta
from ripple.api.eventing import broker_lifecycle, broker_types, trigger_types
from ripple.api.eventing import trigger_lifecycle as lifecycle

BROKER_API = f"{broker_types.GROUP}/{broker_types.VERSION}"


def reconcile(trigger: Object, ctx: Context) -> Result:
    status = copy.deepcopy(trigger.get("status") or {})
    now = ctx.now
    lifecycle.initialize(status, now=now)
    namespace, _ = meta.key(trigger)
    spec = trigger.get("spec") or {}

    broker = ctx.observed.get(BROKER_API, broker_types.KIND, namespace, trigger_types.broker_name(trigger))
    if broker is None:
        lifecycle.mark_broker_failed(
            status, "BrokerDoesNotExist", f'Broker "{spec.get("broker")}" does not exist', now=now)
    else:
        ready = broker_lifecycle.CONDITIONS.get(broker.get("status") or {}, conditions.READY)
        lifecycle.propagate_broker_condition(status, ready, now=now)

    _dependency(trigger, status, ctx)

    found = resolving.resolve_destination(spec.get("subscriber"), namespace, ctx.observed.get)
    if found.uri is not None:
        lifecycle.mark_subscriber_resolved(status, found.uri, now=now)
    else:
        lifecycle.mark_subscriber_failed(status, found.reason, found.message, now=now)

    _dead_letter_sink(spec, broker, namespace, status, ctx)
    served = waiting.served(trigger, lifecycle.CONDITIONS.get(status, lifecycle.SUBSCRIPTION), ctx)
    if served:
        lifecycle.mark_subscription_ready(status, now=now)
    else:
        lifecycle.mark_subscription_unknown(status, waiting.REASON, waiting.message("dispatcher"),
                                            now=now)
    status["observedGeneration"] = meta.metadata(trigger).get("generation")
    return Result(status, requeue_after=None if served else waiting.again(trigger, ctx))


def _dependency(trigger: Object, status: Object, ctx: Context) -> None:
    ref = trigger_types.dependency(trigger)
    if ref is None:
        lifecycle.mark_dependency_succeeded(status, now=ctx.now)
        return
    target = ctx.observed.get(ref.get("apiVersion", ""), ref.get("kind", ""),
                              ref["namespace"], ref.get("name", ""))
    if target is None:
        lifecycle.mark_dependency_failed(
            status, "DependencyDoesNotExist",
            f'Dependency {ref.get("kind")} "{ref.get("name")}" does not exist', now=ctx.now)
        return
    target_status = target.get("status") or {}
    generation = meta.metadata(target).get("generation")
    if generation != target_status.get("observedGeneration"):
        # Its conditions describe an older spec: upstream's GenerationNotEqual.
        lifecycle.mark_dependency_unknown(
            status, "GenerationNotEqual",
            f'Dependency {ref.get("kind")} "{ref.get("name")}" has metadata.generation '
            f'{generation} but status.observedGeneration {target_status.get("observedGeneration")}',
            now=ctx.now)
        return
    ready = conditions.conditions_of(target_status)
    lifecycle.propagate_dependency_condition(
        status, next((c for c in ready if c.get("type") == conditions.READY), None), now=ctx.now)


def _dead_letter_sink(spec: Object, broker: Object | None, namespace: str, status: Object,
                      ctx: Context) -> None:
    own = (spec.get("delivery") or {}).get("deadLetterSink")
    if own:
        dead_letters.mark(lifecycle, status, own, namespace, ctx)
        return
    broker = broker or {}
    inherited = (broker.get("status") or {}).get("deadLetterSinkUri")
    if inherited:
        lifecycle.mark_dead_letter_sink_resolved(status, inherited, now=ctx.now)
    elif ((broker.get("spec") or {}).get("delivery") or {}).get("deadLetterSink"):
        # The Broker has one but has not resolved it: not "not configured" (upstream likewise).
        lifecycle.mark_dead_letter_sink_failed(
            status, dead_letters.UNRESOLVED,
            f'Broker "{meta.key(broker)[1]}" has not resolved its dead letter sink '
            "(status.deadLetterSinkUri is unset)", now=ctx.now)
    else:
        lifecycle.mark_dead_letter_sink_not_configured(status, now=ctx.now)
