"""The channel data plane of one process: channel ingress routes, fan-outs to every
Subscription, and the Subscriptions' deliveries.

Channel and InMemoryChannel are both backed by a Redis-stream log, so InMemoryChannel
manifests work unchanged and are durable. Like `broker.plane`, this reads the spec and the
status the reconcilers wrote (`status.physicalSubscription`) and never writes status.
A Subscription's reply is delivered to its `replyUri` (another channel's or broker's
ingress, or any sink) as a queue entry of its own (`channels.dispatching`): it is retried
with the Subscription's policy without calling the subscriber again, and when it fails
for good the original event goes to the dead-letter sink naming the reply's URL, as
Knative's dispatcher does. With no `spec.reply` the reply is dropped, as in Knative.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, Mapping

import redis.asyncio as aioredis

from ripple import keys, metrics
from ripple.api import dead_letter_bounds
from ripple.api.messaging import delivery_order
from ripple.informers import Informer
from ripple.settings import Settings

from channels import authorizing, deadletters, locations, policies, queues
from channels.deliveries import Deliveries
from channels.dispatching import Target
from channels.fanouts import Fanouts, LogSpec
from channels.identities import Kind
from channels.sending import Sender

log = logging.getLogger(__name__)

CHANNEL_KINDS = ("Channel", "InMemoryChannel")
KINDS = (Kind.SUBSCRIPTION,)
"""The targets this plane owns in the shared `Deliveries`."""
RESOURCES = frozenset({*CHANNEL_KINDS, "Subscription", "Secret", *authorizing.GUARDED_KINDS})
"""The resource kinds whose changes this plane syncs on."""


class ChannelPlane:
    def __init__(self, client: aioredis.Redis, informer: Informer, deliveries: Deliveries,
                 sender: Sender, settings: Settings, *, consumer: str,
                 on_length: Callable[[str, int], None]) -> None:
        self.redis, self.informer, self.deliveries = client, informer, deliveries
        self.sender, self.settings = sender, settings
        self.fanouts = Fanouts(client, consumer=consumer, on_length=on_length)
        self._channels: dict[tuple[str, str], dict] = {}
        self._subscribers: dict[tuple[str, str], list[str]] = {}
        self.synced_version = 0
        """The informer version the last sync applied (`ripple.dataplane`)."""
        self._stale = False
        """A sync failed half-way: the next change of any kind syncs again in full."""

    def resolve(self, namespace: str, name: str) -> str | None:
        return keys.channel_log(namespace, name) if (namespace, name) in self._channels else None

    def sync(self, changed: set[str] | None = None) -> None:
        version = self.informer.version
        if changed is not None and not changed & RESOURCES and not self._stale:
            self.synced_version = version  # nothing of ours changed
            return
        self._stale = True  # until this sync completes: a failed one is not "current"
        channels = {_key(c): c for kind in CHANNEL_KINDS for c in self.informer.list(kind)}
        subscriptions: dict[tuple[str, str], list[dict]] = {}
        for sub in self.informer.list("Subscription"):
            ref = (sub.get("spec") or {}).get("channel") or {}
            ns = sub["metadata"].get("namespace") or "default"
            subscriptions.setdefault((ref.get("namespace") or ns, ref.get("name", "")), []).append(sub)
        self._channels = channels
        specs, targets = [], []
        for key, channel in channels.items():
            subs = subscriptions.get(key, [])
            # mutated in place, so a running fan-out sees subscriptions come and go
            names = self._subscribers.setdefault(key, [])
            names[:] = [s["metadata"]["name"] for s in subs]
            namespace, name = key
            specs.append(LogSpec(keys.channel_log(namespace, name), functools.partial(_all, names),
                                 functools.partial(keys.channel_queue, namespace, name)))
            targets += [self._target(channel, s) for s in subs]
        for key in [k for k in self._subscribers if k not in channels]:
            del self._subscribers[key]
        gone = self.fanouts.sync(specs, owner=keys.CHANNELS)
        removed = self.deliveries.sync(targets, kinds=KINDS)
        queues.discard(self.redis, [k for t in removed for k in (t.stream, *deadletters.keys_of(t.dead_letters))]
                       + gone,
                       [(t.dead_letters.failures, f) for t in removed if t.dead_letters
                        for f in (t.dead_letters.field, deadletters.total_field(t.dead_letters.field))])
        self.synced_version = version
        self._stale = False

    async def close(self) -> None:
        await self.fanouts.close()

    def _target(self, channel: dict, sub: dict) -> Target:
        namespace, name = _key(sub)
        channel_ns, channel_name = _key(channel)
        physical = (sub.get("status") or {}).get("physicalSubscription") or {}
        spec = sub.get("spec") or {}
        policy = policies.resolve(
            (sub.get("spec") or {}).get("delivery"),
            (channel.get("spec") or {}).get("delivery"),
            dead_letter_uri=physical.get("deadLetterSinkUri") or None,
            default_timeout=self.settings.delivery.default_timeout,
            backoff_max=self.settings.delivery.backoff_max,
        )
        where = locations.of_subscription(namespace, channel_ns, channel_name, name)
        bounds = dead_letter_bounds.Bounds(self.settings.dead_letters.max_entries,
                                           self.settings.dead_letters.retention)
        return Target(
            key=where.key,
            stream=where.stream,
            schedule=where.schedule,
            namespace=namespace,
            subscriber_uri=physical.get("subscriberUri") or None,
            policy=policy,
            reply_uri=physical.get("replyUri") or None,
            ordered=delivery_order.of(sub) == delivery_order.ORDERED,
            labels=metrics.subscription_labels(namespace, channel_name, name),
            dead_letters=deadletters.of(where, dead_letter_bounds.of(sub, bounds)),
            secured=authorizing.secure(self.informer, namespace, {
                "subscriber": spec.get("subscriber"), "reply": spec.get("reply"),
                "dead-letter": _dead_letter_sink(sub, channel)}),
        )


def _dead_letter_sink(sub: dict, channel: dict) -> Any:
    for owner in (sub, channel):
        delivery = (owner.get("spec") or {}).get("delivery")
        if isinstance(delivery, dict) and delivery.get("deadLetterSink"):
            return delivery["deadLetterSink"]
    return None


def _all(names: list[str], _attributes: Mapping[str, Any]) -> list[str]:
    return list(names)


def _key(obj: dict) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace") or "default", meta["name"]
