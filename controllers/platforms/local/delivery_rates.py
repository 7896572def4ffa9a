"""Live figures of each delivery target (Trigger, Subscription, queued source): attempts per
second, the share that failed, and the p99 latency, over the last few seconds.

Read from the Prometheus metrics the engine already keeps (`ripple.metrics`:
`kn_eventing_dispatch_events`, `kn_eventing_dispatch_duration_seconds`), so delivery pays
nothing more. A counter is a total since the process started; a rate needs two readings, so
`Rates` keeps the readings of the last `KEEP` seconds and compares the newest with the one
about `WINDOW` seconds older. `totals` and `between` are pure (table-tested); `Rates.read`
samples the registry.

The metrics are the answering process's own: with `ripple up --workers N` a reading covers
the deliveries of the worker that answered, not of all N.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ripple import metrics

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
        self._readings: deque[tuple[float, Reading]] = deque()

    def figures(self) -> Callable[[Target], Figures]:
        now = self._clock()
        reading = totals(self._sample())
        while self._readings and now - self._readings[0][0] > KEEP:
            self._readings.popleft()
        base: tuple[float, Reading] | None = None
        for at, old in self._readings:  # the newest at least WINDOW old, else the oldest
            if now - at >= WINDOW or base is None:
                base = (at, old)
        self._readings.append((now, reading))
        if base is None or now - base[0] < MIN_WINDOW:
            return lambda target: NO_FIGURES
        at, old = base
        return lambda target: between(old.get(target), reading.get(target, Totals()), now - at)
