"""ReconcileKind for Subscription: channel, subscriber, reply and dead-letter sink. Pure.

Follows `pkg/reconciler/subscription/subscription.go`: the references resolve into
`status.physicalSubscription` (subscriberUri, replyUri, deadLetterSinkUri — the
Subscription's own sink, else its channel's); AddedToChannel once the channel's
`spec.subscribers` lists it (the channel's reconciler fills that list from the resolved
Subscriptions); ChannelReady mirrors the channel's `status.subscribers[]` entry for it.
"""

from __future__ import annotations

import copy

from controllers import resolving
from controllers.reconciling import Context, Object, Result
from ripple.api import meta
from ripple.api.messaging import channelable, subscription_types
from ripple.api.messaging import subscription_lifecycle as lifecycle


def reconcile(sub: Object, ctx: Context) -> Result:
    status = copy.deepcopy(sub.get("status") or {})
    now = ctx.now
    lifecycle.initialize(status, now=now)
    namespace, _ = meta.key(sub)
    spec = sub.get("spec") or {}
    ref = subscription_types.channel_ref(sub) or {}
    channel = ctx.observed.get(ref.get("apiVersion", ""), ref.get("kind", ""),
                               ref.get("namespace", namespace), ref.get("name", ""))
    failures = []
    subscriber = resolving.resolve_destination(spec.get("subscriber"), namespace, ctx.observed.get)
    lifecycle.set_subscriber_uri(status, subscriber.uri)
    if not subscriber.ok:
        failures.append(f"subscriber: {subscriber.message}")
    reply = resolving.resolve_destination(spec.get("reply"), namespace, ctx.observed.get) \
        if spec.get("reply") else None
    lifecycle.set_reply_uri(status, reply.uri if reply else None)
    if reply is not None and not reply.ok:
        failures.append(f"reply: {reply.message}")
    failures += _dead_letter_sink(spec, channel, namespace, status, ctx)
    if failures:
        lifecycle.mark_references_not_resolved(status, "ReferencesNotResolved", "; ".join(failures), now=now)
    else:
        lifecycle.mark_references_resolved(status, now=now)

    if channel is None:
        message = f"{ref.get('kind')} {ref.get('namespace', namespace)}/{ref.get('name')} not found"
        lifecycle.mark_not_added_to_channel(status, "ChannelNotFound", message, now=now)
        lifecycle.mark_channel_failed(status, "ChannelNotFound", message, now=now)
    else:
        uid = meta.metadata(sub).get("uid") or meta.key(sub)[1]
        listed = any(isinstance(s, dict) and s.get("uid") == uid
                     for s in (channel.get("spec") or {}).get("subscribers") or [])
        if listed:
            lifecycle.mark_added_to_channel(status, now=now)
        else:
            lifecycle.mark_added_to_channel_unknown(
                status, "NotAddedToChannel",
                "the channel's spec.subscribers does not list this Subscription yet"
                + ("" if not failures else " (its references are not resolved)"), now=now)
        entry = channelable.subscriber_status(channel.get("status") or {}, uid)
        lifecycle.propagate_channel_subscriber_status(status, entry, now=now)
    status["observedGeneration"] = meta.metadata(sub).get("generation")
    return Result(status)


def _dead_letter_sink(spec: Object, channel: Object | None, namespace: str, status: Object,
                      ctx: Context) -> list[str]:
    own = (spec.get("delivery") or {}).get("deadLetterSink")
    if own:
        found = resolving.resolve_destination(own, namespace, ctx.observed.get)
        lifecycle.set_dead_letter_sink_uri(status, found.uri)
        return [] if found.ok else [f"deadLetterSink: {found.message}"]
    lifecycle.set_dead_letter_sink_uri(status, ((channel or {}).get("status") or {}).get("deadLetterSinkUri"))
    return []
