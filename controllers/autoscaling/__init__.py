"""Knative's KPA autoscaler for Ripple's revisions: pure decisions, no I/O.

- `specs`: a revision's autoscaling settings (`Spec`, Knative's defaults) and `spec_from`,
  which merges its `autoscaling.knative.dev/*` annotations over the cluster defaults;
- `scaling`: the decider's tick, Knative's `Scale(logger, now)` (stable and panic windows,
  rate limits, panic mode, scale-down delay, excess burst capacity);
- `scaler`: min/max/initial scale and the scale-to-zero rules of the PodAutoscaler reconciler;
- `kpa`: `decide(spec, stats, now, state, ready=...)`, which runs both and carries the state.

The metric windows it reads are `serving.stats.Collection`. The autoscaler shell (timers,
the router's stats, scaling the workload) lives with the serving reconcilers.
"""
