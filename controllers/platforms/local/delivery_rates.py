"""Live figures of each delivery target (Trigger, Subscription, queued source): attempts per
second, the share that failed, and the p99 latency, over the last few seconds.

Read from the Prometheus metrics the engine already keeps (`ripple.metrics`:
`kn_eventing_dispatch_events`, `kn_eventing_dispatch_duration_seconds`), so delivery pays
nothing more. A counter is a total since the process started; a rate needs two readings, so
`Rates` keeps the readings of the last `KEEP` seconds and compares the newest with the one
about `WINDOW` seconds older. `totals` and `between` are pure (table-tested); `Rates.read`
samples the registry.

The metrics are a process's own. With `ripple up --workers N` (N > 1) each worker publishes
its totals to Redis while someone reads the figures (`Publisher`, once a second, only the
targets whose totals changed), and the answering worker sums every worker's (`Mesh`): the
figures are the mesh's. Nobody reading, nobody publishing: a read sets
`keys.DELIVERY_TOTALS_WANTED` for `WANTED_FOR` seconds, which the workers check.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from ripple import keys, metrics, redisclient

log = logging.getLogger(__name__)

WINDOW = 5.0
"""Seconds between the two readings a rate compares (less until the process is that old)."""
MIN_WINDOW = 0.5
KEEP = 30.0

Target = tuple[str, str]
"""(namespace, label): `("default", "trigger:hello")`, as the operations API names targets."""


@dataclass
class Totals:
    """One target's counts since the process started."""

    attempts: float = 0.0
    failures: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)  # le -> cumulative count


Reading = dict[Target, Totals]


def target_of(labels: dict[str, str]) -> Target | None:
    """The target a sample's labels name; None for a sample of no known target."""
    namespace = labels.get("kn_namespace_name", "")
    if labels.get("kn_trigger_name"):
        return namespace, f"trigger:{labels['kn_trigger_name']}"
    if labels.get("kn_subscription_name"):
        return namespace, f"subscription:{labels['kn_subscription_name']}"
    if labels.get("kn_source_name"):
        group = labels.get("kn_source_resourcegroup", "")
        kind = group.split(".", 1)[0].removesuffix("s")
        return (namespace, f"{kind}:{labels['kn_source_name']}") if kind else None
    return None


def failed(code: str) -> bool:
    """An attempt failed unless its subscriber answered 2xx (no status: a network error)."""
    return not (code.isdigit() and 200 <= int(code) < 300)


def totals(samples: Iterable[tuple[str, dict[str, str], float]]) -> Reading:
    """Per-target totals from (sample name, labels, value) of the two dispatch families;
    every `cloudevents_type` and response code of a target adds up."""
    out: Reading = {}
    for name, labels, value in samples:
        target = target_of(labels)
        if target is None:
            continue
        into = out.setdefault(target, Totals())
        if name.endswith("_events_total"):
            into.attempts += value
            if failed(labels.get("http_response_status_code", "")):
                into.failures += value
        elif name.endswith("_bucket"):
            le = float(labels["le"])
            into.buckets[le] = into.buckets.get(le, 0.0) + value
    return out


def quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus' `histogram_quantile` over cumulative buckets; None without observations."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    total = buckets[bounds[-1]]
    rank = q * total
    lower, below = 0.0, 0.0
    for le in bounds:
        count = buckets[le]
        if count >= rank:
            if math.isinf(le):
                return lower  # in the open bucket: its lower bound, as Prometheus answers
            inside = count - below
            return lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = le, count
    return lower


@dataclass(frozen=True)
class Figures:
    rate: float | None  # attempts per second
    error_rate: float | None  # share of attempts that failed, 0..1
    p99: float | None  # seconds

    def to_json(self) -> dict[str, Any]:
        return {"rate": self.rate, "errorRate": self.error_rate, "p99": self.p99}


NO_FIGURES = Figures(None, None, None)


def between(old: Totals | None, new: Totals | None, seconds: float) -> Figures:
    """The figures of the interval between two readings of one target, `seconds` apart."""
    if new is None or seconds <= 0:
        return NO_FIGURES
    old = old or Totals()
    attempts = max(0.0, new.attempts - old.attempts)
    rate = attempts / seconds
    if attempts == 0:
        return Figures(0.0, None, None)
    failures = max(0.0, new.failures - old.failures)
    buckets = {le: new.buckets[le] - old.buckets.get(le, 0.0) for le in new.buckets}
    return Figures(rate, failures / attempts, quantile(0.99, buckets))


def sample_registry() -> list[tuple[str, dict[str, str], float]]:
    samples = []
    for family in (metrics.dispatch_events, metrics.dispatch_duration):
        for collected in family.collect():
            for s in collected.samples:
                if s.name.endswith(("_events_total", "_bucket")):
                    samples.append((s.name, s.labels, s.value))
    return samples


class Rates:
    """The readings of the last `KEEP` seconds; `figures` compares the newest with the one
    about `WINDOW` seconds before it (one reading per call, at most)."""

    def __init__(self, sample: Callable[[], list[tuple[str, dict[str, str], float]]] = sample_registry,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sample, self._clock = sample, clock
        self._readings: deque[tuple[float, Reading, frozenset[Target] | None]] = deque()

    def figures(self) -> Callable[[Target], Figures]:
        return self.record(totals(self._sample()))

    def record(self, reading: Reading, covered: frozenset[Target] | None = None
               ) -> Callable[[Target], Figures]:
        """Keep a reading (of the targets `covered`, None: of every target) and compare it
        with the earlier ones: a target is compared only with a reading that covered it."""
        now = self._clock()
        while self._readings and now - self._readings[0][0] > KEEP:
            self._readings.popleft()
        earlier = list(self._readings)
        self._readings.append((now, reading, covered))

        def figures(target: Target) -> Figures:
            base: tuple[float, Reading] | None = None
            for at, old, seen in earlier:  # the newest at least WINDOW old, else the oldest
                if seen is not None and target not in seen:
                    continue
                if now - at >= WINDOW or base is None:
                    base = (at, old)
            if base is None or now - base[0] < MIN_WINDOW:
                return NO_FIGURES
            return between(base[1].get(target), reading.get(target, Totals()), now - base[0])
        return figures


# -- mesh-wide: every worker's totals, through Redis ---------------------------------------

PUBLISH_INTERVAL = 1.0
"""Seconds between two publishes of a worker's totals, while they are wanted."""
WANTED_FOR = 10.0
"""Seconds a read keeps the workers publishing."""
WORKER_TTL = 60.0
"""A worker that has not published for this long is left out (its hash expires)."""


def field_of(target: Target) -> str:
    return f"{target[0]}/{target[1]}"


def encode(totals: Totals) -> bytes:
    return json.dumps({"a": totals.attempts, "f": totals.failures,
                       "b": [[_le(le), n] for le, n in sorted(totals.buckets.items())]},
                      separators=(",", ":")).encode()


def decode(raw: bytes) -> Totals:
    value = json.loads(raw)
    return Totals(float(value["a"]), float(value["f"]), {float(le): float(n) for le, n in value["b"]})


def _le(le: float) -> str | float:
    return "+Inf" if math.isinf(le) else le


def add(into: Totals, more: Totals) -> None:
    """Add one worker's totals of a target to the sum of the others'."""
    into.attempts += more.attempts
    into.failures += more.failures
    for le, n in more.buckets.items():
        into.buckets[le] = into.buckets.get(le, 0.0) + n


def changed(reading: Reading, published: Reading) -> dict[str, bytes]:
    """The fields of the targets whose totals moved since the last publish."""
    return {field_of(t): encode(v) for t, v in reading.items() if published.get(t) != v}


class Publisher:
    """One worker's side: while the totals are wanted, publish this worker's, once a second."""

    def __init__(self, client: aioredis.Redis, worker: str,
                 sample: Callable[[], list[tuple[str, dict[str, str], float]]] = sample_registry,
                 wall: Callable[[], float] = time.time) -> None:
        self.client, self.worker, self._sample, self._wall = client, worker, sample, wall
        self._published: Reading | None = None  # None: the hash may hold an earlier life's

    async def run(self) -> None:
        while True:
            await asyncio.sleep(PUBLISH_INTERVAL)
            try:
                await self.publish()
            except redisclient.UNAVAILABLE as exc:
                log.warning("delivery totals not published", extra={"error": str(exc)})
                self._published = None

    async def publish(self) -> bool:
        """Publish the totals that moved, if anyone wants them; whether it did."""
        if not await self.client.exists(keys.DELIVERY_TOTALS_WANTED):
            return False
        reading = totals(self._sample())
        key, now = keys.delivery_totals(self.worker), self._wall()
        fields = changed(reading, self._published or {})
        async with self.client.pipeline(transaction=False) as pipe:
            if self._published is None:
                pipe.delete(key)  # counters restart with the process: none of an earlier life's
            if fields:
                pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
            pipe.pexpire(key, int(WORKER_TTL * 1000))
            pipe.zadd(keys.DELIVERY_TOTALS_WORKERS, {self.worker: now})
            pipe.zremrangebyscore(keys.DELIVERY_TOTALS_WORKERS, "-inf", now - WORKER_TTL)
            await pipe.execute()
        self._published = reading
        return True


class Mesh:
    """The reading side: every live worker's published totals of the targets asked for,
    summed, in two round trips; `figures` as `Rates.figures` gives them."""

    def __init__(self, client: aioredis.Redis, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.client, self._wall = client, wall
        self.rates = Rates(sample=list, clock=clock)

    async def figures(self, targets: list[Target]) -> Callable[[Target], Figures]:
        return self.rates.record(await self.read(targets), frozenset(targets))

    async def read(self, targets: list[Target]) -> Reading:
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.set(keys.DELIVERY_TOTALS_WANTED, b"1", px=int(WANTED_FOR * 1000))
                pipe.zrangebyscore(keys.DELIVERY_TOTALS_WORKERS, self._wall() - WORKER_TTL, "+inf")
                _, workers = await pipe.execute()
            if not targets or not workers:
                return {}
            names = [field_of(t) for t in targets]
            async with self.client.pipeline(transaction=False) as pipe:
                for worker in workers:
                    pipe.hmget(keys.delivery_totals(worker.decode()), names)
                answers = await pipe.execute()
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        out: Reading = {}
        for values in answers:
            for target, raw in zip(targets, values):
                if raw is not None:
                    add(out.setdefault(target, Totals()), decode(raw))
        return out
