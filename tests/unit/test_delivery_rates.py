"""Live edge figures from the dispatch metrics (pure): totals per target, p99 from buckets,
and the figures of an interval."""

from __future__ import annotations

import math

import pytest

from controllers.platforms.local import delivery_rates as dr
from controllers.platforms.local.delivery_rates import Figures, Totals
from ripple import metrics

TRIGGER = {**metrics.trigger_labels("ns", "b", "t"), "cloudevents_type": "x"}


@pytest.mark.parametrize("labels, target", [
    (metrics.trigger_labels("ns", "b", "t"), ("ns", "trigger:t")),
    (metrics.subscription_labels("ns", "c", "s"), ("ns", "subscription:s")),
    (metrics.source_labels("ns", "PingSource", "p"), ("ns", "pingsource:p")),
    (metrics.source_labels("ns", "GitHubSource", "g"), ("ns", "githubsource:g")),
    ({"kn_namespace_name": "ns"}, None),
])
def test_target_of(labels: dict[str, str], target: tuple[str, str] | None) -> None:
    assert dr.target_of(labels) == target


@pytest.mark.parametrize("code, failed", [("200", False), ("202", False), ("299", False),
                                          ("300", True), ("500", True), ("", True), ("429", True)])
def test_failed(code: str, failed: bool) -> None:
    assert dr.failed(code) is failed


def test_totals_add_up_types_and_codes() -> None:
    samples = [
        ("kn_eventing_dispatch_events_total", {**TRIGGER, "http_response_status_code": "202"}, 3.0),
        ("kn_eventing_dispatch_events_total", {**TRIGGER, "cloudevents_type": "y", "http_response_status_code": "500"}, 2.0),
        ("kn_eventing_dispatch_duration_seconds_bucket", {**TRIGGER, "le": "0.01"}, 4.0),
        ("kn_eventing_dispatch_duration_seconds_bucket", {**TRIGGER, "cloudevents_type": "y", "le": "0.01"}, 1.0),
        ("kn_eventing_dispatch_duration_seconds_bucket", {**TRIGGER, "le": "+Inf"}, 5.0),
        ("kn_eventing_dispatch_events_total", {"kn_namespace_name": "ns"}, 9.0),
    ]
    assert dr.totals(samples) == {("ns", "trigger:t"): Totals(5.0, 2.0, {0.01: 5.0, math.inf: 5.0})}


@pytest.mark.parametrize("buckets, p99", [
    ({}, None),
    ({0.1: 0.0, math.inf: 0.0}, None),
    ({0.1: 100.0, math.inf: 100.0}, 0.099),  # interpolated within the first bucket
    ({0.1: 50.0, 0.2: 100.0, math.inf: 100.0}, 0.198),
    ({0.1: 50.0, math.inf: 100.0}, 0.1),  # in the open bucket: its lower bound
])
def test_quantile(buckets: dict[float, float], p99: float | None) -> None:
    got = dr.quantile(0.99, buckets)
    assert got == pytest.approx(p99) if p99 is not None else got is None


@pytest.mark.parametrize("old, new, seconds, figures", [
    (None, None, 5.0, dr.NO_FIGURES),
    (Totals(), Totals(), 0.0, dr.NO_FIGURES),
    (Totals(10, 1, {0.1: 10, math.inf: 10}), Totals(10, 1, {0.1: 10, math.inf: 10}), 5.0,
     Figures(0.0, None, None)),
    (None, Totals(10, 5, {0.1: 10, math.inf: 10}), 5.0, Figures(2.0, 0.5, pytest.approx(0.099))),
    (Totals(10, 5, {0.1: 10, 1.0: 10, math.inf: 10}), Totals(20, 5, {0.1: 10, 1.0: 20, math.inf: 20}), 2.0,
     Figures(5.0, 0.0, pytest.approx(0.991))),
])
def test_between(old: Totals | None, new: Totals | None, seconds: float, figures: Figures) -> None:
    assert dr.between(old, new, seconds) == figures


def test_rates_compare_with_a_reading_about_a_window_old() -> None:
    now = [0.0]
    count = [0.0]

    def sample() -> list[tuple[str, dict[str, str], float]]:
        return [("kn_eventing_dispatch_events_total", {**TRIGGER, "http_response_status_code": "202"}, count[0])]

    rates = dr.Rates(sample, clock=lambda: now[0])
    target = ("ns", "trigger:t")
    assert rates.figures()(target) == dr.NO_FIGURES  # one reading: no rate yet
    steps = [(1.0, 10.0, 10.0), (2.0, 20.0, 10.0), (6.0, 60.0, 10.0), (7.0, 60.0, 8.0)]
    for at, total, rate in steps:
        now[0], count[0] = at, total
        assert rates.figures()(target).rate == pytest.approx(rate), at
    assert rates.figures()(("ns", "trigger:other")).rate == 0.0  # never delivered: 0/s


@pytest.mark.parametrize("totals", [
    Totals(),
    Totals(3, 1, {0.005: 1, 0.1: 3, math.inf: 3}),
    Totals(2.5, 0, {math.inf: 2.5}),
])
def test_encode_decode(totals: Totals) -> None:
    assert dr.decode(dr.encode(totals)) == totals


def test_add_sums_two_workers_totals() -> None:
    into = Totals(3, 1, {0.1: 2, math.inf: 3})
    dr.add(into, Totals(5, 0, {0.1: 4, 1.0: 5, math.inf: 5}))
    assert into == Totals(8, 1, {0.1: 6, 1.0: 5, math.inf: 8})


@pytest.mark.parametrize("reading, published, fields", [
    ({}, {}, []),
    ({("ns", "trigger:a"): Totals(1)}, {}, ["ns/trigger:a"]),
    ({("ns", "trigger:a"): Totals(1)}, {("ns", "trigger:a"): Totals(1)}, []),
    ({("ns", "trigger:a"): Totals(2), ("ns", "trigger:b"): Totals(1)},
     {("ns", "trigger:a"): Totals(1), ("ns", "trigger:b"): Totals(1)}, ["ns/trigger:a"]),
])
def test_only_the_targets_that_moved_are_published(reading, published, fields) -> None:
    assert sorted(dr.changed(reading, published)) == fields


def test_a_target_is_compared_only_with_a_reading_that_covered_it() -> None:
    """The mesh's readings cover the targets a page asked for: another page's reading
    without a target is no zero to compare with."""
    now = [0.0]
    rates = dr.Rates(list, clock=lambda: now[0])
    a, b = ("ns", "trigger:a"), ("ns", "trigger:b")
    rates.record({a: Totals(100)}, frozenset({a}))
    now[0] = 2.0
    rates.record({b: Totals(50)}, frozenset({b}))
    now[0] = 4.0
    figures = rates.record({a: Totals(120), b: Totals(60)}, frozenset({a, b}))
    assert figures(a).rate == pytest.approx(5.0)  # (120 - 100) / 4 s
    assert figures(b).rate == pytest.approx(5.0)  # (60 - 50) / 2 s, not 60 / 4 s
    assert rates.record({}, frozenset())(("ns", "trigger:c")) == dr.NO_FIGURES
