"""The KPA autoscaler's pure core: `decide(spec, stats, now, state, ready=...) -> Decision`.

One call is one autoscaler tick followed by one PodAutoscaler reconcile, as Knative runs
them for a `kpa.autoscaling.knative.dev` revision:

1. the decider (`scaling.scale`: knative/serving `pkg/autoscaler/scaling/autoscaler.go`
   `Scale`) turns the stable and panic window averages of the metric (concurrency or rps,
   `serving.stats.Collection.stable_and_panic`) into a desired pod count and the excess
   burst capacity; an invalid result (no metrics) keeps the last valid one, which starts at
   −1 and at the initial EBC (`multiscaler.go` `createScaler`: TBC when it is −1 or 0, else
   `initialScale × TotalValue − TBC`);
2. the scaler (`scaler.scale`: `pkg/reconciler/autoscaling/kpa/scaler.go`) applies
   min-scale, max-scale and initial-scale, and the scale-to-zero rules;
3. the reconciler's own bookkeeping (`pkg/reconciler/autoscaling/kpa/kpa.go`
   `ReconcileKind`, `computeStatus`, `computeActiveCondition`):
   - SKS mode: Serve when want > 0 and EBC >= 0, else Proxy (the activator stays in the
     path); Proxy also when want is unknown and the revision is inactive;
   - `desiredReplicas` keeps its last known value while want is unknown;
   - the Active condition, with `minReady = max(min-scale, initial-scale)` until the scale
     target has been initialised once, then `max(min-scale, 1)`:
     want 0 (or minReady 0) -> Inactive (TimedOut when it was activating, else NoTraffic);
     ready < minReady -> Activating (Queued), unless inactive with nothing wanted;
     ready >= minReady -> Active, unless inactive with nothing wanted.
     The condition's transition time moves when its status or reason changes, as in
     knative.dev/pkg's `ConditionSet.SetCondition`.

Everything Knative keeps across calls is in `State` (the decider's panic time, max panic
pods and scale-down-delay window, its last result, the Active condition and since when the
activator is in the path). `decide` returns the next one in `Decision.state`; the caller
keeps it per revision and passes it back. `State` None starts a new decider, in panic when
more than one replica is ready (`newAutoscaler`).

Knative runs the reconcile on changes and timers (`enqueueCB`) rather than every tick;
running it every tick reaches the same answers, at most one tick sooner or later.

`poke(state, stat)` is `MultiScaler.Poke`: a stat with non-zero concurrency for a revision
whose last desired scale is 0 should trigger a tick at once (scale from zero).
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from controllers.autoscaling import scaler, scaling
from controllers.autoscaling.scaler import ACTIVATING, ACTIVE, INACTIVE, Activity
from controllers.autoscaling.specs import CONCURRENCY, RPS, Spec, defaults_from, spec_from
from serving import stats as servingstats

__all__ = [
    "ACTIVATING",
    "ACTIVE",
    "INACTIVE",
    "PROXY",
    "SERVE",
    "Activity",
    "Decision",
    "Metrics",
    "Spec",
    "State",
    "decide",
    "defaults_from",
    "new_collection",
    "poke",
    "spec_from",
    "starting",
]

SERVE = "Serve"
PROXY = "Proxy"


class Metrics(Protocol):
    """What `decide` reads: `serving.stats.Collection` (Knative's `MetricClient`)."""

    def stable_and_panic(self, metric: str, now: float) -> tuple[float, float] | None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class State:
    """What the autoscaler remembers about one revision between two calls.

    Start from `starting(spec, ready, now)` (or pass None to `decide`), which dates the
    activation; then pass back each `Decision.state`."""

    activity: Activity
    decider: scaling.Panic = scaling.Panic()
    desired_scale: int = -1
    """The decider's last valid desired pod count (−1: none yet)."""
    excess_burst_capacity: int = 0
    """The decider's last excess burst capacity."""
    desired_replicas: int = -1
    """The revision's `status.desiredReplicas` (−1: not known yet)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """One call's outcome. `replicas` is what to scale the workload to now (None: leave it)."""

    replicas: int | None
    desired_replicas: int
    """For the revision's status: what the autoscaler wants (−1: not known yet)."""
    excess_burst_capacity: int
    panicking: bool
    reason: str
    """Why: Stable, Panic, ScaleDownDelay, MinScale, MaxScale, InitialScale, NoMetrics,
    Activating, ActivationTimedOut, StableWindow, Deactivating, PodRetention, GracePeriod,
    ScaleToZero, ScaleToZeroDisabled."""
    mode: str
    """SERVE: replicas take requests directly; PROXY: through the activator."""
    state: State
    requeue_after: float | None = None
    stable: float = 0.0
    """The stable window's average of the metric (0 without metrics)."""
    panic: float = 0.0


def starting(spec: Spec, ready: int, now: float) -> State:
    """The state of a new decider for a revision with `ready` replicas."""
    tbc = spec.target_burst_capacity
    excess = int(tbc) if tbc in (-1, 0) else int(spec.initial_scale * spec.total_value - tbc)
    # Knative creates the serverless service in Proxy mode: the activator is in the path.
    activity = Activity(ACTIVATING, since=now, proxy_since=now)
    return State(activity, scaling.starting(ready, now), -1, excess, -1)


def new_collection(spec: Spec, *, scraped: bool = False) -> servingstats.Collection:
    """The metric buckets for a revision with this spec (windows and algorithm)."""
    return servingstats.Collection(
        spec.stable_window, spec.panic_window, weighted=spec.weighted, scraped=scraped
    )


def poke(state: State, stat: servingstats.Stat) -> bool:
    """Whether `stat` should trigger a tick at once (a revision at zero gets traffic)."""
    return state.desired_scale == 0 and stat.average_concurrent_requests != 0


def decide(
    spec: Spec, stats: Metrics, now: float, state: State | None = None, *, ready: int
) -> Decision:
    """The replicas a revision should run at `now`, and the state for the next call."""
    if state is None:
        state = starting(spec, ready, now)
    metric = RPS if spec.metric == RPS else CONCURRENCY
    result, decider = scaling.scale(
        spec, stats.stable_and_panic(metric, now), ready, now, state.decider
    )
    desired_scale, excess = state.desired_scale, state.excess_burst_capacity
    if result.valid:
        desired_scale, excess = result.desired, result.excess_burst_capacity

    activity = state.activity
    scaled = scaler.scale(spec, desired_scale, activity, now)
    want = scaled.want
    if want == scaler.UNKNOWN and activity.active == INACTIVE:
        mode = PROXY
    elif want > 0 and excess >= 0:
        mode = SERVE
    else:
        mode = PROXY
    activity = _active_condition(spec, want, ready, activity, now)
    if mode == SERVE:
        activity = dataclasses.replace(activity, proxy_since=None)
    elif activity.proxy_since is None:
        activity = dataclasses.replace(activity, proxy_since=now)
    desired_replicas = want
    if want == scaler.UNKNOWN and state.desired_replicas >= 0:
        desired_replicas = state.desired_replicas

    new_state = State(activity, decider, desired_scale, excess, desired_replicas)
    return Decision(
        replicas=want if scaled.apply else None,
        desired_replicas=desired_replicas,
        excess_burst_capacity=excess,
        panicking=decider.panicking,
        reason=scaled.reason or result.reason,
        mode=mode,
        state=new_state,
        requeue_after=scaled.requeue_after,
        stable=result.stable,
        panic=result.panic,
    )


def _active_condition(spec: Spec, want: int, ready: int, activity: Activity, now: float) -> Activity:
    low = spec.scale_bounds[0]
    initialized = activity.scale_target_initialized
    min_ready = max(low, 1) if initialized else max(low, spec.initial_scale)
    initialized = initialized or ready >= min_ready
    status, reason = activity.active, activity.reason
    inactive = status == INACTIVE
    if want == 0 or min_ready == 0:
        status = INACTIVE
        reason = "TimedOut" if activity.active == ACTIVATING and min_ready > 0 else "NoTraffic"
    elif ready < min_ready:
        if want > 0 or not inactive:
            status, reason = ACTIVATING, "Queued"
        else:
            status, reason = INACTIVE, "NoTraffic"
    elif want > 0 or not inactive:
        status, reason = ACTIVE, ""
    changed = (status, reason) != (activity.active, activity.reason)
    return dataclasses.replace(
        activity,
        active=status,
        reason=reason,
        since=now if changed else activity.since,
        scale_target_initialized=initialized,
    )
