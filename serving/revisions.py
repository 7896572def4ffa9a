"""The revisions' data plane: Revisions from the informer, desired counts from Redis, run
by the revision runtime, reported back.

To be run by the composition root (`controllers.platforms.local.platform`) as one
supervised task, `RevisionPlane.run`, in ONE process of the machine (replicas are that
process's children: two processes running it would each start every replica), e.g.
under its own lease; `informer.subscribe(plane.kick)` wakes it on a change. Each pass:

1. the Revisions the informer holds;
2. their desired replicas (`ripple.scales.read`, written by the autoscaler); a Revision
   with no entry runs at its `autoscaling.knative.dev/initial-scale` (default 1);
3. `runtime.sync(...)`: scale each, stop the deleted;
4. every `reporting.INTERVAL`, the runtime's reports (`Runtime.report`) for the Revision
   reconciler.

Activation (the cold-start path, P5): a request for a Revision at zero must not wait for
the autoscaler's next tick and this plane's next read. The activator, in this process,
calls `activate(revision)`: a replica starts at once, and the plane holds the Revision at
one or more replicas until the autoscaler writes a decision newer than the activation (it
was poked by the same request), or `ACTIVATION_HOLD` passed without one.

It never writes status.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis

from ripple import errors, reporting, scales
from ripple.api.serving import revision_types
from serving import routing, runtime

log = logging.getLogger(__name__)

POLL = 0.25
"""Seconds between reads of the desired scales when nothing wakes the plane."""
INITIAL_SCALE = "autoscaling.knative.dev/initial-scale"
DEFAULT_INITIAL_SCALE = 1
ACTIVATION_HOLD = 30.0
"""Seconds an activation keeps a replica when the autoscaler decides nothing newer."""


class Revisions(Protocol):
    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]: ...


def initial_scale(revision: dict[str, Any]) -> int:
    """The annotation's count (validated on admission), else Knative's default of 1."""
    annotations = (revision.get("metadata") or {}).get("annotations") or {}
    try:
        return max(0, int(annotations.get(INITIAL_SCALE, DEFAULT_INITIAL_SCALE)))
    except (TypeError, ValueError):
        return DEFAULT_INITIAL_SCALE


def wanted(revisions: list[dict[str, Any]], desired: dict[runtime.RevisionKey, scales.Scale],
           activated: dict[runtime.RevisionKey, float] | None = None, *,
           now: float) -> list[tuple[dict[str, Any], int]]:
    """Each Revision with the count to run: the autoscaler's, else the initial scale; at
    least 1 while an activation is newer than the decision and not older than the hold. Pure."""
    found = []
    for revision in revisions:
        key = runtime.key_of(revision)
        scale = desired.get(key)
        count = scale.desired if scale is not None else initial_scale(revision)
        since = (activated or {}).get(key)
        if since is not None and now - since < ACTIVATION_HOLD and \
                (scale is None or scale.at < since):
            count = max(count, 1)
        found.append((revision, count))
    return found


class RevisionPlane:
    def __init__(self, client: aioredis.Redis, revisions: Revisions, machine: runtime.Runtime,
                 *, consumer: str, poll: float = POLL,
                 report_every: float = reporting.INTERVAL) -> None:
        self.client, self.revisions, self.runtime = client, revisions, machine
        self.consumer, self.poll, self.report_every = consumer, poll, report_every
        self._wake = asyncio.Event()
        self.activated: dict[runtime.RevisionKey, float] = {}
        self._report_now = False
        machine.on_ready(self._replica_ready)

    def _replica_ready(self, _key: runtime.RevisionKey, _endpoint: runtime.Endpoint) -> None:
        """A replica passed its probe: report at once (the Revision's Ready waits for it)."""
        self._report_now = True
        self._wake.set()

    def kick(self, changed: set[str] | None = None) -> None:
        """An informer listener: look again now."""
        if changed is None or revision_types.KIND in changed:
            self._wake.set()

    async def run(self) -> None:
        reported = 0.0
        try:
            while True:
                self._wake.clear()
                try:
                    await self.step()
                    if self._report_now or time.monotonic() - reported >= self.report_every:
                        self._report_now = False
                        await self.runtime.report(self.client, self.consumer)
                        reported = time.monotonic()
                except errors.StoreUnavailable as exc:
                    log.warning("revision scales or reports unavailable", extra={"error": str(exc)})
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll)
                except TimeoutError:
                    pass
        finally:
            await self.runtime.close()

    def activate(self, revision: dict[str, Any]) -> runtime.RevisionRuntime:
        """A request arrived for `revision`: make sure a replica is (being) started now.
        Wait on the result's `wait_ready()`."""
        key = runtime.key_of(revision)
        self.activated[key] = time.time()
        current = self.runtime.revisions.get(key)
        return self.runtime.scale(revision, max(1, current.desired if current else 0))

    async def step(self) -> None:
        """One pass: read the desired scales, run them."""
        desired = await scales.read(self.client)
        now = time.time()
        listed = wanted(self.revisions.list(revision_types.KIND), desired, self.activated, now=now)
        self.activated = {k: t for k, t in self.activated.items() if now - t < ACTIVATION_HOLD
                          and (k not in desired or desired[k].at < t)}
        await self.runtime.sync(listed)


class RuntimeEndpoints:
    """The router's `Endpoints` (`serving.routing`) over the revision runtime of this
    process: ready replicas as `host:port`, and each Revision's concurrency and timeout."""

    def __init__(self, machine: runtime.Runtime, revisions: Revisions) -> None:
        self.runtime, self.revisions = machine, revisions

    def _revision(self, key: tuple[str, str]) -> dict[str, Any] | None:
        namespace, name = key
        for revision in self.revisions.list(revision_types.KIND, namespace):
            if revision["metadata"]["name"] == name:
                return revision
        return None

    def ready(self, revision: routing.RevisionKey) -> list[str]:
        key = (revision.namespace, revision.name)
        return [f"{host}:{port}" for host, port in self.runtime.endpoints(key)]

    def settings(self, revision: routing.RevisionKey) -> routing.Settings | None:
        return _settings(self._revision((revision.namespace, revision.name)))


def _settings(revision: dict[str, Any] | None) -> routing.Settings | None:
    if revision is None:
        return None
    spec = revision.get("spec") or {}
    return routing.Settings(int(spec.get("containerConcurrency") or 0),
                            float(spec.get("timeoutSeconds") or routing.DEFAULT_TIMEOUT))


class ReportedEndpoints:
    """The router's `Endpoints` in a worker that does not run the revisions: the ready
    replicas the runtime's process reports (`Runtime.report`, every replica ready at once),
    read from Redis every `poll` seconds. A replica seen for the first time releases the
    requests the activator buffered for its revision (`on_ready`)."""

    def __init__(self, client: aioredis.Redis, revisions: Revisions,
                 on_ready: Callable[[routing.RevisionKey, str], object], *,
                 poll: float = 0.25) -> None:
        self.client, self.revisions, self.on_ready, self.poll = client, revisions, on_ready, poll
        self._ready: dict[routing.RevisionKey, list[str]] = {}

    def ready(self, revision: routing.RevisionKey) -> list[str]:
        return self._ready.get(revision, [])

    def settings(self, revision: routing.RevisionKey) -> routing.Settings | None:
        found = [r for r in self.revisions.list(revision_types.KIND, revision.namespace)
                 if r["metadata"]["name"] == revision.name]
        return _settings(found[0] if found else None)

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except errors.StoreUnavailable as exc:
                log.warning("revision endpoints unavailable", extra={"error": str(exc)})
            await asyncio.sleep(self.poll)

    async def step(self) -> None:
        keys = [runtime.key_of(r) for r in self.revisions.list(revision_types.KIND)]
        reports = await reporting.read(self.client, [(revision_types.KIND, ns, name) for ns, name in keys])
        fresh: dict[routing.RevisionKey, list[str]] = {}
        for ns, name in keys:
            key = routing.RevisionKey(ns, name)
            fresh[key] = [e for r in reports.get((revision_types.KIND, ns, name), [])
                          for e in r.get("endpoints") or [] if isinstance(e, str)]
            for endpoint in fresh[key]:
                if endpoint not in self._ready.get(key, []):
                    self.on_ready(key, endpoint)
        self._ready = fresh
