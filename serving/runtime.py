"""The revision runtime of one machine: each Revision's replicas as supervised processes.

Called by the data-plane worker (to be wired by the composition root): `Runtime.scale(
revision, desired)` whenever the autoscaler's desired count for a revision changes,
`endpoints`/`wait_ready`/`on_ready` by the router and the activator, `report_forever` as
one of the worker's supervised tasks, and `close()` on shutdown.

What a replica runs is `serving.workload.plan`: the first container's command and args
under Knative's runtime contract, or, for a function revision, a fork of the revision's
zygote (`serving.zygote`, started with the first replica). A replica is *ready* once its
readiness probe passes (`serving.probing`); only ready replicas are endpoints. One
exception, for the cold-start goal (P5): a forked function replica with no readinessProbe
of its own is an endpoint as soon as the fork returns (its port accepts already, and the
host holds requests until `init` ran), while `/healthz` is probed as usual; the revision
counts as ready (`report()["ready"]`) and its error clears only once a probe passed.

Supervision, per replica slot:
- a replica that exits 75 (`EXIT_RECYCLE`: the function host recycling itself after a
  timeout) after it passed its probe is started again at once;
- any other exit is a crash: started again after `supervising`'s capped exponential
  backoff (`BACKOFF`), reset once a replica ran `healthy_after` seconds. A crash before the
  replica was ever ready is reported as the revision's error (reason `ExitCode<N>`, as
  Knative), until a replica becomes ready;
- scale-down stops the newest slots first: SIGTERM, then SIGKILL after the grace
  (`timeoutSeconds`, else 30 s). A stopping replica leaves the endpoints at once.

No orphans: a command replica sets PR_SET_PDEATHSIG before it execs the command
(`serving.replicas`), so it dies with this process even on SIGKILL; function replicas die
with their zygote, and the zygote with us (`serving.zygote`). Linux sends the death signal when the *thread* that forked ends: run
the runtime on a long-lived event loop thread. `close()` stops everything and waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis.asyncio as aioredis

from ripple import errors, reporting, supervising
from ripple.api.serving import revision_types
from serving import probing, replicas, workload, zygote

log = logging.getLogger(__name__)

EXIT_RECYCLE = 75  # serving.hosting.EXIT_RECYCLE, without importing the host
BACKOFF = supervising.Backoff(initial=0.5, factor=2.0, cap=30.0, healthy_after=60.0)
"""Between restarts of a replica that keeps crashing: 0.5 s doubling to 30 s."""
KIND = revision_types.KIND

RevisionKey = tuple[str, str]  # (namespace, name)
Endpoint = tuple[str, int]
ReadyListener = Callable[[RevisionKey, Endpoint], None]


def key_of(revision: dict[str, Any] | RevisionKey) -> RevisionKey:
    if isinstance(revision, tuple):
        return revision
    metadata = revision.get("metadata") or {}
    return str(metadata.get("namespace") or "default"), str(metadata.get("name", ""))


@dataclasses.dataclass(eq=False)
class Slot:
    """One replica position: the process in it changes across restarts."""

    task: asyncio.Task[None] | None = None
    running: replicas.Running | None = None
    ready: bool = False
    retired: bool = False
    """Scaled away: stopping, never ready again."""
    ever_ready: bool = False
    """The process now in the slot passed its probe once."""
    restarts: int = 0


class RevisionRuntime:
    """One revision's replicas on this machine."""

    def __init__(self, revision: dict[str, Any], *, host: str = "127.0.0.1",
                 backoff: supervising.Backoff = BACKOFF,
                 listeners: list[ReadyListener] | None = None) -> None:
        self.key = key_of(revision)
        self.host, self.backoff = host, backoff
        self.listeners = listeners if listeners is not None else []
        self.workload = workload.plan(revision)
        self.error, self.reason = self.workload.error, self.workload.reason
        self.probe = probing.Probe()
        if self.error is None:
            try:
                self.probe = probing.probe_of(self.workload.container,
                                              function=self.workload.function is not None)
            except probing.ProbeError as refused:
                self.error, self.reason = str(refused), "ProbeUnsupported"
        self.desired = 0
        self.slots: list[Slot] = []
        self.stopping: set[asyncio.Task[None]] = set()
        self.stopping_pids: set[int] = set()
        self.ever_ready = False
        self.any_ready = asyncio.Event()
        self._zygote: zygote.Zygote | None = None
        self._zygote_lock = asyncio.Lock()
        self._socket_dir: str | None = None
        self._closed = False

    @property
    def runnable(self) -> bool:
        return self.workload.error is None and self.reason != "ProbeUnsupported"

    # -- what others read ----------------------------------------------------------------
    def endpoints(self) -> list[Endpoint]:
        return [(self.host, s.running.port) for s in self.slots if s.ready and s.running]

    def pids(self) -> list[int]:
        """Every replica process still running, stopping ones included (and the zygote)."""
        found = [s.running.pid for s in self.slots if s.running]
        found += list(self.stopping_pids)
        if self._zygote is not None and self._zygote.process.returncode is None:
            found.append(self._zygote.pid)
        return found

    def report(self) -> reporting.Report:
        """The shape `controllers.reconcilers.serving.revision` reads."""
        endpoints = self.endpoints()
        return {"ready": self.ever_ready, "actualReplicas": len(endpoints),
                "desiredReplicas": self.desired, "error": self.error, "reason": self.reason,
                # for the routers of the other worker processes (`revisions.ReportedEndpoints`)
                "endpoints": [f"{host}:{port}" for host, port in endpoints]}

    async def wait_ready(self, timeout: float | None = None) -> Endpoint:
        """A ready endpoint, once there is one (the activator's wait); TimeoutError after
        `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (found := self.endpoints()):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            await asyncio.wait_for(self.any_ready.wait(), left)
        return found[0]

    # -- scaling -------------------------------------------------------------------------
    def scale(self, desired: int) -> None:
        """Start or stop slots until `desired` are running; returns at once."""
        if self._closed:
            raise RuntimeError(f"revision {self.key[0]}/{self.key[1]}: the runtime is closed")
        self.desired = max(0, int(desired))
        if not self.runnable:
            return
        while len(self.slots) < self.desired:
            slot = Slot()
            slot.task = asyncio.create_task(self._supervise(slot),
                                            name=f"replica {self.key[0]}/{self.key[1]}")
            self.slots.append(slot)
        while len(self.slots) > self.desired:
            self._retire(self.slots.pop())
        self._readiness_changed(None)

    def _retire(self, slot: Slot) -> None:
        slot.ready, slot.retired = False, True
        if slot.running is not None:
            self.stopping_pids.add(slot.running.pid)
        assert slot.task is not None
        slot.task.cancel()
        self.stopping.add(slot.task)
        slot.task.add_done_callback(self.stopping.discard)

    async def close(self) -> None:
        """Stop every replica (SIGTERM, SIGKILL after the grace) and the zygote."""
        if not self._closed:
            self.scale(0)
            self._closed = True
        if self.stopping:
            await asyncio.gather(*self.stopping, return_exceptions=True)
        if self._zygote is not None:
            await self._zygote.close()
            self._zygote = None
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    # -- one slot ------------------------------------------------------------------------
    async def _supervise(self, slot: Slot) -> None:
        failures = 0
        while True:
            started = time.monotonic()
            code: int | None
            running: replicas.Running | None
            try:
                running = await self._start_shielded()
            except (OSError, zygote.ZygoteError) as failed:
                code, running = None, None
                self.error, self.reason = f"the replica could not start: {failed}", None
            else:
                slot.running = running
                code = await self._serve(slot, running)
                slot.running, slot.ready = None, False
                self._readiness_changed(None)
            served, slot.ever_ready = slot.ever_ready, False
            # Recycled after serving: at once. A replica that exits 75 before it ever
            # served is failing, not recycling, and waits like any crash (no hot loop).
            if running is not None and code == EXIT_RECYCLE and served:
                log.info("replica recycled; starting another",
                         extra={"revision": "/".join(self.key), "pid": running.pid})
                failures = 0
                continue
            failures = supervising.next_failures(self.backoff, failures,
                                                 time.monotonic() - started)
            wait = supervising.delay(self.backoff, failures)
            if running is not None:
                log.error("replica exited; restarting", extra={
                    "revision": "/".join(self.key), "pid": running.pid, "exit_code": code,
                    "failures": failures, "restart_in": wait})
            slot.restarts += 1
            await asyncio.sleep(wait)

    async def _start_shielded(self) -> replicas.Running:
        """Start a replica; a scale-down arriving meanwhile stops it once it exists, rather
        than losing the handle on a process that was forked already."""
        start = asyncio.ensure_future(self._start())
        try:
            return await asyncio.shield(start)
        except asyncio.CancelledError:
            with contextlib.suppress(OSError, zygote.ZygoteError):
                await self._stop(await start)
            raise

    async def _serve(self, slot: Slot, running: replicas.Running) -> int | None:
        """Probe the replica until it exits; on cancellation (scale-down), stop it."""
        prober = asyncio.create_task(self._probe(slot, running))
        try:
            code = await running.wait()
        except asyncio.CancelledError:
            prober.cancel()
            slot.ready = False
            await self._stop(running)
            self.stopping_pids.discard(running.pid)
            raise
        finally:
            prober.cancel()
        if code is None and isinstance(running, replicas.Forked):
            await self._drop_zygote(running.parent)  # gone: the next replica starts a new one
        elif code is not None and not slot.ever_ready:  # a crash that never served: the container is failing
            self.error = f'container "{self._name}" exited with code {code} before it was ready'
            self.reason = replicas.exit_reason(code)
        return code

    @property
    def _name(self) -> str:
        return str(self.workload.container.get("name", revision_types.DEFAULT_CONTAINER_NAME))

    async def _stop(self, running: replicas.Running) -> None:
        running.signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(running.wait(), self.workload.grace)
        except TimeoutError:
            running.signal(signal.SIGKILL)
            await running.wait()

    async def _probe(self, slot: Slot, running: replicas.Running) -> None:
        if self._ready_at_fork(running):
            # The zygote bound the port before it forked, and the host holds requests until
            # init ran: the replica takes traffic now (P5), while its /healthz is probed.
            slot.ready = True
            self._readiness_changed((self.host, running.port))
        await asyncio.sleep(self.probe.initial_delay)
        failures = 0
        while True:
            passed = await probing.check(self.probe, self.host, running.port)
            if slot.retired:
                return
            if passed:
                failures = 0
                if not slot.ever_ready:
                    slot.ever_ready = self.ever_ready = True
                    self.error, self.reason = None, None
                if not slot.ready:
                    slot.ready = True
                    self._readiness_changed((self.host, running.port))
            elif slot.ever_ready:  # failures count once the probe has passed
                failures += 1
                if slot.ready and failures >= self.probe.failure_threshold:
                    slot.ready = False
                    self._readiness_changed(None)
            await asyncio.sleep(self.probe.interval(slot.ever_ready))

    def _ready_at_fork(self, running: replicas.Running) -> bool:
        return isinstance(running, replicas.Forked) and not self.workload.container.get("readinessProbe")

    def _readiness_changed(self, became_ready: Endpoint | None) -> None:
        if self.endpoints():
            self.any_ready.set()
        else:
            self.any_ready.clear()
        if became_ready is not None:
            for listener in list(self.listeners):
                try:
                    listener(self.key, became_ready)
                except Exception:
                    log.exception("a ready listener failed")

    # -- starting a replica --------------------------------------------------------------
    async def _start(self) -> replicas.Running:
        if self.workload.function is not None:
            handle = await self._zygote_handle()
            try:
                return replicas.Forked(await handle.fork(host=self.host, timeout=self.workload.timeout),
                               handle)
            except (OSError, zygote.ZygoteError):
                await self._drop_zygote(handle)
                raise
        return await replicas.start_command(self.workload.argv,
                                            {**os.environ, **self.workload.env},
                                            self.workload.cwd, self.host)

    async def _zygote_handle(self) -> zygote.Zygote:
        async with self._zygote_lock:
            if self._zygote is None:
                if self._socket_dir is None:
                    self._socket_dir = tempfile.mkdtemp(prefix="ripple-z")
                assert self.workload.function is not None
                self._zygote = await zygote.Zygote.start(
                    self.workload.function, os.path.join(self._socket_dir, "zygote.sock"),
                    timeout=self.workload.timeout, env=self.workload.env)
            return self._zygote

    async def _drop_zygote(self, handle: zygote.Zygote) -> None:
        """Close a zygote that failed, unless another slot replaced it already."""
        async with self._zygote_lock:
            if self._zygote is handle:
                self._zygote = None
                await handle.close()


class Runtime:
    """Every revision's replicas on this machine."""

    def __init__(self, *, host: str = "127.0.0.1", backoff: supervising.Backoff = BACKOFF) -> None:
        self.host, self.backoff = host, backoff
        self.revisions: dict[RevisionKey, RevisionRuntime] = {}
        self.listeners: list[ReadyListener] = []

    def scale(self, revision: dict[str, Any], desired: int) -> RevisionRuntime:
        """Keep `desired` replicas of `revision` running (a Revision never changes its
        spec, so the first object seen for a name is the one that runs)."""
        key = key_of(revision)
        found = self.revisions.get(key)
        if found is None:
            found = self.revisions[key] = RevisionRuntime(
                revision, host=self.host, backoff=self.backoff, listeners=self.listeners)
        found.scale(desired)
        return found

    async def sync(self, wanted: Iterable[tuple[dict[str, Any], int]]) -> None:
        """Make the machine run exactly these (revision, desired) pairs: scale each, and
        stop the revisions not listed (deleted). The wiring's one call per pass."""
        keep = set()
        for revision, desired in wanted:
            self.scale(revision, desired)
            keep.add(key_of(revision))
        for key in [k for k in self.revisions if k not in keep]:
            await self.remove(key)

    def on_ready(self, listener: ReadyListener) -> None:
        """Call `listener(revision_key, (host, port))` whenever a replica becomes ready."""
        self.listeners.append(listener)

    def endpoints(self, revision: dict[str, Any] | RevisionKey) -> list[Endpoint]:
        found = self.revisions.get(key_of(revision))
        return found.endpoints() if found else []

    async def wait_ready(self, revision: dict[str, Any] | RevisionKey,
                         timeout: float | None = None) -> Endpoint:
        return await self.revisions[key_of(revision)].wait_ready(timeout)

    async def remove(self, revision: dict[str, Any] | RevisionKey) -> None:
        """Stop a deleted revision's replicas and forget it."""
        found = self.revisions.pop(key_of(revision), None)
        if found is not None:
            await found.close()

    def reports(self) -> dict[reporting.SourceKey, reporting.Report]:
        return {(KIND, ns, name): rt.report() for (ns, name), rt in self.revisions.items()}

    async def report(self, client: aioredis.Redis, consumer: str) -> None:
        """Write every revision's report once (raises errors.StoreUnavailable)."""
        await reporting.write(client, consumer, self.reports())

    async def report_forever(self, client: aioredis.Redis, consumer: str,
                             interval: float = reporting.INTERVAL) -> None:
        while True:
            try:
                await self.report(client, consumer)
            except errors.StoreUnavailable as exc:
                log.warning("revision reports not written", extra={"error": str(exc)})
            await asyncio.sleep(interval)

    async def close(self) -> None:
        revisions, self.revisions = list(self.revisions.values()), {}
        await asyncio.gather(*(rt.close() for rt in revisions))
