"""Tables for controllers.autoscaling: the spec merge, the decider's tick, the scaler, decide."""

from __future__ import annotations

import dataclasses

import pytest

from controllers.autoscaling import kpa, scaler, scaling, specs
from controllers.autoscaling.scaler import ACTIVATING, ACTIVE, INACTIVE, Activity
from serving import stats

T = 1_700_000_000.0
A = "autoscaling.knative.dev/"


# -- specs ------------------------------------------------------------------------------------


def test_knative_defaults() -> None:
    spec = kpa.Spec()
    assert (spec.target_value, spec.total_value) == (70.0, 100.0)
    assert (spec.stable_window, spec.panic_window, spec.panic_threshold) == (60.0, 6.0, 2.0)
    assert (spec.max_scale_up_rate, spec.max_scale_down_rate) == (1000.0, 2.0)
    assert (spec.scale_to_zero_grace_period, spec.enable_scale_to_zero) == (30.0, True)
    assert (spec.initial_scale, spec.scale_bounds, spec.target_burst_capacity) == (1, (0, 0), 211)


@pytest.mark.parametrize(
    "annotations, want",
    [
        ({}, {}),
        ({A + "min-scale": "2", A + "max-scale": "10"}, {"min_scale": 2, "max_scale": 10}),
        ({A + "minScale": "3", A + "maxScale": "4"}, {"min_scale": 3, "max_scale": 4}),  # legacy
        ({A + "min-scale": "2", A + "minScale": "3"}, {"min_scale": 2}),  # new name first
        ({A + "min-scale": "two"}, {}),  # invalid: the webhook's job, the default holds
        ({A + "min-scale": "1.5"}, {}),
        ({A + "max-scale": "3000000000"}, {}),  # out of int32
        ({A + "target": "10"}, {"target": 10.0}),
        ({A + "target": "1e1"}, {"target": 10.0}),
        ({A + "target-utilization-percentage": "80"}, {"target_utilization_percentage": 80.0}),
        ({A + "targetUtilizationPercentage": "80"}, {"target_utilization_percentage": 80.0}),
        ({A + "metric": "rps"}, {"metric": "rps"}),
        ({A + "window": "10s"}, {"stable_window": 10.0}),
        ({A + "window": "1m30s"}, {"stable_window": 90.0}),
        ({A + "window": "90"}, {}),  # a Go duration needs a unit
        ({A + "scale-down-delay": "15s"}, {"scale_down_delay": 15.0}),
        ({A + "scaleDownDelay": "1.5m"}, {"scale_down_delay": 90.0}),
        ({A + "scale-to-zero-pod-retention-period": "1m"}, {"scale_to_zero_pod_retention_period": 60.0}),
        ({A + "panic-window-percentage": "20"}, {"panic_window_percentage": 20.0}),
        ({A + "panicThresholdPercentage": "150"}, {"panic_threshold_percentage": 150.0}),
        ({A + "target-burst-capacity": "-1"}, {"target_burst_capacity": -1.0}),
        ({A + "initial-scale": "3"}, {"initial_scale": 3}),
        ({A + "initialScale": "0"}, {}),  # zero needs allow-zero-initial-scale
        ({A + "activation-scale": "2"}, {"activation_scale": 2}),
        ({A + "metric-aggregation-algorithm": "weightedExponential"},
         {"metric_aggregation_algorithm": "weightedExponential"}),
        ({"serving.knative.dev/progress-deadline": "30s"}, {"progress_deadline": 30.0}),
        ({"other/min-scale": "5"}, {}),
    ],
)  # fmt: skip
def test_spec_from(annotations, want) -> None:
    assert kpa.spec_from(annotations, kpa.Spec()) == dataclasses.replace(kpa.Spec(), **want)


def test_spec_from_keeps_cluster_defaults_and_takes_the_revision_fields() -> None:
    cluster = kpa.Spec(stable_window=6.0, scale_to_zero_grace_period=6.0, allow_zero_initial_scale=True)
    spec = kpa.spec_from(
        {A + "initial-scale": "0"}, cluster, container_concurrency=10, reachable=False
    )
    assert (spec.stable_window, spec.scale_to_zero_grace_period) == (6.0, 6.0)
    assert (spec.initial_scale, spec.container_concurrency, spec.reachable) == (0, 10, False)


@pytest.mark.parametrize(
    "fields, target, total",
    [
        ({}, 70.0, 100.0),
        ({"container_concurrency": 10}, 7.0, 10.0),
        ({"target": 50.0}, 35.0, 50.0),
        ({"target": 50.0, "container_concurrency": 10}, 7.0, 10.0),  # capped by the hard limit
        ({"target": 5.0, "container_concurrency": 10}, 3.5, 5.0),
        ({"target": 10.0, "target_utilization_percentage": 100.0}, 10.0, 10.0),
        ({"metric": "rps"}, 140.0, 200.0),
        ({"metric": "rps", "container_concurrency": 10}, 140.0, 200.0),  # rps ignores CC
        ({"metric": "rps", "target": 300.0, "container_concurrency": 10}, 210.0, 300.0),
        ({"target": 0.001}, 0.01, 0.001),  # at least TargetMin
        ({"container_concurrency_target_default": 50.0}, 35.0, 50.0),
        ({"container_concurrency_target_fraction": 0.5}, 50.0, 100.0),
    ],
)
def test_target_resolution(fields, target, total) -> None:
    spec = kpa.Spec(**fields)
    assert spec.target_value == pytest.approx(target)
    assert spec.total_value == total


@pytest.mark.parametrize(
    "stable, percentage, panic",
    [(60, 10, 6), (6, 10, 1), (65, 10, 7), (100, 15, 15), (10, 1, 1), (3600, 100, 3600)],
)
def test_panic_window(stable, percentage, panic) -> None:
    spec = kpa.Spec(stable_window=stable, panic_window_percentage=percentage)
    assert spec.panic_window == panic


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("60s", 60.0), ("1m", 60.0), ("1h", 3600.0), ("1m30s", 90.0), ("1.5s", 1.5),
        ("500ms", 0.5), ("0", 0.0), ("-2s", -2.0), (".5s", 0.5), ("2us", 2e-6),
        ("", None), ("s", None), ("60", None), ("1d", None), ("1 s", None), (".s", None),
    ],
)  # fmt: skip
def test_parse_go_duration(text, seconds) -> None:
    got = specs.parse_go_duration(text)
    assert got == (pytest.approx(seconds) if seconds is not None else None)


# -- scaling.scale: Knative's Scale() ---------------------------------------------------------


@pytest.mark.parametrize(
    "fields, observed, ready, state, want",
    [
        # (desired, excess burst capacity, reason), then panicking and max panic pods.
        ({}, (140, 140), 2, scaling.Panic(), (2, -151, "Stable", False, 0)),
        ({}, (0, 0), 0, scaling.Panic(), (0, -211, "Stable", False, 0)),
        ({}, (71, 71), 2, scaling.Panic(), (2, -82, "Stable", False, 0)),  # ceil
        # Scale down at most by half per tick: 10 ready, 1 wanted -> 5.
        ({}, (70, 70), 10, scaling.Panic(), (5, 719, "Stable", False, 0)),
        # Scale up limited: ceil(1.5 x 2) = 3.
        ({"max_scale_up_rate": 1.5}, (700, 0), 2, scaling.Panic(), (3, -11, "Stable", False, 0)),
        # Knative's own case: rate 1.1, 2 ready, target 1, 3 wanted: ceil(2.2) = 3.
        ({"max_scale_up_rate": 1.1, "target": 1.0, "target_utilization_percentage": 100.0},
         (3, 0), 2, scaling.Panic(), (3, -209, "Stable", False, 0)),
        # Panic entry: ceil(140.1 / 70) = 3 pods for 1 ready is 3x >= 2x.
        ({}, (10, 140.1), 1, scaling.Panic(), (3, -252, "Panic", True, 3)),
        # Exactly at the threshold: 4 wanted for 2 ready.
        ({}, (10, 280), 2, scaling.Panic(), (4, -291, "Panic", True, 4)),
        ({}, (10, 210), 2, scaling.Panic(), (1, -221, "Stable", False, 0)),
        # In panic nothing goes down: 8 held although 4 would do.
        ({}, (70, 70), 8, scaling.Panic(T - 5, 8), (8, 519, "Panic", True, 8)),
        # In panic the larger of the two windows counts and raises the hold.
        ({}, (700, 70), 8, scaling.Panic(T - 5, 8), (10, 519, "Panic", True, 10)),
        # Panic ends a stable window after the last crossing (strictly after).
        ({}, (70, 70), 8, scaling.Panic(T - 61, 8), (4, 519, "Stable", False, 0)),
        ({}, (70, 70), 8, scaling.Panic(T - 60, 8), (8, 519, "Panic", True, 8)),
        # Unreachable: no floor on scaling down.
        ({"reachable": False}, (0, 0), 10, scaling.Panic(), (0, 789, "Stable", False, 0)),
        # Activation scale lifts a non-zero want, not zero.
        ({"activation_scale": 3}, (10, 10), 0, scaling.Panic(), (3, -221, "Stable", False, 0)),
        ({"activation_scale": 3}, (0, 0), 0, scaling.Panic(), (0, -211, "Stable", False, 0)),
        # Excess burst capacity: TBC 0, -1, and 50 with 3 ready under a panic load of 100.
        ({"target_burst_capacity": 0}, (70, 70), 1, scaling.Panic(), (1, 0, "Stable", False, 0)),
        ({"target_burst_capacity": -1}, (70, 70), 1, scaling.Panic(), (1, -1, "Stable", False, 0)),
        ({"target_burst_capacity": 50}, (100, 100), 3, scaling.Panic(), (2, 150, "Stable", False, 0)),
        # rps: 300 rps at 140 per replica; capacity 3 x 200.
        ({"metric": "rps"}, (300, 300), 3, scaling.Panic(), (3, 89, "Stable", False, 0)),
    ],
)  # fmt: skip
def test_scale(fields, observed, ready, state, want) -> None:
    result, after = scaling.scale(kpa.Spec(**fields), observed, ready, T, state)
    assert result.valid
    got = (result.desired, result.excess_burst_capacity, result.reason)
    assert got + (after.panicking, after.max_panic_pods) == want
    if after.panicking and not state.panicking:
        assert after.panic_time == T


def test_scale_extends_panic_while_over_the_threshold() -> None:
    _, after = scaling.scale(kpa.Spec(), (0, 700), 2, T, scaling.Panic(T - 30, 2))
    assert after.panic_time == T


def test_scale_without_metrics_is_invalid_and_keeps_state() -> None:
    state = scaling.Panic(T - 5, 4)
    result, after = scaling.scale(kpa.Spec(), None, 4, T, state)
    assert (result.valid, result.reason, after) == (False, "NoMetrics", state)


@pytest.mark.parametrize("ready, panicking", [(0, False), (1, False), (2, True), (7, True)])
def test_a_new_decider_panics_over_more_than_one_ready_pod(ready, panicking) -> None:
    state = scaling.starting(ready, T)
    assert (state.panicking, state.max_panic_pods) == (panicking, ready)


def test_scale_down_delay_holds_the_maximum_of_the_delay() -> None:
    spec = kpa.Spec(scale_down_delay=10.0, max_scale_down_rate=1000.0)
    state = scaling.Panic()
    wanted = [5, 5, 1, 1, 1, 1, 1, 1, 3, 1]
    got = []
    for tick, stable in enumerate(wanted):
        result, state = scaling.scale(spec, (stable * 70, 0), 5, T + 2 * tick, state)
        got.append((result.desired, result.reason))
    # The 5 of t=2 s holds until t=12 s; a 3 at t=16 s holds for 10 s again.
    assert got == [
        (5, "Stable"), (5, "Stable"), (5, "ScaleDownDelay"), (5, "ScaleDownDelay"),
        (5, "ScaleDownDelay"), (5, "ScaleDownDelay"), (1, "Stable"), (1, "Stable"),
        (3, "Stable"), (3, "ScaleDownDelay"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "window, slot, value, size, want",
    [
        ((), 0, 3, 5, ((0, 3),)),
        (((0, 3),), 1, 5, 5, ((1, 5),)),  # a larger newer value replaces
        (((0, 5),), 1, 3, 5, ((0, 5), (1, 3))),  # a smaller one queues behind
        (((0, 5), (1, 3)), 5, 1, 5, ((1, 3), (5, 1))),  # slot 0 has left the window
        (((0, 5),), 0, 3, 5, ((0, 5),)),  # the same slot twice: the larger
        (((0, 3),), 0, 5, 5, ((0, 5),)),
    ],
)
def test_record_max(window, slot, value, size, want) -> None:
    assert scaling.record_max(window, slot, value, size) == want


# -- scaler.scale: bounds and scale to zero ---------------------------------------------------


def act(active: str, seconds_ago: float, **fields) -> Activity:
    return Activity(active, since=T - seconds_ago, **fields)


@pytest.mark.parametrize(
    "fields, desired, activity, want",
    [
        ({}, -1, act(ACTIVE, 100), (-1, False, "NoMetrics", None)),
        # Activating without metrics: -1 is bounded to 0, and waits for activation.
        ({}, -1, act(ACTIVATING, 5), (-1, False, "Activating", 630.0)),
        ({}, -1, act(ACTIVATING, 631), (0, True, "ActivationTimedOut", None)),
        ({"progress_deadline": 10.0}, 0, act(ACTIVATING, 41), (0, True, "ActivationTimedOut", None)),
        ({}, 3, act(ACTIVE, 1), (3, True, "", None)),
        ({"max_scale": 2}, 3, act(ACTIVE, 1), (2, True, "MaxScale", None)),
        ({"min_scale": 2}, 0, act(ACTIVE, 100), (2, True, "MinScale", None)),
        ({"min_scale": 2, "reachable": False}, 1, act(ACTIVE, 100), (1, True, "", None)),
        # Initial scale holds until the scale target is initialised, while reachable.
        ({"initial_scale": 3}, 1, act(ACTIVATING, 1), (3, True, "InitialScale", None)),
        ({"initial_scale": 3}, 5, act(ACTIVATING, 1), (5, True, "", None)),
        ({"initial_scale": 3, "min_scale": 4}, 1, act(ACTIVATING, 1), (4, True, "MinScale", None)),
        ({"initial_scale": 2, "max_scale": 4}, 5, act(ACTIVATING, 1), (4, True, "MaxScale", None)),
        ({"initial_scale": 3}, 1, act(ACTIVE, 1, scale_target_initialized=True), (1, True, "", None)),
        ({"initial_scale": 3, "reachable": False}, 1, act(ACTIVATING, 1), (1, True, "", None)),
        ({"enable_scale_to_zero": False}, 0, act(INACTIVE, 100), (1, True, "ScaleToZeroDisabled", None)),
        # Active: hold one replica for a stable window, then give it up (not applied).
        ({}, 0, act(ACTIVE, 10), (1, True, "StableWindow", 50.0)),
        ({}, 0, act(ACTIVE, 60), (0, False, "Deactivating", None)),
        # Inactive: zero after the grace period ...
        ({}, 0, act(INACTIVE, 30), (0, True, "ScaleToZero", None)),
        ({}, 0, act(INACTIVE, 5), (0, False, "GracePeriod", 30.0)),  # the whole grace, not proxied yet
        # ... or at once when requests have gone through the activator for that long.
        ({}, 0, act(INACTIVE, 5, proxy_since=T - 30), (0, True, "ScaleToZero", None)),
        ({}, 0, act(INACTIVE, 5, proxy_since=T - 10), (0, False, "GracePeriod", 20.0)),
        # Pod retention keeps the last replica longer, only while reachable.
        ({"scale_to_zero_pod_retention_period": 60.0}, 0, act(INACTIVE, 30, proxy_since=T - 99),
         (0, False, "PodRetention", 30.0)),
        ({"scale_to_zero_pod_retention_period": 60.0}, 0, act(INACTIVE, 60), (0, True, "ScaleToZero", None)),
        ({"scale_to_zero_pod_retention_period": 60.0, "reachable": False}, 0, act(INACTIVE, 30),
         (0, True, "ScaleToZero", None)),
        ({"scale_to_zero_grace_period": 6.0}, 0, act(INACTIVE, 6), (0, True, "ScaleToZero", None)),
    ],
)  # fmt: skip
def test_scaler(fields, desired, activity, want) -> None:
    assert tuple(scaler.scale(kpa.Spec(**fields), desired, activity, T)) == want


# -- decide: one tick and one reconcile, the state carried ------------------------------------


class Run:
    """Drives `decide` every 2 s over a load; replicas become ready on the next tick."""

    def __init__(self, spec: kpa.Spec, ready: int = 0) -> None:
        self.spec = spec
        self.collection = kpa.new_collection(spec)
        self.state: kpa.State | None = None
        self.ready = ready
        self.now = T
        self.log: list[kpa.Decision] = []

    def tick(self, load: float = 0.0, record: bool = True) -> kpa.Decision:
        for second in (0.0, 1.0):
            if record:
                self.collection.record(self.now + second, stats.Stat(load, 0.0, load))
        self.now += 2.0
        decision = kpa.decide(self.spec, self.collection, self.now - 0.5, self.state, ready=self.ready)
        self.state = decision.state
        self.log.append(decision)
        if decision.replicas is not None:
            self.ready = decision.replicas
        return decision

    def until(self, predicate, load: float = 0.0, limit: int = 200) -> float:
        for _ in range(limit):
            if predicate(self.tick(load)):
                return self.now - T
        raise AssertionError("never happened")


def test_a_new_revision_activates_holds_a_stable_window_then_scales_to_zero() -> None:
    # Knative's defaults: TBC 211 keeps the activator in the path, so no grace wait.
    run = Run(kpa.Spec(), ready=1)  # the workload is created at initial-scale
    first = run.tick()
    assert (first.replicas, first.reason, first.state.activity.active) == (None, "Activating", ACTIVE)
    assert run.tick().reason == "StableWindow"
    deactivated = run.until(lambda d: d.reason == "Deactivating")
    assert deactivated == 62.0  # active from t=2 s, for a whole stable window
    assert run.log[-1].state.activity.active == INACTIVE
    zero = run.tick()
    assert (zero.replicas, zero.reason, zero.mode) == (0, "ScaleToZero", kpa.PROXY)


def test_without_the_activator_in_the_path_zero_waits_the_grace_period() -> None:
    run = Run(kpa.Spec(target_burst_capacity=0), ready=1)
    assert run.until(lambda d: d.reason == "Deactivating") == 62.0
    assert run.until(lambda d: d.replicas == 0) == 92.0  # 30 s of grace
    assert {d.reason for d in run.log[31:-1]} == {"GracePeriod"}


def test_poke_scales_from_zero_and_back() -> None:
    run = Run(kpa.Spec(stable_window=6.0, scale_to_zero_grace_period=6.0), ready=1)
    run.until(lambda d: d.replicas == 0)
    stat = stats.Stat(1.0, 0.0, 1.0)
    assert kpa.poke(run.log[-1].state, stat)
    up = run.tick(load=1.0)
    assert (up.replicas, up.state.activity.active, up.state.activity.reason) == (1, ACTIVATING, "Queued")
    assert run.tick(load=1.0).state.activity.active == ACTIVE
    assert not kpa.poke(run.log[-1].state, stat)


def test_scale_to_zero_disabled_keeps_one() -> None:
    run = Run(kpa.Spec(enable_scale_to_zero=False, stable_window=6.0), ready=1)
    for _ in range(30):
        assert run.tick().replicas == 1
    assert run.log[-1].reason == "ScaleToZeroDisabled"


def test_min_scale_is_kept_without_traffic() -> None:
    run = Run(kpa.Spec(min_scale=2), ready=2)
    for _ in range(60):
        assert run.tick().replicas == 2


def test_initial_scale_until_reached() -> None:
    run = Run(kpa.Spec(initial_scale=3), ready=0)
    assert run.tick().replicas == 3
    assert run.log[-1].state.activity.active == ACTIVATING
    second = run.tick()
    assert (second.state.activity.active, second.state.activity.scale_target_initialized) == (
        ACTIVE, True,
    )  # fmt: skip
    # Initialised, the decider's wish applies: the load wants 1 (3 may halve to floor(1.5)).
    assert [run.tick(load=10.0).replicas for _ in range(3)] == [1, 1, 1]


def test_a_restarted_autoscaler_starts_in_panic_over_its_ready_replicas() -> None:
    run = Run(kpa.Spec(stable_window=10.0), ready=4)
    first = run.tick()
    assert (first.replicas, first.panicking, first.reason) == (4, True, "Panic")
    # Started at t=1.5 s; panic ends at the first tick strictly after 1.5 + 10 s.
    assert run.until(lambda d: not d.panicking) == 14.0
    assert run.log[-1].replicas == 2


def test_activation_times_out_to_zero() -> None:
    run = Run(kpa.Spec(progress_deadline=10.0), ready=0)
    assert run.tick().reason == "Activating"  # the replica never becomes ready
    run.ready = 0
    timed_out = run.until(lambda d: d.reason == "ActivationTimedOut")
    assert timed_out == 44.0  # activating since t=1.5 s, for more than 10 s + 30 s
    assert run.log[-1].state.activity.reason == "TimedOut"


def test_desired_replicas_keeps_the_last_known_value() -> None:
    spec = kpa.Spec()
    state = kpa.State(desired_scale=-1, activity=act(ACTIVE, 5), desired_replicas=3)
    collection = stats.Collection(60.0, 6.0, scraped=True)  # no data: the decider is invalid
    decision = kpa.decide(spec, collection, T, state, ready=3)
    assert (decision.replicas, decision.desired_replicas, decision.reason) == (None, 3, "NoMetrics")


@pytest.mark.parametrize(
    "tbc, ready, load, mode",
    [
        (211, 1, 10, kpa.PROXY),  # 100 - 211 - 10 < 0: the activator buffers
        (211, 4, 10, kpa.SERVE),  # 400 - 211 - 10 >= 0
        (0, 1, 10, kpa.SERVE),
        (-1, 4, 10, kpa.PROXY),  # always through the activator
    ],
)
def test_mode_follows_excess_burst_capacity(tbc, ready, load, mode) -> None:
    spec = kpa.Spec(target_burst_capacity=tbc)
    collection = kpa.new_collection(spec)
    collection.record(T, stats.Stat(load))
    state = kpa.State(activity=act(ACTIVE, 5, scale_target_initialized=True))
    assert kpa.decide(spec, collection, T, state, ready=ready).mode == mode


def test_initial_excess_burst_capacity() -> None:
    assert kpa.starting(kpa.Spec(), 0, T).excess_burst_capacity == 100 - 211
    assert kpa.starting(kpa.Spec(initial_scale=3), 0, T).excess_burst_capacity == 300 - 211
    assert kpa.starting(kpa.Spec(target_burst_capacity=-1), 0, T).excess_burst_capacity == -1
    assert kpa.starting(kpa.Spec(target_burst_capacity=0), 0, T).excess_burst_capacity == 0


def test_defaults_from_a_parsed_config_autoscaler() -> None:
    # Any object with Spec's field names: the ConfigMap parser's AutoscalerConfig has them.
    @dataclasses.dataclass
    class Parsed:
        stable_window: float = 6.0
        scale_to_zero_grace_period: float = 6.0
        container_concurrency_target_fraction: float = 0.8
        max_scale_limit: int = 100  # not the autoscaler's business: ignored
        pod_autoscaler_class: str = "kpa.autoscaling.knative.dev"
        container_concurrency: int = 7  # a revision field: never taken from the cluster

    spec = kpa.defaults_from(Parsed(), progress_deadline=120.0)
    assert (spec.stable_window, spec.scale_to_zero_grace_period, spec.panic_window) == (6.0, 6.0, 1.0)
    assert (spec.target_value, spec.container_concurrency, spec.progress_deadline) == (80.0, 0, 120.0)
    assert spec.max_scale_down_rate == 2.0  # not in the object: Knative's default


# -- decide, one rule per row: a minute of load recorded, then one call -----------------------

SERVED = act(ACTIVE, 300, scale_target_initialized=True)


def decide_after(fields: dict, load: list[tuple[float, float]], ready: int, activity: Activity):
    """`load`: one (concurrency, rps) per second, the last one at T."""
    spec = kpa.Spec(**fields)
    collection = kpa.new_collection(spec)
    for i, (concurrency, rps) in enumerate(load):
        collection.record(T - len(load) + 1 + i, stats.Stat(concurrency, 0.0, rps))
    return kpa.decide(spec, collection, T + 0.5, kpa.State(activity), ready=ready)


def minute(concurrency: float, rps: float | None = None) -> list[tuple[float, float]]:
    return [(concurrency, concurrency if rps is None else rps)] * 60


@pytest.mark.parametrize(
    "fields, load, ready, activity, want",
    [
        # (replicas, reason, panicking)
        ({}, minute(140), 2, SERVED, (2, "Stable", False)),
        ({}, minute(141), 2, SERVED, (3, "Stable", False)),
        ({}, minute(70), 10, SERVED, (5, "Stable", False)),  # at most halved per tick
        # Scaling up is capped at rate x ready, even in panic.
        ({"max_scale_up_rate": 2.0}, minute(7000), 1, SERVED, (2, "Panic", True)),
        # Six seconds at 400 over a calm minute: the panic window sees it first.
        ({}, minute(10)[:54] + [(400, 400)] * 6, 1, SERVED, (6, "Panic", True)),
        # The threshold is on pods: 210 wants 3 of 2 ready (1.5x), 211 wants 4 (2x).
        ({}, minute(10)[:54] + [(210, 210)] * 6, 2, SERVED, (1, "Stable", False)),
        ({}, minute(10)[:54] + [(211, 211)] * 6, 2, SERVED, (4, "Panic", True)),
        ({"min_scale": 3}, minute(0), 3, SERVED, (3, "MinScale", False)),
        ({"max_scale": 2}, minute(700), 2, SERVED, (2, "MaxScale", True)),
        ({"initial_scale": 3}, minute(10), 1, act(ACTIVATING, 5), (3, "InitialScale", False)),
        ({"activation_scale": 3}, minute(10), 1, SERVED, (3, "Stable", False)),
        ({"container_concurrency": 10}, minute(70), 10, SERVED, (10, "Stable", False)),  # 7 each
        ({"target": 10.0}, minute(70), 10, SERVED, (10, "Stable", False)),
        # rps: 700 rps at 140 per replica; concurrency is not looked at.
        ({"metric": "rps"}, minute(1, 700), 5, SERVED, (5, "Stable", False)),
        ({}, minute(1, 700), 1, SERVED, (1, "Stable", False)),
        ({"metric_aggregation_algorithm": "weighted-exponential"}, minute(140), 2, SERVED,
         (2, "Stable", False)),
        # No load for a minute while active for five: give up the last replica ...
        ({}, minute(0), 1, SERVED, (None, "Deactivating", False)),
        # ... then zero once inactive for the grace period, or behind the activator for it.
        ({}, minute(0), 1, act(INACTIVE, 30), (0, "ScaleToZero", False)),
        ({}, minute(0), 1, act(INACTIVE, 10, proxy_since=T - 40), (0, "ScaleToZero", False)),
        ({"target_burst_capacity": 0}, minute(0), 1, act(INACTIVE, 10), (None, "GracePeriod", False)),
        ({"enable_scale_to_zero": False}, minute(0), 1, act(INACTIVE, 99), (1, "ScaleToZeroDisabled", False)),
        ({"scale_to_zero_grace_period": 6.0}, minute(0), 1, act(INACTIVE, 6), (0, "ScaleToZero", False)),
        # Load on a revision at zero brings one replica back.
        ({}, [(0, 0)] * 59 + [(1, 1)], 0, act(INACTIVE, 99), (1, "Stable", False)),
    ],
)  # fmt: skip
def test_decide(fields, load, ready, activity, want) -> None:
    decision = decide_after(fields, load, ready, activity)
    assert (decision.replicas, decision.reason, decision.panicking) == want
