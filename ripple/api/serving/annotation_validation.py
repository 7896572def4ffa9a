"""The `autoscaling.knative.dev/*` annotations of a revision template: keys and values.

Knative's `pkg/apis/autoscaling/annotation_validation.go` (`ValidateAnnotations`) and the
keys of `register.go`, with their older camelCase spellings (`minScale`, ...), which
Knative still reads. The ranges are Knative's: `window` 6s-1h in whole seconds,
`panic-window-percentage` 1-100, `panic-threshold-percentage` 110-1000, `target` at least
0.01, `target-utilization-percentage` 1-100, `target-burst-capacity` >= 0 or -1,
`min-scale`/`max-scale`/`initial-scale` integers >= 0 with max >= min unless 0,
`scale-down-delay` 0-1h in whole seconds, `scale-to-zero-pod-retention-period` 0-1h,
`activation-scale` >= 2 and within [min, max], `metric` `concurrency` or `rps` for the KPA
class (anything non-empty for HPA, anything for another class), and, when the class is
explicitly KPA, `metric-aggregation-algorithm` `linear` or `weighted-exponential`. The
messages are Knative's (`invalid value: X`, `expected MIN <= X <= MAX`).

Where Ripple differs it says so:
- an unknown key under `autoscaling.knative.dev/` is refused naming the known ones
  (Knative ignores it, so a typo silently does nothing), and so is one key given in two
  spellings;
- `initial-scale: "0"` is admitted whatever `allow-zero-initial-scale` says: admission
  is pure and does not read the `config-autoscaler` ConfigMap, so Knative's documentation
  manifest applies unchanged; the autoscaler uses 1 when the ConfigMap does not allow 0;
  `max-scale-limit` is likewise enforced by the autoscaler, not here.

Called by `revision_validation` for `spec.template.metadata.annotations` (and a Revision's
own), and by the other kinds' validation to refuse autoscaling annotations on their own
metadata, as Knative's `ValidateHasNoAutoscalingAnnotation` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ripple.api import fields
from ripple.api.serving import autoscaler_config as config
from ripple.api.serving import go_durations
from ripple.errors import FieldError

GROUP = "autoscaling.knative.dev"
PREFIX = f"{GROUP}/"

CLASS = "class"
METRIC = "metric"
TARGET = "target"
TARGET_UTILIZATION = "target-utilization-percentage"
MIN_SCALE = "min-scale"
MAX_SCALE = "max-scale"
INITIAL_SCALE = "initial-scale"
ACTIVATION_SCALE = "activation-scale"
SCALE_DOWN_DELAY = "scale-down-delay"
WINDOW = "window"
PANIC_WINDOW_PERCENTAGE = "panic-window-percentage"
PANIC_THRESHOLD_PERCENTAGE = "panic-threshold-percentage"
TARGET_BURST_CAPACITY = "target-burst-capacity"
RETENTION = "scale-to-zero-pod-retention-period"
ALGORITHM = "metric-aggregation-algorithm"

# Each key, then its older spellings (Knative's kmap.KeyPriority: the first one set wins).
KEYS: dict[str, tuple[str, ...]] = {
    CLASS: (), METRIC: (), TARGET: (),
    TARGET_UTILIZATION: ("targetUtilizationPercentage",),
    MIN_SCALE: ("minScale",), MAX_SCALE: ("maxScale",), INITIAL_SCALE: ("initialScale",),
    ACTIVATION_SCALE: (), SCALE_DOWN_DELAY: ("scaleDownDelay",), WINDOW: (),
    PANIC_WINDOW_PERCENTAGE: ("panicWindowPercentage",),
    PANIC_THRESHOLD_PERCENTAGE: ("panicThresholdPercentage",),
    TARGET_BURST_CAPACITY: ("targetBurstCapacity",),
    RETENTION: ("scaleToZeroPodRetentionPeriod",),
    ALGORITHM: ("metricAggregationAlgorithm",),
}
_CANONICAL = {alias: key for key, aliases in KEYS.items() for alias in (key, *aliases)}

CONCURRENCY = "concurrency"
RPS = "rps"
KPA_METRICS = (CONCURRENCY, RPS)
ALGORITHMS = ("linear", "weighted-exponential", "weightedExponential")
SCALE_DOWN_DELAY_MAX = 3600.0
RETENTION_MAX = 3600.0


def autoscaling(annotations: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """The autoscaling annotations by canonical key: (the key as written, its value)."""
    found: dict[str, tuple[str, str]] = {}
    for key, aliases in KEYS.items():
        for name in (key, *aliases):
            value = annotations.get(PREFIX + name)
            if isinstance(value, str) and key not in found:
                found[key] = (PREFIX + name, value)
    return found


def get(annotations: Mapping[str, Any], key: str) -> str | None:
    """One annotation's value by its canonical key, whichever spelling was used."""
    found = autoscaling(annotations).get(key)
    return found[1] if found else None


def validate(annotations: Mapping[str, Any], path: str) -> list[FieldError]:
    """Every broken rule of the autoscaling annotations in `annotations` (at `path`)."""
    errs: list[FieldError] = []
    seen: dict[str, str] = {}
    for name in annotations:
        if not isinstance(name, str) or not name.startswith(PREFIX):
            continue
        key = _CANONICAL.get(name[len(PREFIX):])
        if key is None:
            errs.append(FieldError(fields.key(path, name), (
                f'unknown autoscaling annotation; the keys are: '
                f'{", ".join(PREFIX + k for k in KEYS)}')))
        elif key in seen:
            errs.append(FieldError(fields.key(path, name), (
                f"expected exactly one, got both: {seen[key]} and {name} set the same key")))
        else:
            seen[key] = name
    found = autoscaling(annotations)

    def where(key: str) -> str:
        return fields.key(path, found[key][0])

    def bad(key: str, message: str) -> None:
        errs.append(FieldError(where(key), message))

    explicit = found.get(CLASS, (None, None))[1]
    klass = explicit or config.KPA
    if explicit and explicit.endswith("." + GROUP) and explicit not in (config.KPA, config.HPA):
        bad(CLASS, f"invalid value: {explicit}: must be {config.KPA} or {config.HPA}")

    low = _number(found, MIN_SCALE, int, bad, minimum=0, maximum=config.INT32_MAX) or 0
    high = _number(found, MAX_SCALE, int, bad, minimum=0, maximum=config.INT32_MAX) or 0
    if high != 0 and high < low:
        for key in (MAX_SCALE, MIN_SCALE):
            bad(key, f"max-scale={high} is less than min-scale={low}")
    if ACTIVATION_SCALE in found:
        text = found[ACTIVATION_SCALE][1]
        try:
            activation = int(text)
        except ValueError:
            bad(ACTIVATION_SCALE, f"invalid value: {text}")
        else:
            if low > activation:
                bad(ACTIVATION_SCALE, f"min-scale={low} is greater than activation-scale={activation}")
            elif high != 0 and high < activation:
                bad(ACTIVATION_SCALE, f"max-scale={high} is less than activation-scale={activation}")
            elif activation < 2:
                bad(ACTIVATION_SCALE, f"activation-scale={activation} must be greater than 1")

    _number(found, PANIC_WINDOW_PERCENTAGE, float, bad, minimum=config.PANIC_WINDOW_PERCENTAGE_MIN,
            maximum=config.PANIC_WINDOW_PERCENTAGE_MAX)
    _number(found, PANIC_THRESHOLD_PERCENTAGE, float, bad,
            minimum=config.PANIC_THRESHOLD_PERCENTAGE_MIN,
            maximum=config.PANIC_THRESHOLD_PERCENTAGE_MAX)
    target = _number(found, TARGET, float, bad)
    if target is not None and target < config.TARGET_MIN:
        bad(TARGET, f"target {found[TARGET][1]} should be at least {config.TARGET_MIN:g}")
    _number(found, TARGET_UTILIZATION, float, bad, minimum=1.0, maximum=100.0)
    burst = _number(found, TARGET_BURST_CAPACITY, float, bad)
    if burst is not None and burst < 0 and burst != -1:
        bad(TARGET_BURST_CAPACITY, f"invalid value: {found[TARGET_BURST_CAPACITY][1]}: must be at "
                                   "least 0, or -1 for unlimited")

    _duration(found, WINDOW, bad, config.WINDOW_MIN, config.WINDOW_MAX, whole=True)
    _duration(found, RETENTION, bad, 0.0, RETENTION_MAX, whole=False)
    _duration(found, SCALE_DOWN_DELAY, bad, 0.0, SCALE_DOWN_DELAY_MAX, whole=True)

    if METRIC in found:
        metric = found[METRIC][1]
        if (klass == config.KPA and metric not in KPA_METRICS) or (klass == config.HPA and not metric):
            bad(METRIC, f"invalid value: {metric}: the {klass} class scales on "
                        + (" or ".join(KPA_METRICS) if klass == config.KPA else "a named metric"))
    # Only an explicit KPA class: other autoscalers may have their own algorithms.
    if explicit == config.KPA and ALGORITHM in found and found[ALGORITHM][1] not in ALGORITHMS:
        bad(ALGORITHM, f"invalid value: {found[ALGORITHM][1]}: must be one of {', '.join(ALGORITHMS)}")
    return errs


def refuse_on_parent(annotations: Mapping[str, Any], path: str) -> list[FieldError]:
    """Knative's ValidateHasNoAutoscalingAnnotation: on a Service, Configuration or Route
    these annotations do nothing, so they are refused with where they belong."""
    return [FieldError(fields.key(path, name), (
        "autoscaling annotations must be put under `spec.template.metadata.annotations` "
        "to work")) for name in annotations if isinstance(name, str) and name.startswith(PREFIX)]


def _number(found: dict[str, tuple[str, str]], key: str, kind: Callable[[str], Any],
            bad: Callable[[str, str], None], *, minimum: float | None = None,
            maximum: float | None = None) -> Any:
    """Knative's ErrInvalidValue ("invalid value: X") and ErrOutOfBoundsValue
    ("expected MIN <= X <= MAX")."""
    if key not in found:
        return None
    text = found[key][1]
    try:
        value = kind(text)
    except ValueError:
        bad(key, f"invalid value: {text}")
        return None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bad(key, f"expected {_shown(minimum)} <= {text} <= {_shown(maximum)}")
        return None
    return value


def _shown(number: float | None) -> str:
    """A bound as Go's %v prints it: 2147483647, 1, 0.01."""
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _duration(found: dict[str, tuple[str, str]], key: str, bad: Callable[[str, str], None],
              minimum: float, maximum: float, *, whole: bool) -> None:
    if key not in found:
        return
    text = found[key][1]
    try:
        seconds = go_durations.parse(text)
    except ValueError as exc:
        bad(key, f"invalid value: {text} ({exc}; a Go duration such as 60s or 1m30s)")
        return
    fmt = go_durations.format_seconds
    if not minimum <= seconds <= maximum:
        bad(key, f"expected {fmt(minimum)} <= {text} <= {fmt(maximum)}")
    elif whole and not go_durations.whole_seconds(seconds):
        bad(key, "must be specified with at most second precision")
