"""The KPA decider's tick: desired pods from the window averages. Knative's `Scale(logger, now)`.

Pure: knative/serving `pkg/autoscaler/scaling/autoscaler.go` (`autoscaler.Scale`), with the
state Knative keeps on the autoscaler struct (`panicTime`, `maxPanicPods`, `delayWindow`)
passed in and handed back as a `Panic` value. Called by `kpa.decide` every tick (2 s,
`multiscaler.go` `tickInterval`) and on a poke.

With `ready` the ready replicas, `readyF = max(1, ready)`, `stable`/`panic` the window
averages of the metric and `TV` the spec's target value:

    maxScaleUp   = ceil(MaxScaleUpRate × readyF)
    maxScaleDown = floor(readyF / MaxScaleDownRate)     (0 when the revision is unreachable)
    dspc = ceil(stable / TV)                 dppc = ceil(panic / TV)
    desiredStable = clamp(dspc, maxScaleDown, maxScaleUp)     (same for desiredPanic)
    activation scale > 1: desiredStable = max(desiredStable, activation) when dspc > 0
                          (same for panic; this may exceed maxScaleUp, as upstream)
    over = dppc / readyF >= PanicThreshold
      not panicking and over  -> panic from now      ("PANICKING.")
      panicking and over      -> panicTime = now     (extends the panic)
      panicking, not over, panicTime + StableWindow < now -> stop, maxPanicPods = 0
    desired = desiredStable; while panicking: desired = maxPanicPods =
              max(maxPanicPods, desiredStable, desiredPanic)   (never down in panic)
    scale-down delay > 0 and reachable: desired = max of the desired values recorded over
              the last ceil(delay / 2 s) two-second slots (`aggregation/max`)
    EBC = 0 if TBC == 0; floor(ready × TotalValue − TBC − panic) if TBC > 0; −1 if TBC == −1

No metrics (`stats` returned None: Knative's ErrNoData) gives an invalid result and
leaves the state alone.

Upstream creates the delay window once, when the decider is created, from the delay then
in force; here its length follows the current spec (a changed `scale-down-delay`
annotation takes effect at once rather than on the autoscaler's next restart).
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

from controllers.autoscaling.specs import Spec

TICK = 2.0
"""Seconds between two decider ticks (`tickInterval`), also the delay window's slot."""


@dataclasses.dataclass(frozen=True, slots=True)
class Panic:
    """What the decider remembers between ticks."""

    panic_time: float | None = None
    """When the panic threshold was last crossed; None: not panicking."""
    max_panic_pods: int = 0
    delay_window: tuple[tuple[int, int], ...] = ()
    """The scale-down delay's descending maxima: (slot, desired), oldest first."""

    @property
    def panicking(self) -> bool:
        return self.panic_time is not None


def starting(ready: int, now: float) -> Panic:
    """A new decider's state: in panic over `ready` pods when more than one is ready, so a
    restarted autoscaler without history does not scale down (`newAutoscaler`)."""
    return Panic(panic_time=now if ready > 1 else None, max_panic_pods=ready)


class ScaleResult(NamedTuple):
    """Knative's `ScaleResult`, plus the reason and the observed averages for status and logs."""

    desired: int
    excess_burst_capacity: int
    valid: bool
    reason: str = ""
    stable: float = 0.0
    panic: float = 0.0


INVALID = ScaleResult(0, 0, False, "NoMetrics")


def record_max(
    window: tuple[tuple[int, int], ...], slot: int, value: int, size: int
) -> tuple[tuple[int, int], ...]:
    """Record `value` at `slot` in a sliding-maximum window of `size` slots
    (`aggregation/max/window.go`, the descending-minima algorithm). The current maximum is
    the first entry's value."""
    kept = list(window)
    # An older entry not above the new value can never be the maximum again.
    while kept and value >= kept[-1][1]:
        kept.pop()
    while kept and slot - kept[0][0] >= size:
        kept.pop(0)
    if kept and kept[-1][0] == slot:  # the same slot twice: keep the larger
        value = max(value, kept.pop()[1])
    kept.append((slot, value))
    return tuple(kept)


def scale(
    spec: Spec, observed: tuple[float, float] | None, ready: int, now: float, state: Panic
) -> tuple[ScaleResult, Panic]:
    """One decider tick: the desired pod count and the excess burst capacity."""
    if observed is None:
        return INVALID, state
    stable, panic = observed
    ready_f = float(max(1, ready))

    # The ceil and floor make a step of one pod always possible either way.
    max_scale_up = math.ceil(spec.max_scale_up_rate * ready_f)
    max_scale_down = math.floor(ready_f / spec.max_scale_down_rate) if spec.reachable else 0

    target = spec.target_value
    dspc = math.ceil(stable / target)
    dppc = math.ceil(panic / target)
    desired_stable = min(max(dspc, max_scale_down), max_scale_up)
    desired_panic = min(max(dppc, max_scale_down), max_scale_up)
    activation = spec.activation_scale
    if activation > 1:
        if dspc > 0 and activation > desired_stable:
            desired_stable = activation
        if dppc > 0 and activation > desired_panic:
            desired_panic = activation

    panic_time, max_panic_pods = state.panic_time, state.max_panic_pods
    over_threshold = dppc / ready_f >= spec.panic_threshold
    if over_threshold:
        panic_time = now  # enter panic, or extend it
    elif panic_time is not None and panic_time + spec.stable_window < now:
        # The surge has made its way into the stable window.
        panic_time, max_panic_pods = None, 0

    desired, reason = desired_stable, "Stable"
    if panic_time is not None:
        # The stable window may see more than the panic one: provision for the larger.
        desired = max(desired, desired_panic)
        # Never scale down in panic.
        max_panic_pods = max(max_panic_pods, desired)
        desired, reason = max_panic_pods, "Panic"

    delay_window = state.delay_window
    if spec.reachable and spec.scale_down_delay > 0:
        size = math.ceil(spec.scale_down_delay / TICK)
        delay_window = record_max(delay_window, int(now) // int(TICK), desired, size)
        if delay_window[0][1] != desired:
            desired, reason = delay_window[0][1], "ScaleDownDelay"

    # Excess burst capacity, from the panic average so the activator is not swapped in and
    # out on a whim. Negative: not enough spare capacity for the burst, the activator stays.
    tbc = spec.target_burst_capacity
    if tbc == 0:
        excess = 0
    elif tbc > 0:
        excess = math.floor(ready * spec.total_value - tbc - panic)
    else:
        excess = -1

    result = ScaleResult(desired, excess, True, reason, stable, panic)
    return result, Panic(panic_time, max_panic_pods, delay_window)
