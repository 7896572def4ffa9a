"""From the decider's desired scale to the replicas to run: bounds and scale to zero.

Pure: knative/serving `pkg/reconciler/autoscaling/kpa/scaler.go` (`scaler.scale`,
`applyBounds`, `handleScaleToZero`), with the PodAutoscaler's Active condition and the
ServerlessService's proxy time passed in (`Activity`) instead of read from the cluster.
Called by `kpa.decide`.

`scale(spec, desired, activity, now)` answers (want, apply, reason, requeue_after):

1. `desired < 0` (no metrics yet) and not activating: leave the replicas alone.
2. Bounds: `min, max = ScaleBounds()`; until the scale target has been initialised (and
   while reachable), `min = max(min, initial-scale)` when initial-scale > 1; then
   `applyBounds`: below min gives min, above a non-zero max gives max. Note that −1 with
   min 0 becomes 0 here, as upstream.
3. `handleScaleToZero`, which only acts on 0:
   - `enable-scale-to-zero: false`: 1;
   - Activating (Active=Unknown): 0 once activating for longer than progress-deadline + 30 s
     (`activationTimeoutBuffer`), else unknown (−1) and not applied;
   - Active: once active for a stable window, want 0 without applying it (the reconciler then
     marks the revision inactive); before that hold 1 until the window has passed;
   - Inactive: 0 once inactive for max(grace period, pod retention); while inactive for
     less than a non-zero pod retention, wait; else 0 at once if requests have been going
     through the activator (proxy mode) for the grace period, otherwise wait for the rest
     of it. Knative probes the activator first (it must be in the path); in Ripple the
     router that buffers is always in the path, so the probe always succeeds.

`requeue_after` says when the answer may change with no new load (Knative's `enqueueCB`);
the autoscaler ticks every 2 s anyway, so it only tells a caller that sleeps longer.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from controllers.autoscaling.specs import Spec

UNKNOWN = -1
ACTIVATION_TIMEOUT_BUFFER = 30.0

ACTIVATING = "Unknown"
ACTIVE = "True"
INACTIVE = "False"


@dataclasses.dataclass(frozen=True, slots=True)
class Activity:
    """The revision's activation state, as the PodAutoscaler's status would hold it."""

    active: str = ACTIVATING
    """The Active condition's status: ACTIVATING ("Unknown"), ACTIVE ("True"), INACTIVE ("False")."""
    since: float = 0.0
    """When `active` last changed (the condition's lastTransitionTime)."""
    reason: str = ""
    scale_target_initialized: bool = False
    """Whether the revision has once had as many ready replicas as it needed to start."""
    proxy_since: float | None = None
    """Since when requests go through the activator (SKS Proxy mode); None: served directly."""

    def in_status_for(self, status: str, now: float) -> float:
        """Seconds in `status`, or −1 when in another one (Knative's `inStatusFor`)."""
        return now - self.since if self.active == status else -1.0


class Scaled(NamedTuple):
    want: int
    apply: bool
    reason: str
    requeue_after: float | None = None


def apply_bounds(low: int, high: int, value: int) -> int:
    if value < low:
        return low
    if high != 0 and value > high:
        return high
    return value


def scale(spec: Spec, desired: int, activity: Activity, now: float) -> Scaled:
    """The replicas the revision should run for the decider's `desired` scale."""
    if desired < 0 and activity.active != ACTIVATING:
        return Scaled(desired, False, "NoMetrics")
    low, high = spec.scale_bounds
    floor_reason = "MinScale"
    initial = spec.initial_scale
    if initial > 1 and not activity.scale_target_initialized and spec.reachable and initial > low:
        low, floor_reason = initial, "InitialScale"
    bounded = apply_bounds(low, high, desired)
    reason = ""
    if bounded != desired:
        reason = floor_reason if desired < low else "MaxScale"
    if bounded != 0:
        return Scaled(bounded, True, reason)
    return _scale_to_zero(spec, activity, now)


def _scale_to_zero(spec: Spec, activity: Activity, now: float) -> Scaled:
    if not spec.enable_scale_to_zero:
        return Scaled(1, True, "ScaleToZeroDisabled")
    if activity.active == ACTIVATING:
        timeout = spec.progress_deadline + ACTIVATION_TIMEOUT_BUFFER
        if activity.in_status_for(ACTIVATING, now) > timeout:
            return Scaled(0, True, "ActivationTimedOut")
        return Scaled(UNKNOWN, False, "Activating", timeout)
    if activity.active == ACTIVE:
        active_for = activity.in_status_for(ACTIVE, now)
        if active_for >= spec.stable_window:
            return Scaled(0, False, "Deactivating")
        return Scaled(1, True, "StableWindow", spec.stable_window - active_for)
    inactive_for = activity.in_status_for(INACTIVE, now)
    retention = spec.scale_to_zero_pod_retention_period if spec.reachable else 0.0
    grace = spec.scale_to_zero_grace_period
    if inactive_for >= max(grace, retention):
        return Scaled(0, True, "ScaleToZero")
    if retention > 0 and inactive_for < retention:
        return Scaled(0, False, "PodRetention", retention - inactive_for)
    proxy_for = 0.0 if activity.proxy_since is None else now - activity.proxy_since
    if grace - proxy_for <= 0:
        return Scaled(0, True, "ScaleToZero")
    return Scaled(0, False, "GracePeriod", grace - proxy_for)
