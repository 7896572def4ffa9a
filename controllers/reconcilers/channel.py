"""ReconcileKind for InMemoryChannel and Channel: address, subscribers, dead-letter sink. Pure.

Both are backed by Ripple's Redis-stream channel: one log per channel, served by the
multi-tenant channel ingress at `<base>/channels/<ns>/<name>`, so InMemoryChannel
manifests work unchanged and are durable.

- `spec.subscribers` is filled as Knative's Subscription controller fills it: one entry
  per Subscription naming the channel whose references resolved (uid, generation,
  subscriberUri, replyUri, delivery with the resolved dead-letter sink).
- `status.subscribers[]` has one entry per `spec.subscribers` entry, ready once every
  data-plane process runs that Subscription's dispatcher.
- A Channel owns a backing InMemoryChannel of the same name (a child, as Knative's Channel
  creates its backing channel), which shares its log; `status.channel` names it once it
  exists, and its Ready, address and subscribers are mirrored. A Channel whose
  `channelTemplate` names another kind (e.g. KafkaChannel) is not Ready: Ripple has no
  such backing.
"""

from __future__ import annotations

import copy
from typing import Any

from controllers.reconcilers import dead_letters, waiting
from controllers.reconciling import Context, Object, Result
from ripple.api import conditions, meta
from ripple.api.messaging import (
    channel_lifecycle,
    channelable,
    in_memory_channel_lifecycle,
    subscription_types,
)
from ripple.api.messaging import in_memory_channel_types as imc_types

IMC_API = f"{imc_types.GROUP}/{imc_types.VERSION}"
SUBSCRIPTION_API = IMC_API
RETRY_FIELDS = ("retry", "backoffPolicy", "backoffDelay", "timeout", "retryAfterMax", "format")


def reconcile_in_memory_channel(imc: Object, ctx: Context) -> Result:
    status = copy.deepcopy(imc.get("status") or {})
    lifecycle = in_memory_channel_lifecycle
    now = ctx.now
    lifecycle.initialize(status, now=now)
    namespace, name = meta.key(imc)
    served = waiting.served(imc, lifecycle.CONDITIONS.get(status, lifecycle.ENDPOINTS), ctx)
    if served:
        lifecycle.mark_endpoints_ready(status, now=now)
        lifecycle.mark_dispatcher_ready(status, now=now)
    else:
        lifecycle.mark_endpoints_unknown(status, waiting.REASON, waiting.message("ingress"), now=now)
        lifecycle.mark_dispatcher_unknown(status, waiting.REASON, waiting.message("dispatcher"),
                                          now=now)
    lifecycle.mark_addressable(status, f"{ctx.base_url}/channels/{namespace}/{name}", now=now)
    _dead_letter_sink(imc, status, lifecycle, ctx)
    spec = imc.get("spec") or {}
    if _controlled_by_channel(imc):  # the owning Channel fills our spec.subscribers
        subscribers = [s for s in spec.get("subscribers") or [] if isinstance(s, dict)]
        wanted = None
    else:
        subscribers = subscriber_specs(imc, ctx)
        wanted = {"subscribers": subscribers} if subscribers != (spec.get("subscribers") or []) else None
    pending = _subscriber_statuses(imc, subscribers, status, served, ctx)
    status["observedGeneration"] = meta.metadata(imc).get("generation")
    again = None if served and not pending else waiting.again(imc, ctx)
    return Result(status, spec=wanted, requeue_after=again)


def reconcile_channel(channel: Object, ctx: Context) -> Result:
    status = copy.deepcopy(channel.get("status") or {})
    lifecycle = channel_lifecycle
    now = ctx.now
    lifecycle.initialize(status, now=now)
    namespace, name = meta.key(channel)
    spec = channel.get("spec") or {}
    subscribers = subscriber_specs(channel, ctx)
    wanted = {"subscribers": subscribers} if subscribers != (spec.get("subscribers") or []) else None
    template = spec.get("channelTemplate") or {}
    children: tuple[Object, ...] = ()
    if template.get("kind", imc_types.KIND) != imc_types.KIND:
        lifecycle.set_backing_channel(status, None)
        status.pop("address", None)  # the backing channel's address: there is none
        status.pop("subscribers", None)
        lifecycle.mark_backing_channel_failed(
            status, "BackingChannelNotSupported",
            f"channelTemplate kind {template.get('kind')} is not a backing Ripple provides; "
            f"use {imc_types.KIND}", now=now)
    else:
        children = (_backing(channel, template, subscribers),)
        backing = ctx.observed.get(IMC_API, imc_types.KIND, namespace, name)
        lifecycle.set_backing_channel(
            status, None if backing is None else
            {"apiVersion": IMC_API, "kind": imc_types.KIND, "name": name, "namespace": namespace})
        lifecycle.propagate_backing_channel_status(
            status, None if backing is None else backing.get("status"), now=now)
    _dead_letter_sink(channel, status, lifecycle, ctx)
    status["observedGeneration"] = meta.metadata(channel).get("generation")
    return Result(status, children=children, spec=wanted)


def subscriber_specs(channel: Object, ctx: Context) -> list[dict[str, Any]]:
    """`spec.subscribers` as Knative's Subscription controller writes it, in name order."""
    namespace, name = meta.key(channel)
    found = []
    for sub in ctx.observed.list("Subscription", namespace):
        ref = subscription_types.channel_ref(sub) or {}
        if ref.get("name") != name or ref.get("kind") != channel.get("kind"):
            continue
        physical = subscription_types.physical_subscription(sub)
        entry: dict[str, Any] = {"name": meta.key(sub)[1], "uid": _uid(sub),
                                 "generation": meta.metadata(sub).get("generation") or 0}
        for field in ("subscriberUri", "replyUri"):
            if physical.get(field):
                entry[field] = physical[field]
        if "subscriberUri" not in entry and "replyUri" not in entry:
            continue  # not resolved yet: Knative adds it once it is
        delivery = {k: v for k, v in ((sub.get("spec") or {}).get("delivery") or {}).items()
                    if k in RETRY_FIELDS}
        if physical.get("deadLetterSinkUri"):
            delivery["deadLetterSink"] = {"uri": physical["deadLetterSinkUri"]}
        if delivery:
            entry["delivery"] = delivery
        found.append(entry)
    return found


def _subscriber_statuses(channel: Object, subscribers: list[dict[str, Any]], status: Object,
                         served: bool, ctx: Context) -> bool:
    """Set `status.subscribers`; True while some subscriber waits for the data plane."""
    namespace, _ = meta.key(channel)
    before = {str(e.get("uid")): e for e in status.pop("subscribers", None) or [] if isinstance(e, dict)}
    pending = False
    for entry in subscribers:
        sub = ctx.observed.get(SUBSCRIPTION_API, "Subscription", namespace, str(entry.get("name", "")))
        # Once running, a dispatcher runs as long as its Subscription exists: sticky, as
        # `waiting.served` is, or each status write of the Subscription would undo it.
        was = before.get(str(entry.get("uid")))
        kept = (was is not None and was.get("ready") == conditions.TRUE
                and was.get("observedGeneration") == entry.get("generation"))
        running = served and sub is not None and (kept or ctx.data_plane.has_seen(sub))
        pending = pending or not running
        channelable.set_subscriber_status(
            status, str(entry.get("uid", "")), conditions.TRUE if running else conditions.UNKNOWN,
            "" if running else waiting.message("dispatcher"),
            observed_generation=int(entry.get("generation") or 0))
    return pending


def _backing(channel: Object, template: Object, subscribers: list[dict[str, Any]]) -> Object:
    namespace, name = meta.key(channel)
    spec: dict[str, Any] = copy.deepcopy(template.get("spec") or {})
    spec["subscribers"] = subscribers
    delivery = (channel.get("spec") or {}).get("delivery")
    if delivery:
        spec["delivery"] = copy.deepcopy(delivery)
    return {"apiVersion": IMC_API, "kind": imc_types.KIND,
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _dead_letter_sink(channel: Object, status: Object, lifecycle: Any, ctx: Context) -> None:
    namespace, _ = meta.key(channel)
    dead_letter = ((channel.get("spec") or {}).get("delivery") or {}).get("deadLetterSink")
    dead_letters.mark(lifecycle, status, dead_letter, namespace, ctx)


def _controlled_by_channel(obj: Object) -> bool:
    return any(r.get("controller") and r.get("kind") == "Channel"
               for r in meta.metadata(obj).get("ownerReferences") or [] if isinstance(r, dict))


def _uid(obj: Object) -> str:
    return str(meta.metadata(obj).get("uid") or meta.key(obj)[1])
