"""The delivery engine: one `Dispatcher` per Trigger or Subscription queue.

`Deliveries` (`channels.deliveries`) is what the broker and channel layers drive: they hand
it the full set of `Target`s whenever resources change, and it starts, updates and stops
dispatchers. Each dispatcher reads its own stream through the shared consumer group, keeps
at most its `channels.concurrency` limit of deliveries running (adaptive, up to
`max_in_flight`), and carries out the `channels.outcomes` decision of every attempt through
`channels.queues`. A slow subscriber fills only its own slots, and a subscriber that times
out or refuses connections shrinks its queue's slots to a couple, so it never delays another
queue; its backlog stays in Redis, not in memory. A busy queue's deliveries run on workers
that carry on from one entry to the next (a Task costs about 7 µs, a hand-over through a
future about 1 µs: P2 measured 3-5% less CPU per event); they end when the queue parks,
stops or restarts.

After a restart, and after any store error, a dispatcher first re-reads the entries its
consumer name still holds (`XREADGROUP ... 0`, paged, skipping those in flight): a read
whose reply was lost, or an ack that never arrived, leaves entries pending under this
consumer, and they would otherwise wait for XAUTOCLAIM. Entries held by a consumer that
died for good are taken over with XAUTOCLAIM once they have been idle longer than any
attempt can last.

A queue reads for itself, blocking up to `IDLE_BLOCK_MS`, while it has work. Once such a
read comes back empty with nothing in flight, the dispatcher parks the queue in the
process's `channels.idling.IdleReader` (one blocking XREADGROUP over every idle queue of a
hash slot, which also runs their reclaim checks) and resumes with the entries that wake
it. A dispatcher that just started parks at once, and the idle reader reads its pending
entries for it, with those of every queue that started with it, in one XREADGROUP. Ordered
queues never park.

An entry is in one of three phases (field `p`): bound for the subscriber (no `p`), a
Subscription's reply bound for its `replyUri` (`rp`), or bound for the dead-letter sink
(`dl`). When a subscriber answers with a reply, the reply replaces the original in the same
transaction as the original's ack (`Queues.replace`), so the reply is retried on its own,
with the Subscription's policy and its own retry count, and the subscriber is not called
again; the reply entry keeps the original for the dead-letter sink (Knative sends the
original there, naming the reply's URL and status). An ordered queue delivers the reply in
place instead, so replies keep the order of their originals. A Trigger's reply goes back
into its Broker through the target's `reply` handler.

An entry that fails for good (no dead-letter sink, a sink that failed too, a reply out of
hops) is never dropped: it moves into the target's dead-letter store (`channels.
deadletters`) in the transaction that acknowledges it. Failed attempts are logged, once per
queue and window, by `channels.failures`, which also says when to write the last error.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Awaitable, Callable, Mapping

from ripple import cloudevents as ce
from ripple import errors, leases, metrics
from ripple.cloudevents import records
from ripple.settings import DeliverySettings

from channels import (concurrency, deadletters, failures, identities, idling, outcomes, policies,
                      tracing)
from channels.queues import Entry, Failure, Queues
from channels.sending import Response, Sender

log = logging.getLogger(__name__)

IDLE_BLOCK_MS = 2000
"""How long a queue's own read blocks in Redis. New entries wake it at once; a read that
comes back empty with nothing in flight hands the queue to the idle reader
(`channels.idling`). It must stay under the client's socket timeout (redis-py: 5 s)."""

MAX_OWED_ACKS = 10_000
"""Delivered entries whose ack failed, remembered per queue (`Dispatcher._owed_acks`)."""

ReplyHandler = Callable[[ce.CloudEvent, ce.CloudEvent, Mapping[str, str]], Awaitable[None]]
"""Takes (reply, original, pass-through headers of the subscriber's response); raises
`ReplyRefused` when the destination refuses the reply for good, anything else when the
reply could not be stored (the original delivery then fails and is retried)."""

_PHASES: dict[bytes | None, outcomes.Phase] = {
    None: "subscriber", records.REPLY: "reply", records.DEAD_LETTER: "dead-letter"}
_FAILED = frozenset({"retry", "dead-letter", "drop"})


class ReplyRefused(Exception):
    """The reply's destination answered it with a final failure (the broker ingress's 400
    for a reply with no hops left): the original goes on as a failed reply delivery."""

    def __init__(self, destination: str, status: int, body: bytes = b"") -> None:
        super().__init__(f"reply refused by {destination}: HTTP {status}")
        self.destination, self.status, self.body = destination, status, body


@dataclass(frozen=True)
class Secured:
    """How to reach one destination of a target safely (issue #15)."""

    token: str | None = None
    """Sent as `Authorization: Bearer`: the destination is a Broker or Channel whose
    ingress requires it (`channels.authorizing`)."""

    ca_certs: str | None = None
    """PEM CA bundle an `https://` destination's certificate must chain to (Knative's
    `CACerts`); None: the system's trust store."""


@dataclass(frozen=True)
class Target:
    """Everything one queue needs; rebuilt by the owner whenever its resources change."""

    key: identities.TargetKey
    stream: str
    schedule: str
    namespace: str
    subscriber_uri: str | None
    policy: policies.DeliveryPolicy
    reply: ReplyHandler | None = None
    reply_uri: str | None = None
    """A Subscription's `replyUri`: its replies become queue entries delivered there."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """The metrics' labels of this kind of target: `metrics.trigger_labels`,
    `subscription_labels` or `source_labels`."""
    strip_attributes: tuple[str, ...] = ()
    ordered: bool = False
    """`ripple.dev/delivery-order: ordered`: one event at a time, in log order, by one
    process (a lease); a retry holds back the events behind it."""
    dead_letters: deadletters.DeadLetters | None = None
    """Ripple's dead-letter store of this target: where an event that failed for good goes
    (None: it is dropped and counted, as before the store existed)."""
    secured: tuple[tuple[str, Secured], ...] = ()
    """(phase, Secured) for the destinations that need a token or a CA bundle; a target
    without either costs its sends nothing."""

    @cached_property
    def secured_by_phase(self) -> dict[str, Secured]:
        return dict(self.secured)

    @cached_property
    def label_values(self) -> tuple[str, ...]:
        """`labels` as `metrics.TARGET_LABELS` values, computed once per target."""
        return metrics.target_values(self.labels)


class Dispatcher:
    def __init__(
        self,
        queues: Queues,
        sender: Sender,
        target: Target,
        *,
        consumer: str,
        settings: DeliverySettings,
        clock: Callable[[], float] = time.time,
        tracer: tracing.Tracer = tracing.OFF,
        idle: idling.IdleReader | None = None,
    ) -> None:
        self.queues, self.sender, self.target, self.tracer = queues, sender, target, tracer
        self.idle = idle
        """Where the queue waits once idle (None: it keeps reading for itself)."""
        self._parked: idling.Parked | None = None
        self._busy = False
        """Whether it read any entry since it started (else it parks without waiting)."""
        self.consumer, self.settings, self.clock = consumer, settings, clock
        self._in_flight: set[bytes] = set()
        """The entries handed to a worker and not finished yet."""
        self._slot_freed = asyncio.Event()
        self._workers: set[asyncio.Task[None]] = set()
        self._waiting: collections.deque[asyncio.Future[Entry | None]] = collections.deque()
        """Workers between two deliveries, each waiting to be handed the next (`_start`)."""
        self._limit = concurrency.Limit(settings.max_in_flight)
        self._own_from: bytes | None = b"0"
        """Where the re-read of this consumer's pending entries stands; None: read new ones."""
        self._rereads = 0
        """Bumped by every `_reread`, so a page read under way cannot overwrite one."""
        self._owed_acks: dict[bytes, None] = {}
        """Entries delivered whose ack the store did not take (it died or was cut off in
        between): when the re-read finds them pending they are acked, not delivered again.
        In memory only, so a process killed there still redelivers them (at least once)."""
        self.stopped = False
        self._failure_log = failures.FailureLog(target.key, settings.failure_log_interval)
        self._last_error = failures.Throttle(failures.LAST_ERROR_INTERVAL)

    @property
    def _reclaim_idle(self) -> float:
        # An entry is another worker's to take only once no attempt can still be running.
        return max(self.settings.reclaim_idle,
                   self.target.policy.timeout + self.settings.reclaim_margin)

    @property
    def _capacity(self) -> int:
        return 1 if self.target.ordered else self._limit.limit

    async def run(self) -> None:
        stream = self.target.stream
        keeper = None
        if self.target.ordered:  # one reader, or the order is lost across workers
            lease = leases.Lease(self.queues.redis, f"ordered:{stream}", self.consumer)
            await lease.acquire()
            keeper = asyncio.create_task(lease.keep(), name=f"lease:{stream}")
        try:
            await self._run(stream, keeper)
        finally:
            self._release_workers()
            if keeper is not None:
                keeper.cancel()

    async def _run(self, stream: str, keeper: asyncio.Task[None] | None) -> None:
        await self.queues.ensure_group(stream)
        self._reread()  # what this consumer held before a restart
        next_reclaim = time.monotonic() + self._reclaim_idle / 2
        # A queue that just started parks at once: the idle reader reads its pending
        # entries with those of every queue starting with it, in one command, where a read
        # of its own took a connection of its own (a thousand Triggers starting together
        # opened hundreds).
        park_first = True
        # `stopped` as well as cancellation: redis-py can turn a cancel that lands inside a
        # blocking read into a ConnectionError, which this loop would otherwise retry.
        while not self.stopped:
            if keeper is not None and keeper.done():
                raise RuntimeError(f"lost the ordered-delivery lease of {stream}")
            if self.target.subscriber_uri is None:
                await asyncio.sleep(0.5)  # hold the queue until the subscriber resolves
                continue
            free = self._capacity - len(self._in_flight)
            if free <= 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            try:
                parking_first, park_first = park_first and self._may_park(pending=True), False
                if parking_first:
                    entries, next_reclaim = await self._park(stream, free, next_reclaim,
                                                             pending=True)
                else:
                    # Park after a blocking read of new entries found none, or at once when
                    # the queue has had nothing since it started (no connection held per queue).
                    waited = self._own_from is None or not self._busy
                    entries = await self._read(stream, free)
                    self._busy = self._busy or bool(entries)
                    if not entries and waited and self._may_park():
                        # Idle: the process's one idle reader watches it until it has entries.
                        entries, next_reclaim = await self._park(stream, free, next_reclaim)
                if entries and self.target.subscriber_uri is None:
                    self._reread()  # it lost its subscriber meanwhile: they wait, pending
                    continue
                self._start(entries)
                if time.monotonic() >= next_reclaim:
                    next_reclaim = time.monotonic() + self._reclaim_idle / 2
                    self._start(await self.queues.reclaim(
                        stream, self.consumer, min_idle_ms=int(self._reclaim_idle * 1000), count=free))
            except errors.StoreUnavailable as exc:
                if self.stopped:
                    return
                self._reread()  # a lost reply may have left entries pending under our name
                log.warning("queue read failed; retrying", extra={"queue": self.target.key, "error": repr(exc)})
                await asyncio.sleep(1.0)

    def _may_park(self, *, pending: bool = False) -> bool:
        """Whether the queue may park: idle, unordered, and its own pending entries read
        (`pending`: or still all to read, from the first, by the idle reader)."""
        read = self._own_from == b"0" if pending else self._own_from is None
        return (self.idle is not None and not self.target.ordered and not self._in_flight
                and read and not self.stopped)

    async def _park(self, stream: str, count: int, next_reclaim: float, *,
                    pending: bool = False) -> tuple[list[Entry], float]:
        """Hand the queue to the idle reader until it has entries; returns them (pending
        under this consumer) and when the next reclaim is due. With `pending`, the idle
        reader reads this consumer's pending entries first."""
        assert self.idle is not None
        self._busy = False
        self._release_workers()  # nothing in flight: they would wait for as long as it is idle
        parked = self._parked = idling.Parked(stream, count, int(self._reclaim_idle * 1000),
                                              next_reclaim, pending=pending)
        rereads = self._rereads
        try:
            wake = await self.idle.park(parked)
        finally:
            self._parked = None
        if wake.reread:
            self._reread()
        elif pending and self._rereads == rereads:
            self._own_from = None  # the idle reader read them: there were none
        return wake.entries, parked.next_reclaim

    async def _read(self, stream: str, count: int) -> list[Entry]:
        if self._own_from is None:
            return await self.queues.read(stream, self.consumer, count=count, block_ms=IDLE_BLOCK_MS)
        rereads = self._rereads
        entries = await self.queues.read(stream, self.consumer, count=count, block_ms=None,
                                          after=self._own_from)
        if self._rereads == rereads:  # else a delivery asked to start over meanwhile
            self._own_from = entries[-1][0] if entries else None
        return entries

    def _reread(self) -> None:
        """Read this consumer's pending entries again from the first, before any new one."""
        self._own_from = b"0"
        self._rereads += 1

    def reread(self) -> None:
        """`_reread`, for others: a parked queue is woken to do it."""
        self._reread()
        if self._parked is not None and not self._parked.woken.done():
            self._parked.woken.set_result(idling.Wake(reread=True))

    def _start(self, entries: list[Entry]) -> None:
        """Hand each entry to a waiting worker, or to a new one: a busy queue's workers
        carry on from one delivery to the next, so a delivery costs a future, not a Task."""
        for entry in entries:
            entry_id = entry[0]
            if entry_id in self._in_flight:
                continue
            self._in_flight.add(entry_id)
            if not self._hand(entry):
                worker = asyncio.create_task(self._work(entry))
                self._workers.add(worker)
                worker.add_done_callback(self._workers.discard)

    def _hand(self, entry: Entry) -> bool:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():  # else its worker was cancelled while it waited
                waiter.set_result(entry)
                return True
        return False

    async def _work(self, entry: Entry) -> None:
        """Deliver `entry`, then each entry handed over next, until the queue stops,
        parks or restarts (`_release_workers`)."""
        loop = asyncio.get_running_loop()
        while True:
            entry_id, fields = entry
            try:
                await self._deliver(entry_id, fields)
            finally:
                self._in_flight.discard(entry_id)
                self._slot_freed.set()
            if self.stopped:
                return
            waiter: asyncio.Future[Entry | None] = loop.create_future()
            self._waiting.append(waiter)
            handed = await waiter
            if handed is None:
                return
            entry = handed

    def _release_workers(self) -> None:
        """End the workers that wait for an entry."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def drain(self, timeout: float) -> None:
        """Let in-flight deliveries finish within `timeout`, then cancel the rest: their
        entries stay pending in Redis and are delivered again after a restart."""
        self._release_workers()
        tasks = list(self._workers)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def _deliver(self, entry_id: bytes, fields: records.Fields | None) -> None:
        target = self.target
        try:
            if not fields or entry_id in self._owed_acks:  # deleted while pending, or delivered
                await self.queues.ack(target.stream, entry_id)
                self._owed_acks.pop(entry_id, None)
                return
            await self._attempt(target, entry_id, fields)
        except errors.StoreUnavailable as exc:
            # The entry stays pending: re-read it once the store answers again.
            self._reread()
            log.warning("delivery outcome not stored; will be redelivered",
                        extra={"queue": target.key, "entry": entry_id.decode(), "error": str(exc)})
        except Exception:
            log.exception("delivery failed unexpectedly; will be redelivered",
                          extra={"queue": target.key, "entry": entry_id.decode()})

    async def _attempt(self, target: Target, entry_id: bytes, fields: records.Fields) -> None:
        phase = _PHASES.get(fields.get(records.PHASE), "subscriber")
        event = ce.from_record(fields)
        original = records.original_of(fields) if phase == "reply" else event
        headers = records.headers_of(fields)
        retries_done = int(fields.get(records.RETRIES, b"0"))
        while True:
            url = _destination(target, phase, fields)
            if not url:
                # the dead-letter sink was removed while the event was bound for it
                gone = outcomes.Outcome("drop", reason="no dead-letter sink left")
                await self._carry_out(target, entry_id, original, target.policy.dead_letter_uri or "",
                                      gone, Response(status=None), fields, headers,
                                      self._failure(target, gone, "", final=True), retries_done)
                return
            started, clock = self.clock(), time.perf_counter()
            response = await self._send(target, url, event, phase, headers)
            latency = time.perf_counter() - clock
            outcome = outcomes.decide(phase, retries_done, target.policy, response, now=self.clock())
            reply = outcome.reply
            if reply is not None:
                _continue_trace(reply, event)
            if outcome.action == "reply" and target.reply is not None:
                outcome, url, response = await self._publish_reply(target, outcome, event, response,
                                                                   url, retries_done)
            elif outcome.action == "reply" and not target.reply_uri:
                outcome = outcomes.Outcome("ack", code=outcome.code)  # no reply destination: dropped, as in Knative
            if self.tracer.enabled:
                self.tracer.attempt(target.key, event, phase, url,
                                    retries_done, response.status, response.error,
                                    "reply" if reply is not None and outcome.action == "ack" else outcome.action,
                                    outcome.delay, reply, started, latency)
            failure = None
            if outcome.action in _FAILED:  # only failures pay for this
                failure = self._attempt_failed(target, event, url, outcome, retries_done)
            if not target.ordered:
                break
            if outcome.action == "retry":
                # Ordered: retry in place, holding the queue. The entry stays pending, so a
                # crash redelivers it first (with a fresh retry budget).
                await asyncio.sleep(outcome.delay)
                retries_done += 1
            elif outcome.action == "reply" and outcome.reply is not None:
                phase, event, headers, retries_done = (
                    "reply", outcome.reply, records.pass_through(response.headers), 0)
            else:
                break
        await self._carry_out(target, entry_id, original, url, outcome, response, fields, headers,
                              failure, retries_done)

    def _owe_ack(self, entry_id: bytes) -> None:
        if len(self._owed_acks) >= MAX_OWED_ACKS:  # an outage longer than the memory kept
            del self._owed_acks[next(iter(self._owed_acks))]
        self._owed_acks[entry_id] = None

    def _attempt_failed(self, target: Target, event: ce.CloudEvent, url: str,
                        outcome: outcomes.Outcome, retries_done: int) -> Failure | None:
        """Log the failed attempt (throttled per queue) and say whether its last error is
        to be written with its outcome."""
        now = self.clock()
        self._failure_log.attempt_failed(
            event_id=event.id, url=url, outcome=outcome, attempt=retries_done + 1,
            attempts=target.policy.attempts, now=now, monotonic=time.monotonic(),
            store=target.dead_letters is not None)
        return self._failure(target, outcome, url, final=outcome.action != "retry")

    def _failure(self, target: Target, outcome: outcomes.Outcome, url: str, *,
                 final: bool) -> Failure | None:
        store = target.dead_letters
        if store is None or (not final and self._last_error.admit(time.monotonic()) is None):
            return None
        return (store.failures, store.field, deadletters.last_error(
            code=outcome.code, destination=url, reason=outcome.reason, now=self.clock()))

    async def _send(self, target: Target, url: str, event: ce.CloudEvent, phase: str,
                    headers: Mapping[str, str]) -> Response:
        response = await send(self.sender, target, url, event, phase, headers)
        self._limit.on_answer(response.status, len(self._in_flight))
        return response

    async def _publish_reply(
        self, target: Target, outcome: outcomes.Outcome, event: ce.CloudEvent, response: Response,
        url: str, retries_done: int,
    ) -> tuple[outcomes.Outcome, str, Response]:
        """A Trigger's reply, back into its Broker. A refusal fails the reply delivery (the
        original is dead-lettered naming the Broker); a reply not stored fails the delivery."""
        assert target.reply is not None and outcome.reply is not None
        try:
            await target.reply(outcome.reply, event, records.pass_through(response.headers))
            return outcomes.Outcome("ack", code=outcome.code), url, response
        except ReplyRefused as refused:
            failed = Response(status=refused.status, body=refused.body, error=str(refused))
            # the reply's own retry budget: the same policy, from its first attempt
            return (outcomes.decide("reply", target.policy.retry, target.policy, failed, now=self.clock()),
                    refused.destination, failed)
        except Exception as exc:  # the reply was not stored: the original delivery failed
            failed = Response(status=None, error=f"reply not accepted: {exc}")
            return outcomes.decide("subscriber", retries_done, target.policy, failed, now=self.clock()), url, failed

    async def _carry_out(
        self,
        target: Target,
        entry_id: bytes,
        event: ce.CloudEvent,
        url: str,
        outcome: outcomes.Outcome,
        response: Response,
        fields: records.Fields,
        headers: Mapping[str, str],
        failure: Failure | None = None,
        retries_done: int = 0,
    ) -> None:
        if outcome.action == "ack":
            try:
                await self.queues.ack(target.stream, entry_id)
            except errors.StoreUnavailable:
                self._owe_ack(entry_id)
                raise
        elif outcome.action == "reply" and outcome.reply is not None:
            # The reply takes the original's place, in the transaction that acks it.
            record = records.with_original(
                ce.to_record(outcome.reply, records.pass_through(response.headers)), fields)
            record[records.PHASE] = records.REPLY
            await self.queues.replace(target.stream, entry_id, record)
        elif outcome.action == "retry":
            await self.queues.schedule_retry(
                target.stream, target.schedule, entry_id, self.clock() + outcome.delay, failure)
        elif outcome.action == "dead-letter":
            # `event` is the original, also when its reply was what failed (as upstream)
            dead = outcomes.with_error_attributes(event, url, outcome.code, outcomes.error_body(response))
            record = ce.to_record(dead, headers)
            record[records.PHASE] = records.DEAD_LETTER
            if target.dead_letters is not None:  # the original, should the sink fail too
                records.with_original(record, records.original_fields(fields))
            await self.queues.replace(target.stream, entry_id, record)
            metrics.dead_lettered_events.labels(*target.label_values).inc()
            log.info("event sent to the dead-letter sink",
                     extra={"queue": target.key, "id": event.id, "reason": outcome.reason})
        elif target.dead_letters is not None and failure is not None:
            await self._bury(target, entry_id, url, outcome, response, fields, failure, retries_done)
        else:
            await self.queues.ack(target.stream, entry_id)
            metrics.dropped_events.labels(*target.label_values).inc()
            log.warning("event dropped after its last attempt",
                        extra={"queue": target.key, "id": event.id, "reason": outcome.reason,
                               "destination": outcomes.sanitize_destination(url)})

    async def _bury(self, target: Target, entry_id: bytes, url: str, outcome: outcomes.Outcome,
                    response: Response, fields: records.Fields, failure: Failure,
                    retries_done: int) -> None:
        """Failed for good: into the target's dead-letter store, never dropped."""
        store = target.dead_letters
        assert store is not None
        reason = outcome.reason
        if fields.get(records.PHASE) == records.DEAD_LETTER:
            # The sink failed too: keep what it would have been told of the first failure.
            told = records.RecordAttributes(fields)
            errors = {k: str(told[k]) for k in ("knativeerrordest", "knativeerrorcode",
                                                 "knativeerrordata") if k in told}
            if url:  # else the sink was removed while the event was bound for it
                reason = f"the dead-letter sink {outcomes.sanitize_destination(url)} failed too: {reason}"
        else:
            errors = outcomes.error_attributes(url, outcome.code, outcomes.error_body(response))
        record = deadletters.entry(records.original_fields(fields), errors=errors, reason=reason,
                                   attempts=retries_done + 1, target=target.key)
        await self.queues.bury(target.stream, entry_id, store, record, last_error=failure[2], now=self.clock())
        metrics.dropped_events.labels(*target.label_values).inc()


def _continue_trace(reply: ce.CloudEvent, original: ce.CloudEvent) -> None:
    if "traceparent" not in reply.attributes and "traceparent" in original.attributes:
        reply.attributes["traceparent"] = original.attributes["traceparent"]


def _destination(target: Target, phase: outcomes.Phase, fields: records.Fields) -> str | None:
    if phase == "subscriber":
        redriven_to = fields.get(records.DESTINATION)  # `ripple dlq redrive --to`
        return redriven_to.decode() if redriven_to is not None else target.subscriber_uri
    return target.reply_uri if phase == "reply" else target.policy.dead_letter_uri


async def send(sender: Sender, target: Target, url: str, event: ce.CloudEvent, phase: str,
               pass_through: Mapping[str, str] | None = None) -> Response:
    """One attempt: POST `event` to `url` with the headers Knative's dispatcher sends: the
    pass-through headers stored with the event, `Kn-Namespace`, and `Prefer: reply` to a
    subscriber only. Records the metrics. Shared by `Dispatcher` and `channels.inplace`,
    which delivers without a queue."""
    outgoing = event
    if target.strip_attributes and any(a in event.attributes for a in target.strip_attributes):
        attrs = {k: v for k, v in event.attributes.items() if k not in target.strip_attributes}
        outgoing = ce.CloudEvent(attrs, event.data)
    headers = dict(pass_through) if pass_through else {}
    headers["Kn-Namespace"] = target.namespace
    if phase == "subscriber":
        headers["Prefer"] = "reply"
    traceparent = event.attributes.get("traceparent")
    if isinstance(traceparent, str):
        headers["traceparent"] = traceparent
    extra: dict[str, Any] = {}
    secured = target.secured_by_phase.get(phase) if target.secured else None
    if secured is not None:
        if secured.token:
            headers["Authorization"] = f"Bearer {secured.token}"
        if secured.ca_certs:
            extra["ca_certs"] = secured.ca_certs
    started = time.perf_counter()
    response = await sender.send(
        url, outgoing, timeout=target.policy.timeout, headers=headers,
        structured=target.policy.format == "json", **extra,
    )
    count, duration = metrics.dispatch_children.child(
        *target.label_values, str(event.type), str(response.status or ""))
    count.inc()
    duration.observe(time.perf_counter() - started)
    return response
