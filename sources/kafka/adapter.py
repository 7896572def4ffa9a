"""KafkaSource's data plane: one `KafkaAdapter` per KafkaSource per process, started and
stopped by `sources.plane`. Kafka is the log, so records do not go through Redis (only
those that end in the dead-letter store do): the adapter consumes with the source's
consumer group, delivers each record in place (`channels.inplace`: retries, then the
dead-letter sink) and commits a record's offset only
once its delivery is final: delivered, dead-lettered, or, when nobody took it (no
dead-letter sink, or the sink failed too), kept in the source's dead-letter store
(`channels.deadletters.keep`), where Knative would drop it. While the store cannot take
it, the keep is retried and the offset waits. A crash at any moment loses nothing: the
group's next owner of the partition resumes from the last commit, so records can arrive
twice (or be kept twice), never zero times.

- Ordered (Knative's default): per partition one record at a time, in offset order; a
  retry holds back its partition only. Unordered: up to `max_in_flight` at once.
  Both commit in order (`sources.kafka.offsets`).
- Bounded memory: past `max_in_flight` records taken and not committable, every partition
  is paused, and a partition past its share of that bound is paused alone. Paused
  consumers still poll, so a slow sink never costs the group membership.
- Partitions spread over processes through the group. On a rebalance the revoked
  partitions stop taking records, their running deliveries get `revoke_timeout` to finish,
  and what finished is committed; the rest goes to the next owner.
- An unreachable cluster is retried with backoff; `connected` and `last_error` say how it
  goes, for the source's conditions.
- Every call that waits on the cluster is bounded (`commit_timeout`, `close_timeout`):
  aiokafka waits for a group coordinator without end, so a cluster that went away while
  the source ran would otherwise hold the consumer loop, and a SIGTERM of `ripple up`,
  forever. An offset not committed in time is carried by the next commit, or stays
  uncommitted and the next owner of the partition delivers its records again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from channels import deadletters, failures, inplace
from channels.dispatching import Target
from channels.sending import Sender
from ripple import errors, metrics
from sources.kafka import offsets, records

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class KafkaConfig:
    """One KafkaSource as its adapter needs it; a change restarts the adapter."""

    namespace: str
    name: str
    bootstrap_servers: tuple[str, ...]
    """`host:port` items; an item may hold several, comma-separated."""
    topics: tuple[str, ...]
    group: str
    initial_offset: str
    """Where a group without a committed offset starts: `earliest` or `latest`."""
    ordered: bool
    key_type: str
    """How the key becomes the `key` extension: string, int, float or byte-array."""
    extensions: Mapping[str, str] | tuple[tuple[str, str], ...]
    """`ceOverrides.extensions`, as a mapping or as (name, value) pairs."""
    max_in_flight: int = 100
    """Records taken from Kafka and not yet committable; past it, fetching pauses."""
    session_timeout: float = 10.0
    """Seconds without a heartbeat before the group gives this consumer's partitions away."""
    heartbeat_interval: float = 3.0
    commit_interval: float = 1.0
    """Seconds between offset commits (and at every revoke and stop)."""
    drain_timeout: float = 10.0
    """On stop, seconds running deliveries get to finish before they are abandoned."""
    revoke_timeout: float = 5.0
    """On a rebalance, the same for the revoked partitions' deliveries."""
    commit_timeout: float = 3.0
    """Seconds an offset commit, or a look-up of the group's offsets, gets. A commit answers
    in milliseconds while the cluster is there; one that does not answer in time counts as
    failed (the next carries the same positions), and a stop asked meanwhile cuts it short."""
    close_timeout: float = 3.0
    """On stop, seconds the consumer gets to leave the group; past it the closing goes on
    in the background and the group notices the member gone by `session_timeout`."""
    reconnect_max: float = 30.0
    """The longest wait between two attempts to reach the cluster."""

    @property
    def servers(self) -> list[str]:
        return [part.strip() for item in self.bootstrap_servers
                for part in item.split(",") if part.strip()]


class _Lane:
    """One partition's records: those waiting (ordered mode) and the running tasks."""

    def __init__(self) -> None:
        self.waiting: deque[Any] = deque()
        self.tasks: set[asyncio.Task[None]] = set()
        self.runner: asyncio.Task[None] | None = None  # ordered mode: the one delivering
        self.closed = False


class _Released(Exception):
    """The partition was given up while its record waited for the store: not finished."""


KEEP_BACKOFF = (0.1, 5.0)
"""The first and the longest wait between two attempts to keep a dead letter."""
KEEP_LOG_INTERVAL = 10.0
"""Seconds between two warnings that dead letters wait for the store (the first at once)."""


class KafkaAdapter:
    """`client`: the store that keeps what nobody took (the target's `dead_letters`); None
    drops it, as Knative does."""

    def __init__(self, config: KafkaConfig, target: Target, sender: Sender,
                 client: aioredis.Redis | None = None) -> None:
        self.config, self.target, self.sender, self.redis = config, target, sender, client
        self.origin = records.Origin(config.namespace, config.name, config.key_type,
                                     dict(config.extensions))
        self.connected = False
        self.last_error: str | None = None
        self._offsets: offsets.Offsets[TopicPartition] = offsets.Offsets()
        self._lanes: dict[TopicPartition, _Lane] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()  # consumers leaving the group
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        self._last_commit = 0.0
        self._fresh: set[TopicPartition] = set()  # assigned, initial offset not checked yet
        self._with_offset: set[TopicPartition] = set()  # assigned, the group holds an offset
        self._labels = {"queue": f"KafkaSource/{config.namespace}/{config.name}"}
        self._keep_log = failures.Throttle(KEEP_LOG_INTERVAL)

    @property
    def in_flight(self) -> int:
        """Records taken from Kafka whose delivery is not final yet."""
        return self._offsets.in_flight()

    @property
    def assignment(self) -> frozenset[tuple[str, int]]:
        consumer = self._consumer
        if consumer is None or not self.connected:
            return frozenset()
        return frozenset((tp.topic, tp.partition) for tp in consumer.assignment())

    def report(self) -> dict[str, Any]:
        """What the source's conditions need (`sources.reporting`): `connected`, `error`, and
        `offsetsCommitted` once the group holds an offset for every partition this process
        was given."""
        assigned = self._consumer.assignment() if self._consumer is not None and self.connected else set()
        return {"connected": self.connected, "error": self.last_error,
                "offsetsCommitted": bool(assigned) and set(assigned) <= self._with_offset,
                "partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in assigned),
                "inFlight": self.in_flight}

    def update_target(self, target: Target) -> None:
        """A new sink or delivery policy, for every delivery that starts from now on."""
        self.target = target

    async def start(self) -> None:
        if self._task is None:
            name = f"kafka:{self.config.namespace}/{self.config.name}"
            self._task = asyncio.create_task(self._run(), name=name)

    async def stop(self) -> None:
        """Stop taking records, let running deliveries finish within `drain_timeout`,
        commit what finished and leave the group, each step bounded: at most about
        `drain_timeout + commit_timeout + close_timeout`, whether or not the cluster answers."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        if not self.connected:  # still reaching the cluster: nothing to drain
            task.cancel()
        config = self.config
        _, late = await asyncio.wait(
            {task}, timeout=config.drain_timeout + config.commit_timeout + config.close_timeout + 1.0)
        if late:  # every step is bounded, so this is a bug: cut it short rather than hang
            log.error("Kafka consumer did not stop in time; cancelled", extra=self._labels)
            task.cancel()
            _, late = await asyncio.wait({task}, timeout=config.close_timeout + 1.0)
            if late:
                log.error("Kafka consumer ignored its cancellation; abandoned", extra=self._labels)
                return
        await asyncio.gather(task, return_exceptions=True)

    # -- the consumer ------------------------------------------------------------------

    async def _run(self) -> None:
        delay = 0.5
        while not self._stopping.is_set():
            consumer = self._consumer = self._new_consumer()
            try:
                await consumer.start()
                self.connected, self.last_error, delay = True, None, 0.5
                log.info("consuming", extra={**self._labels, "topics": list(self.config.topics)})
                await self._consume(consumer)
            except Exception as exc:  # KafkaError, or a bug: log, reconnect, go on
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("Kafka consumer failed; retrying",
                            extra={**self._labels, "error": self.last_error, "retry_in": delay})
            finally:
                try:
                    await self._release(consumer, self._tracked(), self.config.drain_timeout)
                finally:  # even when cancelled while draining: no consumer left behind
                    self._fresh.clear()
                    self._with_offset.clear()
                    self.connected = False
                    await self._close(consumer)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, self.config.reconnect_max)

    async def _close(self, consumer: AIOKafkaConsumer) -> None:
        """Leave the group and close the connections, waiting `close_timeout` at most: a
        LeaveGroup to a coordinator that does not answer waits for aiokafka's request timeout
        (40 s), so past the bound the closing goes on in the background."""
        closing = asyncio.ensure_future(consumer.stop())
        self._closing.add(closing)
        closing.add_done_callback(self._closed)
        _, late = await asyncio.wait({closing}, timeout=self.config.close_timeout)
        if late:
            log.warning("Kafka consumer still leaving its group; going on without it",
                        extra={**self._labels, "timeout": self.config.close_timeout})

    def _closed(self, closing: asyncio.Task[None]) -> None:
        self._closing.discard(closing)
        if not closing.cancelled() and closing.exception() is not None:
            log.warning("Kafka consumer did not close cleanly",
                        extra={**self._labels, "error": repr(closing.exception())})

    async def _bounded(self, work: Awaitable[T], timeout: float, *, until_stop: bool = False) -> T:
        """`work` within `timeout` seconds, else TimeoutError; with `until_stop`, a stop
        asked meanwhile cuts it short too (TimeoutError as well): the consumer loop's calls
        must not hold a stop, whose own last commit carries the same positions."""
        job = asyncio.ensure_future(work)
        waits: set[asyncio.Future[Any]] = {job}
        if until_stop:
            waits.add(asyncio.ensure_future(self._stopping.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()  # a no-op on what finished
        if not job.done() or job.cancelled():
            await asyncio.gather(job, return_exceptions=True)
            if self._stopping.is_set() and until_stop:
                raise TimeoutError("stopped before the Kafka cluster answered")
            raise TimeoutError(f"no answer from the Kafka cluster within {timeout} s")
        return job.result()

    def _new_consumer(self) -> AIOKafkaConsumer:
        config = self.config
        consumer = AIOKafkaConsumer(
            bootstrap_servers=config.servers, group_id=config.group,
            client_id=f"ripple-{config.namespace}-{config.name}",
            enable_auto_commit=False, auto_offset_reset=config.initial_offset,
            session_timeout_ms=int(config.session_timeout * 1000),
            heartbeat_interval_ms=int(config.heartbeat_interval * 1000),
        )
        consumer.subscribe(list(config.topics), listener=_Rebalance(self, consumer))
        return consumer

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            if self._fresh:
                await self._commit_initial(consumer)
            self._pace(consumer)
            assigned, paused = consumer.assignment(), consumer.paused()
            room = max(1, self.config.max_in_flight - self._offsets.window())
            if assigned and paused >= assigned:
                # Everything held: wait for a delivery to finish, and still poll (getting
                # nothing) so that the group keeps this member.
                self._finished.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finished.wait(), 0.5)
                batch = await consumer.getmany(timeout_ms=0, max_records=1)
            else:
                batch = await consumer.getmany(timeout_ms=100 if paused else 500, max_records=room)
            self._take(consumer, batch)
            await self._commit(consumer)

    def _pace(self, consumer: AIOKafkaConsumer) -> None:
        """Pause what must not fetch: everything when the bound is reached or the sink is
        unknown, else each partition past its share of the bound."""
        assigned = consumer.assignment()
        if not assigned:
            return
        bound = self.config.max_in_flight
        if self.target.subscriber_uri is None or self._offsets.window() >= bound:
            held = set(assigned)
        else:
            share = max(1, bound // len(assigned))
            held = {tp for tp in assigned if self._offsets.window(tp) >= share}
        paused = consumer.paused()
        if held - paused:
            consumer.pause(*(held - paused))
        if paused - held:
            consumer.resume(*(paused - held))

    def _take(self, consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[Any]]) -> None:
        assigned = consumer.assignment()
        counter = metrics.source_events.labels(
            kn_namespace_name=self.config.namespace, kn_source_kind="KafkaSource",
            kn_source_name=self.config.name)
        for tp, taken in batch.items():
            if tp not in assigned:  # revoked while the batch was on its way
                continue
            lane = self._lanes.setdefault(tp, _Lane())
            for record in taken:
                self._offsets.started(tp, record.offset)
                counter.inc()
                if self.config.ordered:
                    lane.waiting.append(record)
                else:
                    self._spawn(tp, lane, self._deliver(tp, lane, record))
            if self.config.ordered and lane.waiting and (lane.runner is None or lane.runner.done()):
                lane.runner = self._spawn(tp, lane, self._drain_lane(tp, lane))

    def _spawn(self, tp: TopicPartition, lane: _Lane, work: Any) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=f"kafka:{tp.topic}/{tp.partition}")
        lane.tasks.add(task)
        task.add_done_callback(lane.tasks.discard)
        return task

    async def _drain_lane(self, tp: TopicPartition, lane: _Lane) -> None:
        while lane.waiting and not lane.closed:
            await self._deliver(tp, lane, lane.waiting.popleft())

    async def _deliver(self, tp: TopicPartition, lane: _Lane, record: Any) -> None:
        while self.target.subscriber_uri is None:  # hold until the sink resolves
            if lane.closed:
                return
            await asyncio.sleep(0.2)
        if lane.closed:
            return
        target = self.target
        keep = None if self.redis is None else functools.partial(self._keep, lane, target)
        try:
            event = records.to_event(record, self.origin)
            await inplace.deliver(self.sender, target, event, keep=keep)
        except _Released:  # the next owner of the partition delivers it again
            return
        except Exception:  # a bug: the record counts as dropped, the partition goes on
            log.exception("delivery of a Kafka record failed unexpectedly; dropped",
                          extra={**self._labels, "partition": tp.partition, "offset": record.offset})
        if self._lanes.get(tp) is lane:
            self._offsets.finished(tp, record.offset)
            self._finished.set()

    async def _keep(self, lane: _Lane, target: Target, entry: dict[bytes, bytes],
                    last_error: bytes) -> None:
        """Into the source's dead-letter store, retried while the store is unavailable
        and the partition is still this consumer's; until then the offset waits."""
        assert self.redis is not None and target.dead_letters is not None
        delay = KEEP_BACKOFF[0]
        while True:
            try:
                await deadletters.keep(self.redis, target.dead_letters, entry,
                                       last_error=last_error, now=time.time())
                return
            except errors.StoreUnavailable as exc:
                if lane.closed:
                    raise _Released() from exc
                held = self._keep_log.admit(time.monotonic())
                if held is not None:
                    log.warning("dead letter not kept yet: the store is unavailable; its offset waits",
                                extra={**self._labels, "error": str(exc), "suppressed": held})
            await asyncio.sleep(delay)
            if lane.closed:
                raise _Released()
            delay = min(delay * 2, KEEP_BACKOFF[1])

    # -- commits -----------------------------------------------------------------------

    async def _commit(self, consumer: AIOKafkaConsumer, partitions: Any = None,
                      force: bool = False) -> None:
        """What finished, every `commit_interval` (or now, `force`: on a release). The
        consumer loop's commits give way to a stop: the release that follows commits."""
        if not force and self._stopping.is_set():
            return
        now = time.monotonic()
        if not force and now - self._last_commit < self.config.commit_interval:
            return
        self._last_commit = now
        positions = self._offsets.committable(partitions)
        if not positions:
            return
        try:
            await self._bounded(consumer.commit(positions), self.config.commit_timeout,
                                until_stop=not force)
        except (KafkaError, TimeoutError) as exc:  # the next commit carries these positions, or later ones
            if force or not self._stopping.is_set():  # else cut short by a stop, whose release commits
                log.warning("offset commit failed", extra={**self._labels, "error": repr(exc)})
            return
        self._offsets.committed(positions)
        self._with_offset.update(positions)

    async def _commit_initial(self, consumer: AIOKafkaConsumer) -> None:
        """Pin where a group without offsets starts, as Knative commits initial offsets:
        `latest` then means the log end when the partition was first assigned, not
        whenever the first record happens to be delivered."""
        fresh, self._fresh = self._fresh, set()
        positions: dict[TopicPartition, int] = {}
        for tp in fresh:
            if tp not in consumer.assignment() or tp in self._offsets.partitions():
                continue  # revoked meanwhile, or records taken: their commits will do
            try:
                if await self._bounded(consumer.committed(tp), self.config.commit_timeout,
                                       until_stop=True) is not None:
                    self._with_offset.add(tp)
                    continue
                positions[tp] = await self._bounded(consumer.position(tp), 10.0, until_stop=True)
            except (TimeoutError, KafkaError) as exc:
                log.warning("initial offset not known yet", extra={**self._labels, "error": repr(exc)})
                self._fresh.add(tp)
        if positions:
            try:
                await self._bounded(consumer.commit(positions), self.config.commit_timeout,
                                    until_stop=True)
            except (KafkaError, TimeoutError) as exc:
                log.warning("initial offset commit failed", extra={**self._labels, "error": repr(exc)})
                self._fresh.update(positions)
                return
            self._with_offset.update(positions)

    async def _release(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition],
                       timeout: float) -> None:
        """Give partitions up: no new records start, running deliveries get `timeout`,
        what finished is committed, the rest is left for the next owner."""
        lanes = [self._lanes[tp] for tp in partitions if tp in self._lanes]
        for lane in lanes:
            lane.closed = True
        running = [task for lane in lanes for task in lane.tasks]
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if partitions:
            await self._commit(consumer, partitions, force=True)
        self._offsets.forget(partitions)
        self._fresh.difference_update(partitions)
        self._with_offset.difference_update(partitions)
        for tp in partitions:
            self._lanes.pop(tp, None)

    def _tracked(self) -> list[TopicPartition]:
        return list(set(self._lanes) | set(self._offsets.partitions()))


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, adapter: KafkaAdapter, consumer: AIOKafkaConsumer) -> None:
        self.adapter, self.consumer = adapter, consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.adapter._release(self.consumer, list(revoked), self.adapter.config.revoke_timeout)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.adapter._fresh.update(assigned)
        self.adapter._pace(self.consumer)  # a full adapter must not fetch for new partitions
        log.info("partitions assigned", extra={**self.adapter._labels,
                                               "partitions": sorted(f"{tp.topic}/{tp.partition}" for tp in assigned)})
