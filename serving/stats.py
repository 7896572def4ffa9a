"""Request statistics of a revision: what the router measures, and the windows the KPA reads.

Pure (the clock is an argument, `now` in seconds), single-threaded, and allocation-light:
the hot path (`request_in` / `request_out`) does float arithmetic on slots and allocates
nothing; a report allocates one small tuple per revision per second.

Two halves, both after Knative:

**Measuring** (the data plane's side). `RequestStats` is knative/networking
`pkg/http/stats/request.go` (`RequestStats.compute`, `HandleEvent`, `Report`): the in-flight
count is integrated over time, so

    AverageConcurrency = ∫ concurrency dt / secondsInUse        over one reporting period

(two requests of 500 ms each in a 1 s period give 1.0), and `RequestCount` counts arrivals
in the period. Requests marked as proxied (Knative's `Knative-Proxy: activator`) are also
counted apart, so the autoscaler can subtract them (see `Collection.record`). The state
(current concurrency, time of the last change) survives a report; the accumulators reset.
`stat_from` turns a report into the `Stat` sent to the autoscaler, dividing counts by the
reporting period as queue-proxy does (`pkg/queue/protobuf_stats_reporter.go`, `Report`):
counts become requests per second, concurrency stays an average.

`ConcurrencyReporter` is the activator's per-revision bookkeeping
(`pkg/activator/handler/concurrency_reporter.go`): the first request seen for a revision
in a reporting period is reported at once as concurrency 1 (the poke that scales a revision
from zero, `getOrCreateStat`), and the next report subtracts it again
(`computeReport`: `max(avg - 1, 0)`, count - 1). A revision with no activity for a whole
period is reported once with zeros and then forgotten.

**Aggregating** (the autoscaler's side). `TimedBuckets` is
`pkg/autoscaler/aggregation/bucketing.go` `TimedFloat64Buckets`: a ring of 1 s buckets
(`config.BucketSize`) covering one window; values recorded in the same bucket add up
(the scraped stat and the activator's stats for the same second are summed).
`window_average(now)` (`WindowAverage`) is a plain mean where:

- a gap between writes counts as zeros;
- only buckets since the first write count while the window is not yet full
  (`numB = min(lastWrite - firstWrite + 1, len)`), and a write after a whole window of
  silence starts over (`Record` resets `firstWrite`);
- buckets after the last write are left out of both the sum and the count
  (`numB = min(lastWrite - firstWrite + 1, len - (now - lastWrite))`);
- nothing written for a whole window gives 0;
- the result is rounded to 6 digits (`roundToNDigits`, half away from zero).

`WeightedBuckets` is `WeightedFloat64Buckets` (annotation
`metric-aggregation-algorithm: weighted-exponential`): the newest bucket weighs α, each older
one α(1-α)^k, empty buckets after the last write use up weight too, and
α = max(1 - (1 - 0.9999)^(1/buckets), 0.2) (`computeSmoothingCoeff`). Not rounded.

`Collection` is `pkg/autoscaler/metrics/collector.go` `collection`: four bucket sets
(concurrency and rps, each over the stable and the panic window). `record` stores
`AverageConcurrentRequests - AverageProxiedConcurrentRequests` and
`RequestCount - ProxiedRequestCount` (proxied requests were already counted where they were
proxied). `resize` follows a changed window (`updateMetric`). `stable_and_panic` is `StableAndPanicConcurrency` / `StableAndPanicRPS`: None
(Knative's `ErrNoData`) only when the stable buckets are empty and stats are scraped; when
stats only arrive with traffic (Knative's TBC = -1, activator always in the path, as with
Ripple's router), an empty window means no traffic and reads as 0.

Callers: the router and activator (`RequestStats`, `ConcurrencyReporter`), the autoscaler
shell (`Collection`), and `controllers.autoscaling.kpa.decide`, which reads a `Collection`.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import NamedTuple

BUCKET_SIZE = 1.0
"""Seconds per bucket (Knative's `config.BucketSize`)."""

REPORT_PERIOD = 1.0
"""Seconds between two reports (queue-proxy's and the activator's `reportInterval`)."""

CONCURRENCY = "concurrency"
RPS = "rps"

_PRECISION = 6
_WEIGHT_PRECISION = 0.9999
_MIN_EXPONENT = 0.2


class Report(NamedTuple):
    """One reporting period of `RequestStats` (Knative's `RequestStatsReport`)."""

    average_concurrency: float
    average_proxied_concurrency: float
    request_count: float
    proxied_request_count: float


class Stat(NamedTuple):
    """One second of a revision's load, as the autoscaler records it (Knative's `metrics.Stat`).

    Request counts are per second; concurrencies are time-weighted averages.
    """

    average_concurrent_requests: float
    average_proxied_concurrent_requests: float = 0.0
    request_count: float = 0.0
    proxied_request_count: float = 0.0


class RequestStats:
    """Time-weighted concurrency and arrivals of one revision (or one replica)."""

    __slots__ = (
        "concurrency",
        "proxied_concurrency",
        "_last_change",
        "_requests",
        "_proxied",
        "_computed",
        "_computed_proxied",
        "_seconds_in_use",
    )

    def __init__(self, started_at: float) -> None:
        self.concurrency = 0.0
        self.proxied_concurrency = 0.0
        self._last_change = started_at
        self._requests = 0.0
        self._proxied = 0.0
        self._computed = 0.0
        self._computed_proxied = 0.0
        self._seconds_in_use = 0.0

    def _compute(self, now: float) -> None:
        # Knative ignores a clock that went backwards (events and reports race there).
        elapsed = now - self._last_change
        if elapsed > 0:
            self._seconds_in_use += elapsed
            self._computed += self.concurrency * elapsed
            self._computed_proxied += self.proxied_concurrency * elapsed
            self._last_change = now

    def request_in(self, now: float, proxied: bool = False) -> None:
        self._compute(now)
        if proxied:
            self.proxied_concurrency += 1
            self._proxied += 1
        self._requests += 1
        self.concurrency += 1

    def request_out(self, now: float, proxied: bool = False) -> None:
        self._compute(now)
        if proxied:
            self.proxied_concurrency -= 1
        self.concurrency -= 1

    def report(self, now: float) -> Report:
        """The period up to `now`; the accumulators start over, the in-flight count stays."""
        self._compute(now)
        seconds = self._seconds_in_use
        report = Report(
            self._computed / seconds if seconds > 0 else 0.0,
            self._computed_proxied / seconds if seconds > 0 else 0.0,
            self._requests,
            self._proxied,
        )
        self._computed = self._computed_proxied = 0.0
        self._requests = self._proxied = 0.0
        self._seconds_in_use = 0.0
        return report


def stat_from(report: Report, period: float = REPORT_PERIOD) -> Stat:
    """The autoscaler's stat for one report: counts per second, concurrency as measured."""
    return Stat(
        report.average_concurrency,
        report.average_proxied_concurrency,
        report.request_count / period,
        report.proxied_request_count / period,
    )


class ConcurrencyReporter:
    """Per-revision stats at the activator/router, with the immediate first-request poke."""

    __slots__ = ("_stats", "_first")

    def __init__(self) -> None:
        self._stats: dict[Hashable, RequestStats] = {}
        self._first: dict[Hashable, float] = {}

    def request_in(self, key: Hashable, now: float) -> Stat | None:
        """Count a request in; for a revision not seen this period, the stat to send at once."""
        stats = self._stats.get(key)
        poke = None
        if stats is None:
            stats = self._stats[key] = RequestStats(now)
            self._first[key] = 1.0
            poke = Stat(1.0, 0.0, 1.0, 0.0)
        stats.request_in(now)
        return poke

    def request_out(self, key: Hashable, now: float) -> None:
        stats = self._stats.get(key)
        if stats is not None:
            stats.request_out(now)

    def report(self, now: float) -> list[tuple[Hashable, Stat]]:
        """One stat per revision for the period up to `now` (Knative's `computeReport`)."""
        stats_out = []
        idle = []
        for key, stats in self._stats.items():
            report = stats.report(now)
            first = self._first[key]
            self._first[key] = 0.0
            if report.average_concurrency == 0 and stats.concurrency == 0:
                idle.append(key)
            stat = Stat(
                max(report.average_concurrency - first, 0.0), 0.0, report.request_count - first
            )
            stats_out.append((key, stat))
        for key in idle:
            del self._stats[key]
            del self._first[key]
        return stats_out


def _round(value: float) -> float:
    # Go's math.Round rounds half away from zero; Python's round() rounds half to even.
    scale = 10.0**_PRECISION
    return math.copysign(math.floor(abs(value) * scale + 0.5), value) / scale


class TimedBuckets:
    """Knative's `TimedFloat64Buckets`: a windowed plain mean over a ring of buckets."""

    __slots__ = ("_buckets", "_granularity", "_window", "_first", "_last", "_total")

    def __init__(self, window: float, granularity: float = BUCKET_SIZE) -> None:
        self._buckets = [0.0] * math.ceil(window / granularity)
        self._granularity = granularity
        self._window = window
        # Bucket indices (time // granularity) of the first and last writes; None: never.
        self._first: int | None = None
        self._last: int | None = None
        self._total = 0.0

    @property
    def window(self) -> float:
        return self._window

    def _index(self, now: float) -> int:
        return int(now // self._granularity)

    def is_empty(self, now: float) -> bool:
        """Nothing written in the last window (Knative's `IsEmpty`)."""
        last = self._last
        return last is None or (self._index(now) - last) * self._granularity > self._window

    def record(self, now: float, value: float) -> None:
        """Add `value` to the bucket of `now` (Knative's `Record`)."""
        index = self._index(now)
        last = self._last
        buckets = self._buckets
        size = len(buckets)
        if index != last:
            if last is not None and (index - last) * self._granularity <= -self._window:
                return  # older than a window before the last write: dropped
            if self._first is None or self._first > index:
                self._first = index
            if last is None or index > last:
                if last is None or (index - last) * self._granularity >= self._window:
                    # A whole window without writes: start over.
                    self._first = index
                    buckets[:] = [0.0] * size
                    self._total = 0.0
                else:
                    # Clear the buckets skipped since the last write (a gap counts as zero).
                    for i in range(last + 1, index + 1):
                        self._total -= buckets[i % size]
                        buckets[i % size] = 0.0
                self._last = index
        buckets[index % size] += value
        self._total += value

    def window_average(self, now: float) -> float:
        """The mean over the window ending at `now` (Knative's `WindowAverage`)."""
        last, first = self._last, self._first
        if last is None or first is None:
            return 0.0
        buckets = self._buckets
        size = len(buckets)
        index = self._index(now)
        since = index - last
        if since <= 0:
            return _round(self._total / min(last - first + 1, size))
        if since * self._granularity < self._window:
            total = self._total
            for i in range(last + 1, index + 1):
                total -= buckets[i % size]
            return _round(total / min(last - first + 1, size - since))
        return 0.0


    def resize(self, window: float, now: float) -> None:
        """Change the window, keeping the newest buckets that fit (Knative's `ResizeWindow`,
        with its clock as `now`). As upstream, data written within the old window is taken
        to start a whole old window before the last write."""
        if window == self._window:
            return
        old = self._buckets
        size = math.ceil(window / self._granularity)
        buckets = [0.0] * size
        total = 0.0
        last = self._last
        if last is not None and (self._index(now) - last) * self._granularity <= self._window:
            for i in range(last, last - min(size, len(old)), -1):
                buckets[i % size] = old[i % len(old)]
                total += old[i % len(old)]
            self._first = last - (len(old) - 1)
        else:
            self._first = None
        self._window = window
        self._buckets = buckets
        self._total = total


def smoothing_coefficient(buckets: int) -> float:
    """α of the weighted average over `buckets` buckets (Knative's `computeSmoothingCoeff`)."""
    return max(1 - (1 - _WEIGHT_PRECISION) ** (1 / buckets), _MIN_EXPONENT)


class WeightedBuckets(TimedBuckets):
    """Knative's `WeightedFloat64Buckets`: an exponentially weighted window average."""

    __slots__ = ("_alpha",)

    def __init__(self, window: float, granularity: float = BUCKET_SIZE) -> None:
        super().__init__(window, granularity)
        self._alpha = smoothing_coefficient(len(self._buckets))

    def resize(self, window: float, now: float) -> None:
        super().resize(window, now)
        self._alpha = smoothing_coefficient(len(self._buckets))

    def window_average(self, now: float) -> float:
        if self.is_empty(now):
            return 0.0
        last = self._last
        assert last is not None  # not empty
        buckets = self._buckets
        size = len(buckets)
        alpha = self._alpha
        multiplier = alpha
        count = size
        index = self._index(now)
        if index > last:
            # Empty buckets since the last write use up weight too.
            multiplier *= (1 - alpha) ** (index - last)
            count -= index - last
        average = 0.0
        for i in range(count):
            average += buckets[(last - i) % size] * multiplier
            multiplier *= 1 - alpha
        return average


class Collection:
    """A revision's concurrency and rps over the stable and panic windows (Knative's `collection`)."""

    __slots__ = ("concurrency", "concurrency_panic", "rps", "rps_panic", "scraped")

    def __init__(
        self,
        stable_window: float,
        panic_window: float,
        *,
        weighted: bool = False,
        scraped: bool = False,
    ) -> None:
        """`scraped`: stats arrive every second while replicas exist, so an empty window
        means no data yet; otherwise (the default: Ripple's router sees every request) stats
        arrive with traffic and an empty window means no traffic."""
        kind = WeightedBuckets if weighted else TimedBuckets
        self.concurrency = kind(stable_window)
        self.concurrency_panic = kind(panic_window)
        self.rps = kind(stable_window)
        self.rps_panic = kind(panic_window)
        self.scraped = scraped

    def resize(self, stable_window: float, panic_window: float, now: float) -> None:
        """Follow a revision's changed windows without losing its history."""
        self.concurrency.resize(stable_window, now)
        self.concurrency_panic.resize(panic_window, now)
        self.rps.resize(stable_window, now)
        self.rps_panic.resize(panic_window, now)

    def record(self, now: float, stat: Stat) -> None:
        concurrency = stat.average_concurrent_requests - stat.average_proxied_concurrent_requests
        self.concurrency.record(now, concurrency)
        self.concurrency_panic.record(now, concurrency)
        rps = stat.request_count - stat.proxied_request_count
        self.rps.record(now, rps)
        self.rps_panic.record(now, rps)

    def stable_and_panic(self, metric: str, now: float) -> tuple[float, float] | None:
        """(stable, panic) averages of `metric` at `now`; None when there is no data yet."""
        if metric == RPS:
            stable, panic = self.rps, self.rps_panic
        else:
            stable, panic = self.concurrency, self.concurrency_panic
        if self.scraped and stable.is_empty(now):
            return None
        return stable.window_average(now), panic.window_average(now)
