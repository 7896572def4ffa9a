"""A revision's autoscaling settings: the cluster defaults with its annotations merged over them.

Pure. `kpa.decide` reads a `Spec`; the autoscaler shell builds one per revision with
`spec_from(revision annotations, cluster defaults)`. `Spec()` holds Knative's defaults
(knative/serving `pkg/autoscaler/config/config.go`, `defaultConfig`, and
`pkg/deployment/config.go` for the progress deadline); the cluster's `config-autoscaler`
ConfigMap replaces them field for field (the field names are the ConfigMap keys with
underscores; durations are seconds): `defaults_from(parsed config)` copies them over.

The merge follows the PodAutoscaler's accessors (`pkg/apis/autoscaling/v1alpha1/pa_lifecycle.go`)
and the decider's builder (`pkg/reconciler/autoscaling/kpa/resources/decider.go`,
`MakeDecider`, `GetInitialScale`):

- an annotation is read under its name, then its older camelCase spelling
  (`pkg/apis/autoscaling/register.go`, `kmap.KeyPriority`);
- a value that does not parse (Go's `strconv.ParseInt(s, 10, 32)`, `ParseFloat`,
  `time.ParseDuration`) is ignored and the default holds: rejecting it is the admission
  webhook's job (`annotation_validation.go`), not the autoscaler's;
- `initial-scale: 0` counts only with `allow-zero-initial-scale`;
- `target-utilization-percentage` is a percentage (70 means 0.7).

Derived values (properties):

- `target_value`, `total_value`: `pkg/reconciler/autoscaling/resources/target.go`
  `ResolveMetricTarget`. total = containerConcurrency, or `container-concurrency-target-default`
  when it is 0 (rps: `requests-per-second-target-default`); a `target` annotation replaces it,
  capped at containerConcurrency for concurrency; target = max(0.01, total × utilisation).
  Defaults: 100 × 0.7 = 70 concurrent requests, 200 × 0.7 = 140 rps.
- `panic_window`: `resources/metric.go` `MakeMetric`: stable window × percentage / 100,
  rounded to the second, at least 1 s (6 s by default).
- `panic_threshold`: percentage / 100 (2.0 by default).
- `scale_bounds`: `PodAutoscaler.ScaleBounds`: min-scale is ignored while the revision is
  unreachable (routingState reserve); max-scale 0 means no limit.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping

from ripple.api.serving import go_durations

GROUP = "autoscaling.knative.dev/"
PROGRESS_DEADLINE = "serving.knative.dev/progress-deadline"
CONCURRENCY = "concurrency"
RPS = "rps"
TARGET_MIN = 0.01
"""The smallest target value (Knative's `autoscaling.TargetMin`)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Spec:
    """Autoscaling settings of one revision. Durations in seconds."""

    # From config-autoscaler (cluster-wide); most have an annotation that overrides them.
    enable_scale_to_zero: bool = True
    container_concurrency_target_fraction: float = 0.7
    """`container-concurrency-target-percentage`, as a fraction."""
    container_concurrency_target_default: float = 100.0
    target_utilization: float = 0.7
    """The utilisation of metrics other than concurrency (not in the ConfigMap)."""
    rps_target_default: float = 200.0
    target_burst_capacity: float = 211.0
    activator_capacity: float = 100.0
    allow_zero_initial_scale: bool = False
    initial_scale: int = 1
    min_scale: int = 0
    max_scale: int = 0
    """0: no upper bound."""
    max_scale_up_rate: float = 1000.0
    max_scale_down_rate: float = 2.0
    stable_window: float = 60.0
    panic_window_percentage: float = 10.0
    panic_threshold_percentage: float = 200.0
    scale_to_zero_grace_period: float = 30.0
    scale_to_zero_pod_retention_period: float = 0.0
    scale_down_delay: float = 0.0
    progress_deadline: float = 600.0
    """config-deployment's `progress-deadline`: how long a revision may take to activate."""

    # Per revision only.
    metric: str = CONCURRENCY
    target: float | None = None
    """The `target` annotation: the soft per-replica target before utilisation."""
    target_utilization_percentage: float | None = None
    container_concurrency: int = 0
    """`spec.containerConcurrency`, the hard limit (0: unlimited)."""
    activation_scale: int = 0
    metric_aggregation_algorithm: str = "linear"
    reachable: bool = True
    """Whether a Route sends it traffic (Knative's PA reachability; min-scale needs it)."""

    @property
    def total_value(self) -> float:
        return _resolve_target(self)[1]

    @property
    def target_value(self) -> float:
        return _resolve_target(self)[0]

    @property
    def panic_window(self) -> float:
        window = self.stable_window * self.panic_window_percentage / 100.0
        return max(1.0, math.floor(window + 0.5))  # Go's Duration.Round(time.Second)

    @property
    def panic_threshold(self) -> float:
        return self.panic_threshold_percentage / 100.0

    @property
    def scale_bounds(self) -> tuple[int, int]:
        return (self.min_scale if self.reachable else 0), self.max_scale

    @property
    def weighted(self) -> bool:
        return self.metric_aggregation_algorithm in ("weighted-exponential", "weightedExponential")


def _resolve_target(spec: Spec) -> tuple[float, float]:
    if spec.metric == RPS:
        total = spec.rps_target_default
        utilization = spec.target_utilization
    else:
        total = float(spec.container_concurrency) or spec.container_concurrency_target_default
        utilization = spec.container_concurrency_target_fraction
    if spec.target is not None:
        total = spec.target
        if spec.metric == CONCURRENCY and spec.container_concurrency != 0:
            total = min(spec.target, float(spec.container_concurrency))
    if spec.target_utilization_percentage is not None:
        utilization = spec.target_utilization_percentage / 100
    return max(TARGET_MIN, total * utilization), total


# -- parsing annotation values the way Go's strconv and time packages do ------------------------

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?i:inf|infinity|nan)")


def parse_int32(text: str) -> int | None:
    if not _INT.fullmatch(text):
        return None
    value = int(text)
    return value if -(2**31) <= value < 2**31 else None


def parse_float(text: str) -> float | None:
    return float(text) if _FLOAT.fullmatch(text) else None


def parse_go_duration(text: str) -> float | None:
    """Seconds in a Go duration (`60s`, `1m30s`, `1.5h`, `0`), or None where Go's
    `time.ParseDuration` refuses it: Knative ignores such an annotation."""
    try:
        return go_durations.parse(text)
    except ValueError:
        return None


def _get(annotations: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        if GROUP + name in annotations:
            return annotations[GROUP + name]
    return None


_FLOATS = {
    "target": ("target",),
    "target_utilization_percentage": ("target-utilization-percentage", "targetUtilizationPercentage"),
    "target_burst_capacity": ("target-burst-capacity", "targetBurstCapacity"),
    "panic_window_percentage": ("panic-window-percentage", "panicWindowPercentage"),
    "panic_threshold_percentage": ("panic-threshold-percentage", "panicThresholdPercentage"),
}  # fmt: skip
_INTS = {
    "min_scale": ("min-scale", "minScale"),
    "max_scale": ("max-scale", "maxScale"),
    "activation_scale": ("activation-scale",),
}  # fmt: skip
_DURATIONS = {
    "stable_window": ("window",),
    "scale_down_delay": ("scale-down-delay", "scaleDownDelay"),
    "scale_to_zero_pod_retention_period": (
        "scale-to-zero-pod-retention-period", "scaleToZeroPodRetentionPeriod",
    ),
}  # fmt: skip


def defaults_from(config: object, **overrides: object) -> Spec:
    """Cluster defaults from a parsed `config-autoscaler` (any object whose attributes are
    named like `Spec`'s fields, e.g. `ripple.api.serving.autoscaler_config.AutoscalerConfig`);
    attributes it lacks keep Knative's defaults, `overrides` win (e.g. `progress_deadline`
    from config-deployment)."""
    taken = {
        field.name: getattr(config, field.name)
        for field in dataclasses.fields(Spec)
        if field.name not in _REVISION_ONLY and hasattr(config, field.name)
    }
    return Spec(**{**taken, **overrides})  # type: ignore[arg-type]


_REVISION_ONLY = frozenset(
    {"metric", "target", "target_utilization_percentage", "container_concurrency",
     "activation_scale", "metric_aggregation_algorithm", "reachable"}
)  # fmt: skip


def spec_from(
    annotations: Mapping[str, str],
    defaults: Spec = Spec(),  # noqa: B008 -- frozen, so one shared instance is safe
    *,
    container_concurrency: int = 0,
    reachable: bool = True,
) -> Spec:
    """The revision's spec: its `autoscaling.knative.dev/*` annotations over `defaults`."""
    changes: dict[str, object] = {
        "container_concurrency": container_concurrency,
        "reachable": reachable,
    }
    for field, names in _FLOATS.items():
        text = _get(annotations, *names)
        if text is not None and (number := parse_float(text)) is not None:
            changes[field] = number
    for field, names in _INTS.items():
        text = _get(annotations, *names)
        if text is not None and (integer := parse_int32(text)) is not None:
            changes[field] = integer
    for field, names in _DURATIONS.items():
        text = _get(annotations, *names)
        if text is not None and (seconds := parse_go_duration(text)) is not None:
            changes[field] = seconds
    if (metric := _get(annotations, "metric")) is not None:
        changes["metric"] = metric
    algorithm = _get(annotations, "metric-aggregation-algorithm", "metricAggregationAlgorithm")
    if algorithm is not None:
        changes["metric_aggregation_algorithm"] = algorithm
    text = _get(annotations, "initial-scale", "initialScale")
    initial = parse_int32(text) if text is not None else None
    if initial is not None and (initial != 0 or defaults.allow_zero_initial_scale):
        changes["initial_scale"] = initial
    deadline = annotations.get(PROGRESS_DEADLINE)
    if deadline is not None and (seconds := parse_go_duration(deadline)) is not None:
        changes["progress_deadline"] = seconds
    return dataclasses.replace(defaults, **changes)  # type: ignore[arg-type]
