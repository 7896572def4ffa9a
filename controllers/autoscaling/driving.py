"""The KPA's shell: feeds each Revision's decider the routers' stats, and hands the decided
replicas to the revision runtime.

Run by the local driver (`platforms.local.controller`) under the controller's lease, so
one process decides. Once a second it reads, from Redis (`ripple.reporting`):
- the routers' stats per revision and process (kind `STATS`, written by every process's
  router once a second: `serving.stats.Stat`'s fields and the period's `at`), each
  recorded once into the revision's `serving.stats.Collection`;
- the revision runtime's reports (kind `Revision`: `actualReplicas`), the ready count
  `decide` needs.
Every `TICK` seconds, or at once when a revision at zero gets traffic (`kpa.poke`), it runs
`kpa.decide` with the revision's spec (its `autoscaling.knative.dev/*` annotations over the
`config-autoscaler` ConfigMap of `knative-serving`, read from the informer so a change
applies without a restart), keeps the decider's state, and writes the replicas decided
into `ripple.scales`, which the runtime reads. Deleted revisions are forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from controllers.autoscaling import kpa
from ripple import errors, reporting, scales
from ripple.api.serving import autoscaler_config
from ripple.informers import Informer
from serving import stats as servingstats

log = logging.getLogger(__name__)

STATS = "RevisionStats"
"""The report kind of the routers' per-second stats."""
REVISION = "Revision"
TICK = 2.0
"""Seconds between decisions, as Knative's autoscaler ticks."""
CONFIG = ("knative-serving", "config-autoscaler")


@dataclass
class Decider:
    spec: kpa.Spec
    collection: servingstats.Collection
    state: kpa.State | None = None
    seen: set[float] = field(default_factory=set)
    """The `at` of the stats already recorded (each process rewrites its report)."""
    decided_at: float = 0.0


class Autoscaler:
    def __init__(self, client: aioredis.Redis, informer: Informer, *,
                 clock: Callable[[], float] = time.time, period: float = 1.0) -> None:
        self.client, self.informer, self.clock, self.period = client, informer, clock, period
        self.deciders: dict[tuple[str, str], Decider] = {}

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            try:
                await self.step()
            except errors.StoreUnavailable as exc:
                log.warning("autoscaler: store unavailable", extra={"error": str(exc)})

    def defaults(self) -> kpa.Spec:
        config = self.informer.get("ConfigMap", *CONFIG)
        data = (config or {}).get("data") or {}
        try:
            return kpa.defaults_from(autoscaler_config.from_configmap(data))
        except errors.Invalid as exc:  # admission refuses these; a stored one is skipped
            log.warning("config-autoscaler not understood; Knative's defaults apply",
                        extra={"error": str(exc)})
            return kpa.Spec()

    async def step(self) -> dict[tuple[str, str], int]:
        """One round: record, decide what is due, write the scales; returns them."""
        now = self.clock()
        revisions = {(r["metadata"]["namespace"], r["metadata"]["name"]): r
                     for r in self.informer.list(REVISION)}
        wanted = [(kind, ns, name) for ns, name in revisions for kind in (STATS, REVISION)]
        reports = await reporting.read(self.client, wanted)
        defaults = self.defaults()
        desired: dict[tuple[str, str], int] = {}
        for key, revision in revisions.items():
            decided = self._decide(key, revision, defaults, reports, now)
            if decided is not None:
                desired[key] = decided
        gone = [k for k in self.deciders if k not in revisions]
        for key in gone:
            del self.deciders[key]
        if desired:
            await scales.write(self.client, desired)
        if gone:
            await scales.remove(self.client, gone)
        return desired

    def _decide(self, key: tuple[str, str], revision: dict[str, Any], defaults: kpa.Spec,
                reports: dict[reporting.SourceKey, list[reporting.Report]], now: float) -> int | None:
        spec_ = revision.get("spec") or {}
        annotations = (revision.get("metadata") or {}).get("annotations") or {}
        spec = kpa.spec_from(annotations, defaults,
                             container_concurrency=int(spec_.get("containerConcurrency") or 0))
        decider = self.deciders.get(key)
        if decider is None:
            decider = self.deciders[key] = Decider(spec, kpa.new_collection(spec))
        elif (spec.stable_window, spec.panic_window) != (decider.spec.stable_window,
                                                          decider.spec.panic_window):
            decider.collection.resize(spec.stable_window, spec.panic_window, now)
        decider.spec = spec
        poked = False
        for report in reports.get((STATS, *key), []):
            at = float(report.get("at", 0))
            if at in decider.seen:
                continue
            decider.seen.add(at)
            stat = servingstats.Stat(*(float(report.get(f, 0.0)) for f in servingstats.Stat._fields))
            decider.collection.record(at, stat)
            poked = poked or (decider.state is not None and kpa.poke(decider.state, stat))
        decider.seen = {at for at in decider.seen if now - at < 2 * reporting.TTL}
        if not poked and now - decider.decided_at < TICK:
            return None
        ready = sum(int(r.get("actualReplicas") or 0) for r in reports.get((REVISION, *key), []))
        decision = kpa.decide(spec, decider.collection, now, decider.state, ready=ready)
        decider.state, decider.decided_at = decision.state, now
        return decision.replicas
