"""ReconcileKind for InMemoryChannel and Channel: address, dead-letter sink, subscribers. Pure.

Both are backed directly by Ripple's Redis-stream channel (one log per channel, served
by the multi-tenant channel ingress at `<base>/channels/<ns>/<name>`), so InMemoryChannel
manifests work unchanged and are durable. A Channel records its backing as the
InMemoryChannel of the same name, which is the same log; Ripple creates no separate
object for it. A Channel whose `channelTemplate` names another kind (e.g. KafkaChannel)
is not Ready: Ripple has no such backing.
`status.subscribers[]` reports every Subscription on the channel, Ready once the
Subscription reconciler resolved its subscriber.
"""

from __future__ import annotations

import copy
from typing import Any

from controllers.reconcilers import dead_letters
from controllers.reconcilers.observing import Context, Object
from ripple.api import conditions, meta
from ripple.api.messaging import (
    channel_lifecycle,
    channelable,
    in_memory_channel_lifecycle,
    subscription_types,
)
from ripple.api.messaging import in_memory_channel_types as imc_types


def reconcile_in_memory_channel(imc: Object, ctx: Context) -> Object:
    status = copy.deepcopy(imc.get("status") or {})
    lifecycle = in_memory_channel_lifecycle
    lifecycle.initialize(status, now=ctx.now)
    lifecycle.mark_endpoints_ready(status, now=ctx.now)
    lifecycle.mark_dispatcher_ready(status, now=ctx.now)
    _common(imc, status, lifecycle, ctx)
    return status


def reconcile_channel(channel: Object, ctx: Context) -> Object:
    status = copy.deepcopy(channel.get("status") or {})
    lifecycle = channel_lifecycle
    lifecycle.initialize(status, now=ctx.now)
    namespace, name = meta.key(channel)
    template = (channel.get("spec") or {}).get("channelTemplate") or {}
    if template.get("kind", imc_types.KIND) != imc_types.KIND:
        lifecycle.set_backing_channel(status, None)
        lifecycle.mark_backing_channel_failed(
            status, "BackingChannelNotSupported",
            f"channelTemplate kind {template.get('kind')} is not a backing Ripple provides; "
            f"use {imc_types.KIND}", now=ctx.now)
    else:
        lifecycle.set_backing_channel(status, {"apiVersion": f"{imc_types.GROUP}/{imc_types.VERSION}",
                                               "kind": imc_types.KIND, "name": name, "namespace": namespace})
        lifecycle.mark_backing_channel_ready(status, now=ctx.now)
    _common(channel, status, lifecycle, ctx)
    return status


def _common(channel: Object, status: Object, lifecycle: Any, ctx: Context) -> None:
    namespace, name = meta.key(channel)
    lifecycle.mark_addressable(status, f"{ctx.base_url}/channels/{namespace}/{name}", now=ctx.now)
    dead_letter = ((channel.get("spec") or {}).get("delivery") or {}).get("deadLetterSink")
    dead_letters.mark(lifecycle, status, dead_letter, namespace, ctx)
    _subscribers(channel, status, ctx)
    status["observedGeneration"] = meta.metadata(channel).get("generation")


def _subscribers(channel: Object, status: Object, ctx: Context) -> None:
    namespace, name = meta.key(channel)
    status.pop("subscribers", None)
    for sub in ctx.observed.list("Subscription", namespace):
        ref = subscription_types.channel_ref(sub) or {}
        if ref.get("name") != name or ref.get("kind") not in ("Channel", imc_types.KIND):
            continue
        uid = meta.metadata(sub).get("uid") or meta.key(sub)[1]
        resolved = subscription_types.physical_subscription(sub).get("subscriberUri")
        channelable.set_subscriber_status(
            status, uid, conditions.TRUE if resolved else conditions.FALSE,
            "" if resolved else "the subscriber is not resolved yet",
            observed_generation=meta.metadata(sub).get("generation") or 0)
