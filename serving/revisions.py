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

It never writes status.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

import redis.asyncio as aioredis

from ripple import errors, reporting, scales
from ripple.api.serving import revision_types
from serving import runtime

log = logging.getLogger(__name__)

POLL = 0.25
"""Seconds between reads of the desired scales when nothing wakes the plane."""
INITIAL_SCALE = "autoscaling.knative.dev/initial-scale"
DEFAULT_INITIAL_SCALE = 1


class Revisions(Protocol):
    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]: ...


def initial_scale(revision: dict[str, Any]) -> int:
    """The annotation's count (validated on admission), else Knative's default of 1."""
    annotations = (revision.get("metadata") or {}).get("annotations") or {}
    try:
        return max(0, int(annotations.get(INITIAL_SCALE, DEFAULT_INITIAL_SCALE)))
    except (TypeError, ValueError):
        return DEFAULT_INITIAL_SCALE


def wanted(revisions: list[dict[str, Any]],
           desired: dict[runtime.RevisionKey, int]) -> list[tuple[dict[str, Any], int]]:
    """Each Revision with the count to run. Pure."""
    return [(r, desired.get(runtime.key_of(r), initial_scale(r))) for r in revisions]


class RevisionPlane:
    def __init__(self, client: aioredis.Redis, revisions: Revisions, machine: runtime.Runtime,
                 *, consumer: str, poll: float = POLL,
                 report_every: float = reporting.INTERVAL) -> None:
        self.client, self.revisions, self.runtime = client, revisions, machine
        self.consumer, self.poll, self.report_every = consumer, poll, report_every
        self._wake = asyncio.Event()

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
                    if time.monotonic() - reported >= self.report_every:
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

    async def step(self) -> None:
        """One pass: read the desired scales, run them."""
        desired = await scales.read(self.client)
        await self.runtime.sync(wanted(self.revisions.list(revision_types.KIND), desired))
