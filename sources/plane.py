"""The sources' data plane of one process: PingSource ticks, the GitHub and GitLab webhook
receivers, and KafkaSource consumers, each delivering through the delivery engine.

The composition root subscribes `sync` to the informer. Like the broker and channel
planes it reads each source's spec and the status its reconciler wrote (`sinkUri`,
`deadLetterSinkUri`) and never writes status:
- PingSource, GitHubSource, GitLabSource: events go to the source's durable queue (a
  ping tick by its claim, a webhook by the receiver), and one delivery `Target` per source
  sends them to the sink with retries. Until the sink resolves, events wait in the queue;
- KafkaSource: Kafka is the log, so a `KafkaAdapter` per source consumes it with the
  source's consumer group and delivers in place, committing offsets after delivery. A
  record nobody took is kept in the source's dead-letter store, and the source has a queue
  and a delivery `Target` too, with the source's own `delivery`, for what `ripple dlq
  redrive` sends back: the adapter and that queue share one `Target`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.asyncio as aioredis

from channels import authorizing, deadletters, locations, policies, queues
from channels.deliveries import Deliveries
from channels.dispatching import Secured, Target
from channels.identities import Kind
from channels.sending import Sender
from ripple import cron, errors, keys, metrics
from ripple.api import dead_letter_bounds, meta
from ripple.api.core import secret as secrets
from ripple.api.sources import (
    kafka_source_types,
    ping_source_types,
    source_spec,
)
from ripple.informers import Informer
from ripple.settings import Settings
from sources import reporting
from sources.kafka.adapter import KafkaAdapter, KafkaConfig
from sources.ping.scheduler import PingJob, PingScheduler
from sources.webhooks.receiver import Hook

log = logging.getLogger(__name__)

QUEUED_KINDS = (Kind.PING_SOURCE, Kind.GITHUB_SOURCE, Kind.GITLAB_SOURCE)
"""The sources whose events wait in a queue: the targets this plane owns in `Deliveries`."""
RESOURCES = frozenset({*(str(k) for k in QUEUED_KINDS), "KafkaSource", "Secret",
                       *authorizing.GUARDED_KINDS})
"""Brokers and channels too: their `ripple.dev/ingress-auth` gives a sink's token."""
"""The resource kinds whose changes this plane syncs on (Secrets: the receivers' tokens)."""

SOURCE_RETRY = 12
"""Retries of a PingSource or webhook event (exponential from 50 ms, as Knative's adapters
retry, but 12 times rather than 5: minutes of sink outage before the event goes to the
source's dead-letter store, where Knative gives up and drops it after about two seconds)."""


class SourcePlane:
    def __init__(self, client: aioredis.Redis, informer: Informer, deliveries: Deliveries,
                 sender: Sender, settings: Settings, *, consumer: str) -> None:
        self.redis, self.informer, self.deliveries = client, informer, deliveries
        self.sender, self.settings, self.consumer = sender, settings, consumer
        self._reporter: asyncio.Task[None] | None = None
        self.pings = PingScheduler(client)
        self._hooks: dict[tuple[str, str, str], Hook] = {}
        self._kafka: dict[tuple[str, str], tuple[KafkaConfig, KafkaAdapter]] = {}
        self._kafka_ops: set[asyncio.Task[None]] = set()
        self.synced_version = 0
        """The informer version the last sync applied (`ripple.dataplane`)."""
        self._stale = False
        """A sync failed half-way: the next change of any kind syncs again in full."""

    def hook(self, kind: str, namespace: str, name: str) -> Hook | None:
        return self._hooks.get((kind, namespace, name))

    def sync(self, changed: set[str] | None = None) -> None:
        version = self.informer.version
        if changed is not None and not changed & RESOURCES and not self._stale:
            self.synced_version = version  # nothing of ours changed
            return
        self._stale = True  # until this sync completes: a failed one is not "current"
        targets, jobs = [], []
        hooks: dict[tuple[str, str, str], Hook] = {}
        for kind in QUEUED_KINDS:
            for source in self.informer.list(kind):
                namespace, name = meta.key(source)
                targets.append(self._queued_target(kind, source))
                if kind == Kind.PING_SOURCE:
                    job = self._ping_job(source)
                    if job is not None:
                        jobs.append(job)
                else:
                    hooks[(kind, namespace, name)] = self._hook(kind, source)
        self._hooks = hooks
        self.pings.sync(jobs)
        kafka = {meta.key(source): (self._kafka_config(source), self._kafka_target(source))
                 for source in self.informer.list("KafkaSource")}
        targets += [target for _, target in kafka.values()]
        removed = self.deliveries.sync(targets, kinds=(*QUEUED_KINDS, Kind.KAFKA_SOURCE))
        gone = [t.stream for t in removed]
        for key in (t.key for t in removed):
            gone.append(keys.source_schedule(key.kind, key.namespace, key.name))
            store = keys.source_dead_letters(key.kind, key.namespace, key.name)
            gone += (store, keys.dead_letter_index(store))
            gone.append(keys.source_failures(key.kind, key.namespace, key.name))
            if key.kind == Kind.PING_SOURCE:
                gone.append(keys.ping_tick(key.namespace, key.name))
        queues.discard(self.redis, gone)
        self._sync_kafka(kafka)
        self.synced_version = version
        self._stale = False

    async def close(self) -> None:
        if self._reporter is not None:
            self._reporter.cancel()
        await self.pings.close()
        await asyncio.gather(*self._kafka_ops, return_exceptions=True)
        await asyncio.gather(*(adapter.stop() for _, adapter in self._kafka.values()),
                             return_exceptions=True)
        self._kafka.clear()

    # -- PingSource, GitHubSource, GitLabSource ------------------------------------------

    def _queued_target(self, kind: Kind, source: dict[str, Any]) -> Target:
        namespace, name = meta.key(source)
        where = locations.of_source(kind, namespace, name)
        return Target(
            key=where.key,
            stream=where.stream,
            schedule=where.schedule,
            namespace=namespace,
            subscriber_uri=source_spec.sink_uri(source),
            policy=policies.DeliveryPolicy(
                retry=SOURCE_RETRY, backoff_policy="exponential", backoff_delay=0.05,
                timeout=self.settings.delivery.default_timeout,
                backoff_max=self.settings.delivery.backoff_max),
            labels=metrics.source_labels(namespace, kind, name),
            dead_letters=deadletters.of(where, dead_letter_bounds.of(source, self._bounds())),
            secured=self._secured(source),
        )

    def _secured(self, source: dict[str, Any]) -> tuple[tuple[str, Secured], ...]:
        """The sink's token (an annotated Broker or Channel) and CA bundles."""
        spec = source.get("spec") or {}
        return authorizing.secure(self.informer, meta.key(source)[0], {
            "subscriber": spec.get("sink"),
            "dead-letter": (spec.get("delivery") or {}).get("deadLetterSink")})

    def _ping_job(self, source: dict[str, Any]) -> PingJob | None:
        namespace, name = meta.key(source)
        spec = source.get("spec") or {}
        try:
            schedule = cron.parse(spec.get("schedule") or "* * * * *", spec.get("timezone"))
        except cron.CronError as exc:  # admission refuses these; a stored one is skipped
            log.warning("PingSource schedule not understood", extra={"source": f"{namespace}/{name}",
                                                                     "error": str(exc)})
            return None
        content_type, data = ping_source_types.payload(source)
        attributes = {**source_spec.extensions(source), "specversion": "1.0",
                      "type": ping_source_types.EVENT_TYPE,
                      "source": ping_source_types.event_source(namespace, name)}
        if content_type:
            attributes["datacontenttype"] = content_type
        return PingJob(namespace=namespace, name=name, schedule=schedule,
                       tick_key=keys.ping_tick(namespace, name),
                       stream=keys.source_queue("PingSource", namespace, name),
                       attributes=attributes, data=data)

    def _hook(self, kind: str, source: dict[str, Any]) -> Hook:
        namespace, name = meta.key(source)
        spec = source.get("spec") or {}
        origin = spec.get("ownerAndRepository") if kind == "GitHubSource" else spec.get("projectUrl")
        return Hook(kind=kind, namespace=namespace, name=name, origin=str(origin or ""),
                    event_types=frozenset(spec.get("eventTypes") or ()),
                    secret=self._secret(namespace, (spec.get("secretToken") or {}).get("secretKeyRef")),
                    stream=keys.source_queue(kind, namespace, name),
                    extensions=source_spec.extensions(source))

    def _secret(self, namespace: str, ref: Any) -> bytes | None:
        if not isinstance(ref, dict):
            return None
        secret = self.informer.get("Secret", namespace, str(ref.get("name", "")))
        if secret is None:
            return None
        try:
            return secrets.secret_value(secret, str(ref.get("key", "")))
        except Exception:
            return None

    # -- KafkaSource -----------------------------------------------------------------------

    def _sync_kafka(self, wanted: dict[tuple[str, str], tuple[KafkaConfig, Target]]) -> None:
        for key in list(self._kafka):
            config, adapter = self._kafka[key]
            if key not in wanted or wanted[key][0] != config:
                del self._kafka[key]
                self._spawn(adapter.stop())
        for key, (config, target) in wanted.items():
            running = self._kafka.get(key)
            if running is not None:
                running[1].update_target(target)
                continue
            adapter = KafkaAdapter(config, target, self.sender, self.redis)
            self._kafka[key] = (config, adapter)
            self._spawn(adapter.start())
        if self._kafka and (self._reporter is None or self._reporter.done()):
            self._reporter = asyncio.create_task(self._report_forever(), name="source-reports")

    async def _report_forever(self) -> None:
        """What only the consumers know (connected, offsets committed), for the reconciler."""
        while self._kafka:
            reports = {("KafkaSource", *key): adapter.report() for key, (_, adapter) in self._kafka.items()}
            try:
                await reporting.write(self.redis, self.consumer, reports)
            except errors.StoreUnavailable as exc:
                log.warning("adapter reports not written", extra={"error": str(exc)})
            await asyncio.sleep(reporting.INTERVAL)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._kafka_ops.add(task)
        task.add_done_callback(self._kafka_done)

    def _kafka_done(self, task: asyncio.Task[None]) -> None:
        self._kafka_ops.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("KafkaSource adapter failed to start or stop", exc_info=task.exception())

    def _kafka_config(self, source: dict[str, Any]) -> KafkaConfig:
        namespace, name = meta.key(source)
        spec = source.get("spec") or {}
        return KafkaConfig(
            namespace=namespace, name=name,
            bootstrap_servers=tuple(spec.get("bootstrapServers") or ()),
            topics=tuple(spec.get("topics") or ()),
            group=str(spec.get("consumerGroup") or f"knative-kafka-source-{namespace}-{name}"),
            initial_offset=str(spec.get("initialOffset") or "latest"),
            ordered=(spec.get("ordering") or kafka_source_types.ORDERED) == kafka_source_types.ORDERED,
            key_type=kafka_source_types.key_type(source),
            extensions=tuple(sorted(source_spec.extensions(source).items())),
            max_in_flight=self.settings.delivery.max_in_flight,
        )

    def _kafka_target(self, source: dict[str, Any]) -> Target:
        namespace, name = meta.key(source)
        status = source.get("status") or {}
        where = locations.of_source(Kind.KAFKA_SOURCE, namespace, name)
        return Target(
            key=where.key, stream=where.stream, schedule=where.schedule, namespace=namespace,
            subscriber_uri=source_spec.sink_uri(source),
            policy=policies.resolve((source.get("spec") or {}).get("delivery"), None,
                                    dead_letter_uri=status.get("deadLetterSinkUri") or None,
                                    default_timeout=self.settings.delivery.default_timeout,
                                    backoff_max=self.settings.delivery.backoff_max),
            labels=metrics.source_labels(namespace, Kind.KAFKA_SOURCE, name),
            dead_letters=deadletters.of(where, dead_letter_bounds.of(source, self._bounds())),
            secured=self._secured(source),
        )

    def _bounds(self) -> dead_letter_bounds.Bounds:
        """The store's bounds where a source's annotations set none."""
        return dead_letter_bounds.Bounds(self.settings.dead_letters.max_entries,
                                         self.settings.dead_letters.retention)

