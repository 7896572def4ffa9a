"""The `config-autoscaler` ConfigMap (namespace `knative-serving`): parsed, validated, typed.

Knative's `pkg/autoscaler/config/config.go`: `defaultConfig` gives the cluster-wide
defaults, `NewConfigFromMap` reads each key (Go's `strconv.ParseBool`, `ParseFloat`,
`ParseInt` (32 bits) and `time.ParseDuration`) and `validate` checks the result. The same
keys, the same defaults and the same rules here, with Knative's messages. Durations are
seconds (floats). `container-concurrency-target-percentage` may be written as a
fraction (0.7) or a percentage (70), as upstream: values above 1 are divided by 100.

Pure. Callers:
- `ripple.api.core.configmap` validates the ConfigMap on admission with `validate`, so a
  broken one is refused naming `data[key]` and never stored;
- the KPA autoscaler reads the stored ConfigMap with `from_configmap` (and `defaults()`
  when there is none), so a `ripple apply` of Knative's documentation ConfigMaps takes
  effect without a restart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ripple import errors
from ripple.api.serving import go_durations
from ripple.errors import FieldError

NAME = "config-autoscaler"
NAMESPACE = "knative-serving"

KPA = "kpa.autoscaling.knative.dev"
HPA = "hpa.autoscaling.knative.dev"

# pkg/apis/autoscaling/register.go
WINDOW_MIN = 6.0  # seconds: the shortest stable window, and the shortest grace period
WINDOW_MAX = 3600.0
BUCKET_SIZE = 1.0  # seconds: the metric buckets; a panic window cannot be shorter
PANIC_WINDOW_PERCENTAGE_MIN = 1.0
PANIC_WINDOW_PERCENTAGE_MAX = 100.0
PANIC_THRESHOLD_PERCENTAGE_MIN = 110.0
PANIC_THRESHOLD_PERCENTAGE_MAX = 1000.0
TARGET_MIN = 0.01
INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class AutoscalerConfig:
    """Knative's `autoscalerconfig.Config`; durations in seconds."""

    enable_scale_to_zero: bool = True
    container_concurrency_target_fraction: float = 0.7
    container_concurrency_target_default: float = 100.0
    rps_target_default: float = 200.0
    target_utilization: float = 0.7  # the rps utilisation: no key sets it upstream
    max_scale_up_rate: float = 1000.0
    max_scale_down_rate: float = 2.0
    target_burst_capacity: float = 211.0
    panic_window_percentage: float = 10.0
    activator_capacity: float = 100.0
    panic_threshold_percentage: float = 200.0
    stable_window: float = 60.0
    scale_to_zero_grace_period: float = 30.0
    scale_to_zero_pod_retention_period: float = 0.0
    initial_scale: int = 1
    allow_zero_initial_scale: bool = False
    min_scale: int = 0
    max_scale: int = 0
    max_scale_limit: int = 0
    scale_down_delay: float = 0.0
    pod_autoscaler_class: str = KPA

    @property
    def panic_window(self) -> float:
        """`resources/metric.go`: the stable window times the percentage, in whole seconds,
        at least one bucket."""
        # Go's Duration.Round: halves away from zero (Python's round() goes to even)
        return max(BUCKET_SIZE, float(math.floor(self.stable_window * self.panic_window_percentage / 100 + 0.5)))


def defaults() -> AutoscalerConfig:
    """Knative's `defaultConfig()`: what applies when the ConfigMap is absent or empty."""
    return AutoscalerConfig()


def _bool(text: str) -> bool:
    # Go's strconv.ParseBool
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax') from None
    if math.isnan(value) and text.lower() not in ("nan",):
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax')
    return value


def _int32(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None
    if not -(2**31) <= value <= INT32_MAX:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": value out of range')
    return value


def _duration(text: str) -> float:
    return go_durations.parse(text)


def _string(text: str) -> str:
    return text


# key -> (the Config field, its parser), in NewConfigFromMap's order.
KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "pod-autoscaler-class": ("pod_autoscaler_class", _string),
    "allow-zero-initial-scale": ("allow_zero_initial_scale", _bool),
    "enable-scale-to-zero": ("enable_scale_to_zero", _bool),
    "max-scale-up-rate": ("max_scale_up_rate", _float),
    "max-scale-down-rate": ("max_scale_down_rate", _float),
    "container-concurrency-target-percentage": ("container_concurrency_target_fraction", _float),
    "container-concurrency-target-default": ("container_concurrency_target_default", _float),
    "requests-per-second-target-default": ("rps_target_default", _float),
    "target-burst-capacity": ("target_burst_capacity", _float),
    "panic-window-percentage": ("panic_window_percentage", _float),
    "activator-capacity": ("activator_capacity", _float),
    "panic-threshold-percentage": ("panic_threshold_percentage", _float),
    "initial-scale": ("initial_scale", _int32),
    "min-scale": ("min_scale", _int32),
    "max-scale": ("max_scale", _int32),
    "max-scale-limit": ("max_scale_limit", _int32),
    "stable-window": ("stable_window", _duration),
    "scale-down-delay": ("scale_down_delay", _duration),
    "scale-to-zero-grace-period": ("scale_to_zero_grace_period", _duration),
    "scale-to-zero-pod-retention-period": ("scale_to_zero_pod_retention_period", _duration),
}
assert {f for f, _ in KEYS.values()} <= {f.name for f in fields(AutoscalerConfig)}

_KEY_OF = {field: key for key, (field, _) in KEYS.items()}


def path(key: str) -> str:
    return f"data[{key}]"


def parse(data: Mapping[str, Any]) -> tuple[AutoscalerConfig, list[FieldError]]:
    """The config the map gives, and every broken rule (the config is `defaults()` then).

    Keys Knative does not read (`_example`, comments, keys of newer releases) are ignored,
    as upstream does.
    """
    errs: list[FieldError] = []
    values: dict[str, Any] = {}
    for key, (field, parser) in KEYS.items():
        raw = data.get(key)
        if raw is None:
            continue
        if not isinstance(raw, str):
            errs.append(FieldError(path(key), f"must be a string, got {type(raw).__name__}"))
            continue
        try:
            values[field] = parser(raw.strip())
        except ValueError as exc:
            errs.append(FieldError(path(key), f'failed to parse "{raw}": {exc}'))
    if errs:
        return defaults(), errs
    config = replace(defaults(), **values)
    if config.container_concurrency_target_fraction > 1.0:
        config = replace(config, container_concurrency_target_fraction=(
            config.container_concurrency_target_fraction / 100.0))
    errs = _validate(config)
    return (defaults(), errs) if errs else (config, [])


def _validate(c: AutoscalerConfig) -> list[FieldError]:
    """Upstream's `validate`, rule for rule and in its order, with its messages; each error
    names the key it is about. Upstream stops at the first; all are reported here."""
    errs: list[FieldError] = []

    def bad(field: str, message: str) -> None:
        errs.append(FieldError(path(_KEY_OF[field]), message))

    fmt = go_durations.format_seconds
    if c.scale_to_zero_grace_period <= 0:
        bad("scale_to_zero_grace_period", f"scale-to-zero-grace-period must be positive, was: "
                                          f"{fmt(c.scale_to_zero_grace_period)}")
    if c.scale_down_delay < 0:
        bad("scale_down_delay", f"scale-down-delay cannot be negative, was: {fmt(c.scale_down_delay)}")
    elif not go_durations.whole_seconds(c.scale_down_delay):
        bad("scale_down_delay", f"scale-down-delay = {fmt(c.scale_down_delay)}, must be specified "
                                "with at most second precision")
    if c.scale_to_zero_pod_retention_period < 0:
        bad("scale_to_zero_pod_retention_period",
            f"scale-to-zero-pod-retention-period cannot be negative, was: "
            f"{fmt(c.scale_to_zero_pod_retention_period)}")
    if c.target_burst_capacity < 0 and c.target_burst_capacity != -1:
        bad("target_burst_capacity", f"target-burst-capacity must be either non-negative or -1 "
                                     f"(for unlimited), was: {c.target_burst_capacity:f}")
    fraction = c.container_concurrency_target_fraction
    if fraction <= 0 or fraction > 1:
        bad("container_concurrency_target_fraction",
            f"container-concurrency-target-percentage = {fraction:f} is outside of valid range "
            "of (0, 100]")
    elif fraction * c.container_concurrency_target_default < TARGET_MIN:
        bad("container_concurrency_target_default",
            "container-concurrency-target-percentage and container-concurrency-target-default "
            f"yield target concurrency of {fraction * c.container_concurrency_target_default:g}, "
            f"can't be less than {TARGET_MIN:g}")
    if c.rps_target_default < TARGET_MIN:
        bad("rps_target_default", f"requests-per-second-target-default must be at least "
                                  f"{TARGET_MIN:g}, was: {c.rps_target_default:g}")
    if c.activator_capacity < 1:
        bad("activator_capacity", f"activator-capacity = {c.activator_capacity:g}, must be at least 1")
    if c.max_scale_up_rate <= 1.0:
        bad("max_scale_up_rate", f"max-scale-up-rate = {c.max_scale_up_rate:g}, must be greater than 1.0")
    if c.max_scale_down_rate <= 1.0:
        bad("max_scale_down_rate", f"max-scale-down-rate = {c.max_scale_down_rate:g}, must be "
                                   "greater than 1.0")
    if not WINDOW_MIN <= c.stable_window <= WINDOW_MAX:
        bad("stable_window", f"stable-window = {fmt(c.stable_window)}, must be in "
                             f"[{fmt(WINDOW_MIN)}; {fmt(WINDOW_MAX)}] range")
    elif not go_durations.whole_seconds(c.stable_window):
        bad("stable_window", f"stable-window = {fmt(c.stable_window)}, must be specified with at "
                             "most second precision")
    # The panic window itself is kept to at least one bucket where it is computed
    # (`panic_window`), so only the percentage is checked.
    if not PANIC_WINDOW_PERCENTAGE_MIN <= c.panic_window_percentage <= PANIC_WINDOW_PERCENTAGE_MAX:
        bad("panic_window_percentage", f"panic-window-percentage = {c.panic_window_percentage:g}, "
                                       f"must be in [{PANIC_WINDOW_PERCENTAGE_MIN:g}, "
                                       f"{PANIC_WINDOW_PERCENTAGE_MAX:g}] interval")
    if c.initial_scale < 0 or (c.initial_scale == 0 and not c.allow_zero_initial_scale):
        bad("initial_scale", f"initial-scale = {c.initial_scale}, must be at least 0 (or at "
                             "least 1 when allow-zero-initial-scale is false)")
    if c.min_scale < 0:
        bad("min_scale", f"min-scale = {c.min_scale}, must be at least 0")
    least = 1 if c.max_scale_limit > 0 else 0  # a limit needs a default max-scale
    if c.max_scale < least or (c.max_scale_limit > 0 and c.max_scale > c.max_scale_limit):
        bad("max_scale", f"max-scale = {c.max_scale}, must be in [{least}, "
                         f"max-scale-limit({c.max_scale_limit})] range")
    if c.max_scale_limit < 0:
        bad("max_scale_limit", f"max-scale-limit = {c.max_scale_limit}, must be at least 0")
    return errs


def validate(data: Mapping[str, Any]) -> list[FieldError]:
    """Every broken rule of the ConfigMap's `data`, naming `data[key]`; empty when valid."""
    return parse(data)[1]


def from_configmap(data: Mapping[str, Any] | None) -> AutoscalerConfig:
    """The settings a `config-autoscaler` ConfigMap's `data` gives (None: the defaults).

    Raises errors.Invalid naming each bad key; admission refuses such a ConfigMap, so a
    stored one always parses."""
    config, errs = parse(data or {})
    if errs:
        raise errors.Invalid(errs)
    return config
