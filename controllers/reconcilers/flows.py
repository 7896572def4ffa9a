"""ReconcileKind for Sequence and Parallel: the status of the children they are built from.

Pure. The children come from `resources.flows` and go into the Result, so the applier
creates, updates and collects them; this reads the observed children back into `channelStatuses`,
`subscriptionStatuses` (Sequence) or `ingressChannelStatus` and `branchStatuses`
(Parallel), the Ready conditions, and the address, which is the first channel's.
"""

from __future__ import annotations

import copy

from controllers.reconciling import Context, Object, Result
from controllers.reconcilers.resources import flows
from ripple.api import meta
from ripple.api.flows import parallel_lifecycle, sequence_lifecycle


def _observed(ctx: Context, wanted: Object) -> Object:
    namespace, name = meta.key(wanted)
    found = ctx.observed.get(wanted["apiVersion"], wanted["kind"], namespace, name)
    return found if found is not None else wanted  # not created yet: no Ready condition


def reconcile_sequence(seq: Object, ctx: Context) -> Result:
    status = copy.deepcopy(seq.get("status") or {})
    lifecycle = sequence_lifecycle
    lifecycle.initialize(status, now=ctx.now)
    lifecycle.propagate_channel_statuses(
        status, [_observed(ctx, c) for c in flows.sequence_channels(seq)], now=ctx.now)
    lifecycle.propagate_subscription_statuses(
        status, [_observed(ctx, s) for s in flows.sequence_subscriptions(seq)], now=ctx.now)
    status["observedGeneration"] = meta.metadata(seq).get("generation")
    return Result(status, children=tuple(flows.children(seq)))


def reconcile_parallel(par: Object, ctx: Context) -> Result:
    status = copy.deepcopy(par.get("status") or {})
    lifecycle = parallel_lifecycle
    lifecycle.initialize(status, now=ctx.now)
    lifecycle.propagate_channel_statuses(
        status, _observed(ctx, flows.parallel_ingress(par)),
        [_observed(ctx, c) for c in flows.parallel_branch_channels(par)], now=ctx.now)
    filters, subscribers = flows.parallel_subscriptions(par)
    lifecycle.propagate_subscription_statuses(
        status, [_observed(ctx, s) for s in filters], [_observed(ctx, s) for s in subscribers],
        now=ctx.now)
    status["observedGeneration"] = meta.metadata(par).get("generation")
    return Result(status, children=tuple(flows.children(par)))
