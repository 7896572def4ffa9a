"""Knative's KPA autoscaler for Ripple's revisions: pure decisions, no I/O.

- `specs`: a revision's autoscaling settings (`Spec`, Knative's defaults), `defaults_from`
  (a parsed `config-autoscaler` onto a Spec) and `spec_from`, which merges the revision's
  `autoscaling.knative.dev/*` annotations over those defaults;
- `scaling`: the decider's tick, Knative's `Scale(logger, now)` (stable and panic windows,
  rate limits, panic mode, activation scale, scale-down delay, excess burst capacity);
- `scaler`: min/max/initial scale and the scale-to-zero rules of the PodAutoscaler reconciler;
- `kpa`: `decide(spec, stats, now, state, ready=...)`, which runs both and carries the state.

The metric windows it reads are `serving.stats.Collection`. The shell that drives it
(timers, the router's stats, scaling the workload) lives with the serving reconcilers and
does, per revision:

1. `spec = kpa.spec_from(annotations, kpa.defaults_from(config), container_concurrency=CC,
   reachable=routed)`; create the workload at `spec.initial_scale` replicas (Knative's
   Deployment starts there: `decide` does not start a new revision's first replica);
   `collection = kpa.new_collection(spec)`; `state = None`.
2. Each second, `collection.record(now, stat)` for every stat of the router's
   `serving.stats.ConcurrencyReporter.report(now)`; a first request's poke stat is recorded
   too, and when `kpa.poke(state, stat)` the next step runs at once.
3. Every 2 s (and on a poke): `d = kpa.decide(spec, collection, now, state, ready=R)`;
   keep `state = d.state`; when `d.replicas is not None` scale to it; the Revision's
   `desiredReplicas` is `d.desired_replicas` (when >= 0) and `actualReplicas` is R.
4. When the spec's windows change: `collection.resize(spec.stable_window, spec.panic_window, now)`.
"""
