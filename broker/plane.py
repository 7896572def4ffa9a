"""The broker data plane of one process: ingress routes, fan-outs and trigger deliveries.

The composition root builds one `BrokerPlane` and subscribes it to an informer over
Brokers and Triggers. On every change `sync` recomputes, from the resources' spec and the
status the reconcilers wrote (never writing status itself):
- which brokers the ingress serves (a Broker that exists has a log);
- one `FilterIndex` per broker, of that broker's triggers, and the `Route` through which
  the ingress matches each event and copies it to its Triggers' queues when it appends it
  (`channels.appending`; `settings.ingress.route_brokers`);
- one `Fanout` task per broker, with the same index: it trims the log and copies what was
  appended unrouted (before an upgrade, or before this process knew the broker);
- one delivery `Target` per trigger, handed to the shared `Deliveries`.
A trigger's queue fills as soon as the trigger exists; it is delivered once the reconciler
resolved `status.subscriberUri`, so events are held, not lost, while a subscriber is
unresolvable.
"""

from __future__ import annotations

import asyncio
import time
import functools
import logging
from typing import Any, Mapping

import redis.asyncio as aioredis

from ripple import cloudevents as ce
from ripple import errors, keys, metrics
from ripple.api import dead_letter_bounds
from ripple.api.eventing import broker_types
from ripple.api.eventing import broker_types, retention
from ripple.api.messaging import delivery_order
from ripple.informers import Informer
from ripple.settings import Settings

from broker import filters, stamping
from channels import authorizing, deadletters, locations, policies, queues
from channels.appending import Appender, Route
from channels.deliveries import Deliveries
from channels.fanouts import Fanouts, LogSpec
from channels.dispatching import ReplyHandler, ReplyRefused, Target
from channels.identities import Kind

log = logging.getLogger(__name__)

KINDS = (Kind.TRIGGER,)
"""The targets this plane owns in the shared `Deliveries`."""
RESOURCES = frozenset({"Broker", "Trigger", "Secret", *authorizing.GUARDED_KINDS})
"""The resource kinds whose changes this plane syncs on (a Secret or a channel may change
the token a Trigger sends to an annotated Broker or Channel)."""
SYNC_DELAY = 0.05


class BrokerPlane:
    def __init__(
        self,
        client: aioredis.Redis,
        informer: Informer,
        appender: Appender,
        deliveries: Deliveries,
        settings: Settings,
        *,
        consumer: str,
    ) -> None:
        self.redis, self.informer, self.appender = client, informer, appender
        self.deliveries, self.settings, self.consumer = deliveries, settings, consumer
        self._brokers: dict[tuple[str, str], dict] = {}
        self._indexes: dict[tuple[str, str], filters.FilterIndex] = {}
        self._indexed: dict[tuple[str, str], dict[str, Any]] = {}
        self._sync_pending = False
        self.synced_version = 0
        """The informer version the last sync applied (`ripple.dataplane`)."""
        self._stale = False
        """A sync failed half-way: the next change of any kind syncs again in full."""
        self._targets: dict[tuple[str, str], tuple[tuple[Any, Any], Target]] = {}
        self.fanouts = Fanouts(client, consumer=consumer, on_length=appender.note_length)
        self._bounds = dead_letter_bounds.Bounds(settings.dead_letters.max_entries,
                                                 settings.dead_letters.retention)

    # -- ingress ---------------------------------------------------------------------------
    def resolve(self, namespace: str, name: str) -> str | None:
        return keys.broker_log(namespace, name) if (namespace, name) in self._brokers else None

    def prepare(self, event: ce.CloudEvent, headers: Mapping[str, str]) -> ce.CloudEvent:
        return stamping.stamp(event, headers, default_ttl=self.settings.ingress.default_ttl,
                              now_ns=time.time_ns())

    # -- sync ------------------------------------------------------------------------------
    def kick(self, changed: set[str] | None = None) -> None:
        """The informer listener: coalesce a burst of changes (a bulk apply) into one sync."""
        if changed is not None and not changed & RESOURCES and not self._stale:
            if not self._sync_pending:  # nothing of ours changed: we are as current as that
                self.synced_version = self.informer.version
            return
        if not self._sync_pending:
            self._sync_pending = True
            asyncio.get_running_loop().call_later(SYNC_DELAY, self._deferred_sync)

    def _deferred_sync(self) -> None:
        self._sync_pending = False
        self.sync()

    def sync(self) -> None:
        version = self.informer.version
        self._stale = True  # until this sync completes: a failed one is not "current"
        # A Broker of another class is left to its own implementation: not served here.
        brokers = {_key(b): b for b in self.informer.list("Broker")
                   if broker_types.broker_class(b) in broker_types.CLASSES}
        triggers: dict[tuple[str, str], list[dict]] = {k: [] for k in brokers}
        for trigger in self.informer.list("Trigger"):
            ns = trigger["metadata"]["namespace"]
            triggers.setdefault((ns, trigger["spec"]["broker"]), []).append(trigger)
        self._brokers = brokers
        specs, targets, routes = [], [], {}
        for key, broker in brokers.items():
            index = self._index_for(key, triggers.get(key, []))
            namespace, name = key
            log_stream = keys.broker_log(namespace, name)
            queue_of = functools.partial(keys.broker_queue, namespace, name)
            specs.append(LogSpec(log_stream, index.match, queue_of,
                                 retention=retention.of(broker, self.settings.logs.retention),
                                 max_retained=self.settings.logs.max_retained))
            routes[log_stream] = Route(index.match, queue_of)
            targets += [self._cached_target(broker, t) for t in triggers.get(key, [])]
        live = {_key(t) for ts in triggers.values() for t in ts}
        for key in [k for k in self._targets if k not in live]:
            del self._targets[key]
        for key in [k for k in self._indexes if k not in brokers]:
            del self._indexes[key], self._indexed[key]
        # Routes first: a deleted Trigger's queue is discarded below, after the ingress
        # stopped copying to it (a deleted broker's log leaves the routes with its index).
        self.appender.route(routes if self.settings.ingress.route_brokers else {}, owner=keys.BROKERS)
        gone = self.fanouts.sync(specs, owner=keys.BROKERS)
        removed = self.deliveries.sync(targets, kinds=KINDS)
        queues.discard(self.redis, [k for t in removed for k in _keys_of(t)] + gone,
                       [(t.dead_letters.failures, f) for t in removed if t.dead_letters
                        for f in (t.dead_letters.field, deadletters.total_field(t.dead_letters.field))])
        self.synced_version = version
        self._stale = False

    def _index_for(self, key: tuple[str, str], triggers: list[dict]) -> filters.FilterIndex:
        index = self._indexes.setdefault(key, filters.FilterIndex())
        wanted = {t["metadata"]["name"]: t["spec"] for t in triggers}
        indexed = self._indexed.setdefault(key, {})
        for name in [n for n in indexed if n not in wanted]:
            index.remove(name)
            del indexed[name]
        for name, spec in wanted.items():
            if indexed.get(name) != spec:
                index.put(name, spec)
                indexed[name] = spec
        return index

    def _cached_target(self, broker: dict, trigger: dict) -> Target:
        """A Trigger's Target, rebuilt only when the Trigger or its Broker changed: a bulk
        apply syncs often, and parsing every Trigger's delivery each time was most of it."""
        versions = (broker["metadata"].get("resourceVersion"), trigger["metadata"].get("resourceVersion"))
        key = _key(trigger)
        cached = self._targets.get(key)
        if cached is not None and cached[0] == versions and None not in versions \
                and not cached[1].secured:  # a token may have rotated: built again
            return cached[1]
        target = self._target(broker, trigger)
        self._targets[key] = (versions, target)
        return target

    def _target(self, broker: dict, trigger: dict) -> Target:
        namespace, name = _key(trigger)
        broker_name = trigger["spec"]["broker"]
        status = trigger.get("status") or {}
        policy = policies.resolve(
            trigger["spec"].get("delivery"),
            broker.get("spec", {}).get("delivery"),
            dead_letter_uri=status.get("deadLetterSinkUri") or None,
            default_timeout=self.settings.delivery.default_timeout,
            backoff_max=self.settings.delivery.backoff_max,
        )
        where = locations.of_trigger(namespace, broker_name, name)
        return Target(
            key=where.key,
            stream=where.stream,
            schedule=where.schedule,
            namespace=namespace,
            subscriber_uri=status.get("subscriberUri") or None,
            policy=policy,
            reply=self._reply_handler(namespace, broker_name,
                                      _address(broker, self.settings.base_url)),
            ordered=delivery_order.of(trigger) == delivery_order.ORDERED,
            labels=metrics.trigger_labels(namespace, broker_name, name),
            strip_attributes=(stamping.TTL,),
            dead_letters=deadletters.of(where, dead_letter_bounds.of(trigger, self._bounds)),
            secured=authorizing.secure(self.informer, namespace, {
                "subscriber": trigger["spec"].get("subscriber"),
                "dead-letter": _dead_letter_sink(trigger, broker)}),
        )

    def _reply_handler(self, namespace: str, broker: str, address: str) -> ReplyHandler:
        async def publish_reply(reply: ce.CloudEvent, original: ce.CloudEvent,
                                headers: Mapping[str, str]) -> None:
            # Knative re-attaches the original's TTL to the reply; the ingress takes a hop off.
            reply.attributes[stamping.TTL] = stamping.reply_hops(
                original, self.settings.ingress.default_ttl)
            if "traceparent" not in reply.attributes and "traceparent" in original.attributes:
                reply.attributes["traceparent"] = original.attributes["traceparent"]
            try:
                reply = self.prepare(reply, {})
            except errors.InvalidInput as exc:
                # What Knative's ingress answers a reply with no hops left (400): the reply
                # delivery failed for good, so the original goes to the Trigger's
                # dead-letter sink naming the Broker, or is dropped and counted.
                raise ReplyRefused(address, exc.status, str(exc).encode()) from None
            await self.appender.append(keys.broker_log(namespace, broker), ce.to_record(reply, headers))

        return publish_reply

    async def close(self) -> None:
        await self.fanouts.close()


def _keys_of(target: Target) -> list[str]:
    """A deleted Trigger's keys: its queue, its dead-letter store and the store's index."""
    return [target.stream, *deadletters.keys_of(target.dead_letters)]


def _dead_letter_sink(trigger: dict, broker: dict) -> Any:
    """The Destination dead letters go to: the Trigger's delivery's, else the Broker's, as
    `policies.resolve` picks its URI."""
    for owner in (trigger, broker):
        delivery = (owner.get("spec") or {}).get("delivery")
        if isinstance(delivery, dict) and delivery.get("deadLetterSink"):
            return delivery["deadLetterSink"]
    return None


def _address(broker: dict, base_url: str) -> str:
    """The Broker's URL as its status gives it (what a reply is sent to in Knative)."""
    namespace, name = _key(broker)
    url = ((broker.get("status") or {}).get("address") or {}).get("url")
    return str(url) if url else f"{base_url}/{namespace}/{name}"


def _key(obj: dict) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace") or "default", meta["name"]
