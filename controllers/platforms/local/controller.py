"""The local platform's driver of the reconcilers: informer events in, one work queue, a
few workers, one applier.

- Every change the informer applies queues the changed object (when its kind has a
  reconciler), the objects whose last reconcile read it (`tracking.Tracker`), and its
  controlling owner. A relist queues everything, and so does the periodic resync
  (`resync` seconds), which heals whatever an edge missed.
- `workers` coroutines take keys from the queue (`queueing.WorkQueue`: a key is queued
  once and never processed twice at once), run the pure reconciler over the informer's
  cache and a `DataPlane` view, and hand the `Result` to the `Applier`. A reconciler that
  raises, or a store error, requeues the key with per-key backoff; a Conflict waits for
  the watch event of the newer object.
- Deleted owners' children are collected here (Kubernetes' garbage collector does it on
  the kopf platform), and so are orphans found at resync.
- `data_plane` is polled every `poll` seconds (`ripple.dataplane`, plus the Kafka
  adapters' reports), so objects waiting for the data plane (`requeue_after`) see it.

`run` is started by `platform` under the leader lease, and cancelled when the lease is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from controllers import applying, effects, queueing, tracking, webhooks
from controllers.autoscaling import driving
from controllers.reconcilers import RECONCILERS
from controllers.reconciling import Context, DataPlane, Object, ObjectRef
from ripple import dataplane, errors
from ripple.api import registry
from ripple.informers import RELISTED, Informer
from sources import reporting

log = logging.getLogger(__name__)

RESYNC = 30.0
"""Seconds between full resyncs: a level-triggered controller heals what an edge missed."""
POLL = 0.02
"""Seconds between reads of the data plane's progress (one HGETALL) while it is behind the
informer: what waits for it (`requeue_after`) sees it within this."""
IDLE_POLL = 1.0
"""Seconds between those reads once the data plane has applied everything the informer has
seen and no adapter reports: a change wakes the poller at once. (At `POLL` throughout, an
idle `ripple up` read it 50 times a second: about 2% of its CPU under load.)"""
REPORTS_EVERY = 0.25
FIRST_RECONCILE_AFTER = 0.1
"""Seconds between an object's creation and its first reconcile (see `_on_change`)."""
WAITS_FOR_DATA_PLANE = frozenset({"Broker", "Trigger", "Channel", "InMemoryChannel"})
"""Kinds whose Ready waits for the data plane (`reconcilers.waiting`)."""
REPORTING_KINDS = ("KafkaSource", "Revision")
"""Kinds whose adapters report what only the data plane sees (`sources.reporting`)."""

DataPlaneSource = Callable[[Iterable[tuple[str, str, str]]], Awaitable[DataPlane]]


class InformerObserved:
    """`Observed` over the informer's cache; a ref may name any served version of a kind."""

    def __init__(self, informer: Informer) -> None:
        self.informer = informer

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Object | None:
        obj = self.informer.get(kind, namespace, name)
        if obj is None:
            return None
        try:
            served = registry.lookup(api_version, kind).api_versions
        except errors.Invalid:
            return None
        return obj if obj.get("apiVersion") in served else None

    def list(self, kind: str, namespace: str) -> list[Object]:
        return self.informer.list(kind, namespace)


class Owners:
    """The observed objects by the uid of their controlling owner."""

    def __init__(self) -> None:
        self._children: dict[str, dict[ObjectRef, Object]] = {}
        self._owner_of: dict[ObjectRef, str] = {}

    def note(self, change: str, obj: Object) -> None:
        ref = ObjectRef.of(obj)
        old = self._owner_of.pop(ref, None)
        if old is not None:
            self._children.get(old, {}).pop(ref, None)
        controller = applying.controller_of(obj)
        if change != "DELETED" and controller is not None and controller.get("uid"):
            uid = str(controller["uid"])
            self._owner_of[ref] = uid
            self._children.setdefault(uid, {})[ref] = obj

    def reset(self, objects: Iterable[Object]) -> None:
        self._children.clear()
        self._owner_of.clear()
        for obj in objects:
            self.note("ADDED", obj)

    def owned(self, uid: str) -> list[Object]:
        return list(self._children.get(uid, {}).values())

    def owner_uids(self) -> list[str]:
        return [uid for uid, children in self._children.items() if children]


class LocalController:
    def __init__(self, store: Any, informer: Informer, *, base_url: str,
                 data_plane: DataPlaneSource | None = None, reports: Any = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 workers: int = 4, resync: float = RESYNC, poll: float = POLL) -> None:
        self.store, self.informer, self.base_url, self.clock = store, informer, base_url, clock
        self.workers, self.resync, self.poll = workers, resync, poll
        if data_plane is None:
            data_plane = redis_data_plane(reports) if reports is not None else _everywhere
        self.read_data_plane = data_plane
        self.view = DataPlane()
        self.tracker = tracking.Tracker()
        self.owners = Owners()
        self.effects = effects.EffectRunner(webhooks.HANDLERS, self._requeue)
        self.applier = applying.Applier(store, self._lookup, self.owners.owned, self.effects)
        self.autoscaler = driving.Autoscaler(reports, informer) if reports is not None else None
        """Knative's KPA over the routers' stats, run with the reconcilers (under the lease)."""
        self.queue: queueing.WorkQueue[ObjectRef] | None = None
        self._changed = asyncio.Event()
        """Set by each informer change: the data-plane poller goes back to `poll`."""
        self._collecting: set[asyncio.Task[None]] = set()
        self.reconciled = 0
        informer.subscribe_objects(self._on_change)

    # -- informer events -------------------------------------------------------------------
    def _on_change(self, change: str, obj: Object | None) -> None:
        self._changed.set()
        if change == RELISTED or obj is None:
            self.owners.reset(self._everything())
            self._queue_all()
            return
        self.owners.note(change, obj)
        queue = self.queue
        if queue is None:
            return
        ref = ObjectRef.of(obj)
        if ref.kind in WAITS_FOR_DATA_PLANE and change == "ADDED":
            # The data plane applies a new object within tens of milliseconds; reconciling
            # it once that is done writes its status once instead of twice (Unknown, then
            # True), which halves the status writes of a bulk apply.
            queue.add_after(ref, FIRST_RECONCILE_AFTER)
        elif ref.kind in RECONCILERS:
            queue.add(ref)
        for reader in self.tracker.readers_of(ref):
            queue.add(reader)
        controller = applying.controller_of(obj)
        if controller is not None and controller.get("kind") in RECONCILERS:
            queue.add(ObjectRef(str(controller["kind"]), ref.namespace, str(controller.get("name"))))
        if change == "DELETED":
            self.tracker.forget(ref)
            self.effects.forget(ref)
            uid = (obj.get("metadata") or {}).get("uid")
            if uid and self.owners.owned(str(uid)):
                task = asyncio.get_running_loop().create_task(self._collect(str(uid)))
                self._collecting.add(task)  # held, and cancelled with the run
                task.add_done_callback(self._collecting.discard)

    def _everything(self) -> list[Object]:
        return [o for kind in self.informer.kinds for o in self.informer.list(kind.kind)]

    def _queue_all(self) -> None:
        if self.queue is None:
            return
        for kind in RECONCILERS:
            for obj in self.informer.list(kind):
                self.queue.add(ObjectRef.of(obj))

    def _requeue(self, ref: ObjectRef) -> None:
        if self.queue is not None:
            self.queue.add(ref)

    def _lookup(self, ref: ObjectRef) -> Object | None:
        return self.informer.get(*ref)

    # -- running -----------------------------------------------------------------------------
    async def run(self) -> None:
        await self.informer.synced.wait()
        queue = self.queue = queueing.WorkQueue()
        self.owners.reset(self._everything())
        tasks: list[asyncio.Task[None]] = []
        try:
            try:
                self.view = await self._read_view()
            except errors.RippleError as exc:  # the poller keeps trying; reconcile meanwhile
                log.warning("data plane progress unreadable", extra={"error": str(exc)})
            self._queue_all()
            tasks = [asyncio.create_task(self._work(), name=f"reconciler-{i}")
                     for i in range(self.workers)]
            tasks.append(asyncio.create_task(self._watch_data_plane(), name="data-plane-view"))
            tasks.append(asyncio.create_task(self._resync_forever(), name="resync"))
            if self.autoscaler is not None:
                tasks.append(asyncio.create_task(self.autoscaler.run(), name="autoscaler"))
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:  # they run forever: one that ended failed
                task.result()
        finally:
            if self.queue is queue:  # a later run may have its own by now
                self.queue = None
            queue.shutdown()
            tasks += self._collecting
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.effects.close()

    async def _work(self) -> None:
        queue = self.queue
        assert queue is not None
        while True:
            try:
                ref = await queue.get()
            except queueing.ShutDown:
                return
            try:
                await self.reconcile(ref)
            finally:
                queue.done(ref)
            # A reconcile that changes nothing awaits nothing that suspends, so without this a
            # resync ran every queued object in one go: 1,001 Triggers held the event loop,
            # and with it the ingress and the deliveries of the same process, for 120-250 ms
            # every 30 s. One object per turn of the loop, per worker.
            await asyncio.sleep(0)

    async def reconcile(self, ref: ObjectRef) -> applying.Applied | None:
        """One key: reconcile the cached object and apply the result."""
        queue = self.queue
        obj = self.informer.get(*ref)
        reconcile = RECONCILERS.get(ref.kind)
        if obj is None or reconcile is None:
            self.tracker.forget(ref)
            if queue is not None:
                queue.forget(ref)
            return None
        recording = tracking.Recording(InformerObserved(self.informer).get, self.informer.list)
        ctx = Context(recording, now=self.clock(), base_url=self.base_url, data_plane=self.view,
                      outcomes=self.effects.outcomes)
        try:
            result = reconcile(obj, ctx)
        except Exception:  # one broken object must not stop the others
            log.exception("reconciler crashed", extra={"object": str(ref)})
            if queue is not None:
                queue.add_rate_limited(ref)
            return None
        self.tracker.track(ref, recording.read, recording.listed)
        try:
            applied = await self.applier.apply(obj, result)
        except errors.TemporaryError as exc:
            log.warning("reconcile not applied; retrying", extra={"object": str(ref), "error": str(exc)})
            if queue is not None:
                queue.add_rate_limited(ref)
            return None
        except Exception:
            log.exception("applying a reconcile failed", extra={"object": str(ref)})
            if queue is not None:
                queue.add_rate_limited(ref)
            return None
        self.reconciled += 1
        for problem in applied.problems:
            log.warning("reconcile not fully applied", extra={"object": str(ref), "problem": problem})
        if queue is not None:
            queue.forget(ref)
            if result.requeue_after is not None:
                queue.add_after(ref, result.requeue_after)
        return applied

    async def _collect(self, uid: str) -> None:
        try:
            await self.applier.collect(uid)
        except errors.RippleError as exc:
            log.warning("children of a deleted owner not collected yet", extra={"uid": uid, "error": str(exc)})

    async def _resync_forever(self) -> None:
        while True:
            await asyncio.sleep(self.resync)
            self._queue_all()
            known = {(o.get("metadata") or {}).get("uid") for o in self._everything()}
            for uid in self.owners.owner_uids():
                if uid not in known:  # an owner deleted while we were not watching
                    await self._collect(uid)

    async def _watch_data_plane(self) -> None:
        while True:
            pause = self._next_poll()
            if pause > self.poll:
                self._changed.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), pause)
            await asyncio.sleep(self.poll)  # a burst of changes: one read after it
            try:
                self.view = await self._read_view()
            except errors.RippleError as exc:
                log.warning("data plane progress unreadable", extra={"error": str(exc)})
                await asyncio.sleep(1.0)

    def _next_poll(self) -> float:
        """How long the view may go unread: `poll` while the data plane is behind the
        informer, the reports' period while adapters report, else `IDLE_POLL`."""
        synced = self.view.synced
        if synced is None or synced < self.informer.version:
            return self.poll
        if any(self.informer.list(kind) for kind in REPORTING_KINDS):
            return max(self.poll, REPORTS_EVERY)
        return IDLE_POLL

    async def _read_view(self) -> DataPlane:
        wanted = [(kind, *ObjectRef.of(o)[1:]) for kind in REPORTING_KINDS
                  for o in self.informer.list(kind)]
        return await self.read_data_plane(wanted)


async def _everywhere(_wanted: Iterable[tuple[str, str, str]]) -> DataPlane:
    """No data plane to wait for: for controllers tested over an in-memory store."""
    from controllers.reconciling import EVERYWHERE

    return EVERYWHERE


def redis_data_plane(client: Any) -> DataPlaneSource:
    """The data plane's progress and the adapters' reports, from the shared Redis; reports
    are read every `REPORTS_EVERY` seconds, progress at every poll."""
    last: dict[str, Any] = {"at": 0.0, "reports": {}}

    async def read(wanted: Iterable[tuple[str, str, str]]) -> DataPlane:
        synced = await dataplane.read(client)
        now = time.monotonic()
        if now - last["at"] >= REPORTS_EVERY:
            last["reports"] = await reporting.read(client, list(wanted))
            last["at"] = now
        return DataPlane(synced=synced, reports=last["reports"])

    return read

