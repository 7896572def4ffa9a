"""Tables for serving.stats: time-weighted concurrency, the activator's reports, the windows."""

from __future__ import annotations

import pytest

from serving import stats

T0 = 1_700_000_000.0  # a whole second, so bucket boundaries are easy to read


# -- RequestStats: ∫ concurrency dt / seconds ------------------------------------------------


def replay(events: list[tuple[float, str]], report_at: float) -> stats.Report:
    """`events`: (seconds after T0, "in" / "out" / "pin" / "pout"); one report at `report_at`."""
    recorder = stats.RequestStats(T0)
    for at, kind in events:
        proxied = kind.startswith("p")
        if kind.endswith("in"):
            recorder.request_in(T0 + at, proxied)
        else:
            recorder.request_out(T0 + at, proxied)
    return recorder.report(T0 + report_at)


@pytest.mark.parametrize(
    "events, report_at, want",
    [
        ([], 1.0, (0.0, 0.0, 0, 0)),  # idle
        # Knative's own example: two requests of 500 ms in one second average 1.
        ([(0.0, "in"), (0.0, "in"), (0.5, "out"), (0.5, "out")], 1.0, (1.0, 0.0, 2, 0)),
        ([(0.0, "in"), (0.5, "out"), (0.5, "in"), (1.0, "out")], 1.0, (1.0, 0.0, 2, 0)),
        ([(0.0, "in")], 1.0, (1.0, 0.0, 1, 0)),  # still in flight: counts to the end
        ([(0.25, "in"), (0.75, "out")], 1.0, (0.5, 0.0, 1, 0)),
        ([(0.0, "in"), (0.0, "in"), (0.0, "in"), (0.5, "out")], 1.0, (2.5, 0.0, 3, 0)),
        # Proxied requests count in both totals, and apart.
        ([(0.0, "pin"), (0.0, "in"), (0.5, "pout")], 1.0, (1.5, 0.5, 2, 1)),
        # A period of two seconds averages over both.
        ([(0.0, "in"), (1.0, "out")], 2.0, (0.5, 0.0, 1, 0)),
        # A clock that goes backwards changes nothing (Knative ignores it).
        ([(0.5, "in"), (0.4, "out")], 1.0, (0.0, 0.0, 1, 0)),
    ],
)
def test_request_stats(events, report_at, want) -> None:
    assert tuple(replay(events, report_at)) == pytest.approx(want)


def test_report_resets_the_period_but_not_the_requests_in_flight() -> None:
    recorder = stats.RequestStats(T0)
    recorder.request_in(T0)
    recorder.request_in(T0 + 0.5)
    assert recorder.report(T0 + 1) == (1.5, 0.0, 2, 0)
    assert recorder.report(T0 + 2) == (2.0, 0.0, 0, 0)  # both still in flight, none new
    recorder.request_out(T0 + 2.5)
    recorder.request_out(T0 + 2.5)
    assert recorder.report(T0 + 3) == (1.0, 0.0, 0, 0)
    assert recorder.report(T0 + 4) == (0.0, 0.0, 0, 0)


@pytest.mark.parametrize(
    "report, period, want",
    [
        (stats.Report(1.5, 0.5, 10, 4), 1.0, stats.Stat(1.5, 0.5, 10, 4)),
        # Counts become per second, concurrency stays an average (queue-proxy's Report).
        (stats.Report(1.5, 0.5, 10, 4), 2.0, stats.Stat(1.5, 0.5, 5, 2)),
    ],
)
def test_stat_from(report, period, want) -> None:
    assert stats.stat_from(report, period) == want


# -- ConcurrencyReporter: the first request pokes at once, the next report subtracts it --------


def test_first_request_pokes_then_is_subtracted() -> None:
    reporter = stats.ConcurrencyReporter()
    assert reporter.request_in("rev", T0) == stats.Stat(1.0, 0.0, 1.0, 0.0)
    assert reporter.request_in("rev", T0 + 0.5) is None  # seen this period: no second poke
    reporter.request_out("rev", T0 + 1.0)
    reporter.request_out("rev", T0 + 1.0)
    # 1.5 average and 2 requests, less the one already reported.
    assert reporter.report(T0 + 1.0) == [("rev", stats.Stat(0.5, 0.0, 1.0, 0.0))]
    # A whole idle period is reported once, with zeros, and then the revision is forgotten.
    assert reporter.report(T0 + 2.0) == [("rev", stats.Stat(0.0, 0.0, 0.0, 0.0))]
    assert reporter.report(T0 + 3.0) == []
    assert reporter.request_in("rev", T0 + 3.5) == stats.Stat(1.0, 0.0, 1.0, 0.0)


def test_first_adjustment_never_goes_below_zero() -> None:
    reporter = stats.ConcurrencyReporter()
    reporter.request_in("rev", T0 + 0.9)
    reporter.request_out("rev", T0 + 1.0)
    # Measured from the first request: 1.0 less the poke's 1; the count nets to 0 too.
    assert reporter.report(T0 + 1.0) == [("rev", stats.Stat(0.0, 0.0, 0.0, 0.0))]


def test_revision_with_a_request_in_flight_is_kept() -> None:
    reporter = stats.ConcurrencyReporter()
    reporter.request_in("rev", T0)
    assert reporter.report(T0 + 1) == [("rev", stats.Stat(0.0, 0.0, 0.0, 0.0))]
    assert reporter.report(T0 + 2) == [("rev", stats.Stat(1.0, 0.0, 0.0, 0.0))]


# -- TimedBuckets: the linear window average --------------------------------------------------


def run(buckets: stats.TimedBuckets, script: list[tuple[str, float, float]]) -> list[float]:
    """`script`: ("w", seconds after T0, value) writes, ("r", seconds, _) reads the average."""
    seen = []
    for op, at, value in script:
        if op == "w":
            buckets.record(T0 + at, value)
        else:
            seen.append(buckets.window_average(T0 + at))
    return seen


@pytest.mark.parametrize(
    "script, want",
    [
        ([("r", 0, 0)], [0.0]),  # never written
        # Only the buckets since the first write count while the window fills.
        ([("w", 0, 1), ("r", 0, 0)], [1.0]),
        ([("w", 0, 1), ("w", 1, 2), ("w", 2, 3), ("r", 2.9, 0)], [2.0]),
        # Full window: 1..5 over five buckets.
        ([("w", i, i + 1) for i in range(5)] + [("r", 4, 0)], [3.0]),
        # Reading before the last write: the same as at it.
        ([("w", i, i + 1) for i in range(5)] + [("r", 3.6, 0)], [3.0]),
        # Two silent seconds after the last write leave them out of sum and count: 12/3.
        ([("w", i, i + 1) for i in range(5)] + [("r", 6, 0)], [4.0]),
        # A whole window of silence reads 0.
        ([("w", i, i + 1) for i in range(5)] + [("r", 8, 0), ("r", 9, 0)], [5.0, 0.0]),
        # A gap between writes counts as zeros: (3 + 4 + 5 + 0 + 91) / 5.
        ([("w", i, i + 1) for i in range(5)] + [("w", 6, 91), ("r", 6, 0)], [(15 - 3 + 91) / 5]),
        # Values in the same second add up (the router's and a scraper's stats).
        ([("w", 0, 1), ("w", 0.5, 2), ("r", 0.9, 0)], [3.0]),
        # After a window of silence, a write starts over.
        ([("w", 0, 100), ("w", 60, 1984), ("r", 60, 0)], [1984.0]),
        # A late write inside the window lands in its own bucket and widens the average.
        ([("w", 60, 1984), ("w", 57, 4), ("r", 60, 0)], [(4 + 1984) / 4]),
        ([("w", 60, 1984), ("w", 57, 4), ("w", 61, 5), ("r", 61, 0)], [(4 + 1984 + 5) / 5]),
        # A write a whole window older than the last one is dropped.
        ([("w", 60, 10), ("w", 55, 7), ("w", 54, 7), ("r", 60, 0)], [10.0]),
        # Exactly one window after the last write: start over.
        ([("w", 0, 10), ("w", 5, 20), ("r", 5, 0)], [20.0]),
        # Descending writes, one per second, fill the window as well.
        ([("w", i, 5) for i in range(8, -1, -1)] + [("r", 5, 0)], [5.0]),
        # Rounded to six digits, half away from zero.
        ([("w", 0, 1), ("w", 1, 1), ("w", 2, 0), ("r", 2, 0)], [0.666667]),
    ],
)
def test_timed_buckets(script, want) -> None:
    assert run(stats.TimedBuckets(5.0), script) == want


@pytest.mark.parametrize(
    "script, now, empty",
    [
        ([], 0, True),
        ([("w", 0, 1)], 0, False),
        ([("w", 0, 1)], 5, False),  # a window after: not yet empty (strictly more)
        ([("w", 0, 1)], 6, True),
        ([("w", 0, 0)], 1, False),  # a written zero is data
    ],
)
def test_is_empty(script, now, empty) -> None:
    buckets = stats.TimedBuckets(5.0)
    run(buckets, script)
    assert buckets.is_empty(T0 + now) is empty


# -- WeightedBuckets: exponential weights -----------------------------------------------------


@pytest.mark.parametrize(
    "buckets, alpha",
    [(100, 0.2), (60, 0.2), (40, 0.20567), (6, 0.78456), (5, 1 - 0.0001 ** (1 / 5))],
)
def test_smoothing_coefficient(buckets, alpha) -> None:
    assert stats.smoothing_coefficient(buckets) == pytest.approx(alpha, abs=1e-5)


def test_weighted_average() -> None:
    buckets = stats.WeightedBuckets(5.0)
    m = stats.smoothing_coefficient(5)
    buckets.record(T0, 2)
    assert buckets.window_average(T0) == pytest.approx(2 * m)
    # A second later with no write: the empty bucket uses up weight.
    assert buckets.window_average(T0 + 1) == pytest.approx(2 * m * (1 - m))
    buckets.record(T0 + 1, 2)
    assert buckets.window_average(T0 + 1) == pytest.approx(2 * m + 2 * m * (1 - m))
    for i in range(5):
        buckets.record(T0 + 2 + i, i + 2)  # the window holds 2, 3, 4, 5, 6
    want = sum(v * m * (1 - m) ** k for k, v in enumerate([6, 5, 4, 3, 2]))
    assert buckets.window_average(T0 + 6) == pytest.approx(want)
    assert buckets.window_average(T0 + 16) == 0.0
    # The order matters, unlike the plain mean: newest weighs most.
    older_first = stats.WeightedBuckets(5.0)
    for i, v in enumerate([10, 10, 5, 5]):
        older_first.record(T0 + i, v)
    newer_first = stats.WeightedBuckets(5.0)
    for i, v in enumerate([5, 5, 10, 10]):
        newer_first.record(T0 + i, v)
    assert older_first.window_average(T0 + 3) < newer_first.window_average(T0 + 3)


# -- Collection: what the autoscaler reads -----------------------------------------------------


def test_collection_subtracts_proxied_and_keeps_both_windows() -> None:
    collection = stats.Collection(60.0, 6.0)
    for i in range(60):
        collection.record(T0 + i, stats.Stat(10.0 if i < 54 else 40.0, 0.0, 5.0, 0.0))
    collection.record(T0 + 59, stats.Stat(3.0, 3.0, 2.0, 2.0))  # all proxied: adds nothing
    stable, panic = collection.stable_and_panic(stats.CONCURRENCY, T0 + 59)
    assert stable == (54 * 10 + 6 * 40) / 60
    assert panic == 40.0
    assert collection.stable_and_panic(stats.RPS, T0 + 59) == (5.0, 5.0)


@pytest.mark.parametrize(
    "scraped, want", [(True, None), (False, (0.0, 0.0))]
)  # fmt: skip
def test_collection_without_data(scraped, want) -> None:
    # Scraped stats arrive every second: nothing means no data yet (Knative's ErrNoData).
    # Stats that arrive with traffic only: nothing means no traffic.
    collection = stats.Collection(60.0, 6.0, scraped=scraped)
    assert collection.stable_and_panic(stats.CONCURRENCY, T0) == want


def test_weighted_collection() -> None:
    collection = stats.Collection(6.0, 1.0, weighted=True)
    collection.record(T0, stats.Stat(10.0))
    stable, panic = collection.stable_and_panic(stats.CONCURRENCY, T0)
    assert stable == pytest.approx(10 * stats.smoothing_coefficient(6))
    assert panic == pytest.approx(10 * 0.9999)  # one bucket: α = 1 - 0.0001


# -- resizing a window keeps the newest buckets (Knative's ResizeWindow) ----------------------


@pytest.mark.parametrize(
    "window, now, reads",
    [
        # Growing: the five buckets stay; the data counts as a whole old window.
        (10.0, 4, [(4, 3.0)]),
        # Shrinking: the newest two stay: (4 + 5) / 2.
        (2.0, 4, [(4, 4.5)]),
        # Nothing written within the old window: nothing is kept.
        (10.0, 20, [(20, 0.0)]),
        (5.0, 4, [(4, 3.0)]),  # the same window: unchanged
    ],
)
def test_resize(window, now, reads) -> None:
    buckets = stats.TimedBuckets(5.0)
    for i in range(5):
        buckets.record(T0 + i, i + 1)
    buckets.resize(window, T0 + now)
    assert buckets.window == window
    assert [buckets.window_average(T0 + at) for at, _ in reads] == [want for _, want in reads]


def test_resize_then_fill_the_larger_window() -> None:
    buckets = stats.TimedBuckets(5.0)
    for i in range(5):
        buckets.record(T0 + i, i + 1)
    buckets.resize(10.0, T0 + 4)
    for i in range(5, 10):
        buckets.record(T0 + i, 10)
    assert buckets.window_average(T0 + 9) == (15 + 50) / 10


def test_resize_after_silence_starts_over_on_the_next_write() -> None:
    buckets = stats.TimedBuckets(5.0)
    buckets.record(T0, 100)
    buckets.resize(60.0, T0 + 10)  # stale: the old window saw nothing for 10 s
    buckets.record(T0 + 11, 4)
    assert buckets.window_average(T0 + 11) == 4.0


def test_weighted_resize_recomputes_the_coefficient() -> None:
    buckets = stats.WeightedBuckets(5.0)
    buckets.record(T0, 10)
    buckets.resize(60.0, T0)
    assert buckets.window_average(T0) == pytest.approx(10 * 0.2)


def test_collection_resize() -> None:
    collection = stats.Collection(6.0, 1.0)
    for i in range(6):
        collection.record(T0 + i, stats.Stat(float(i), 0.0, 1.0))
    collection.resize(60.0, 6.0, T0 + 5)
    # The 1 s panic window only had its newest second to keep.
    assert collection.stable_and_panic(stats.CONCURRENCY, T0 + 5) == (15 / 6, 5.0)
    assert collection.stable_and_panic(stats.RPS, T0 + 5) == (1.0, 1.0)
