"""The `config-autoscaler` ConfigMap: the typed parser (`ripple.api.serving.autoscaler_config`)
with Knative's defaults and rules, and core `v1` ConfigMap admission, which refuses a
broken `config-autoscaler` naming `data[key]` and stores any other ConfigMap as given."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import ripple.api  # noqa: F401  (registers the kinds)
from ripple import errors
from ripple.api import loading
from ripple.api.serving import autoscaler_config
from ripple.api.serving.autoscaler_config import AutoscalerConfig


def configmap(data: Any, name: str = "config-autoscaler", namespace: str = "knative-serving",
              **top: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": data, **top}


def test_knatives_defaults() -> None:
    d = autoscaler_config.defaults()
    assert (d.stable_window, d.panic_window_percentage, d.panic_threshold_percentage) == (60.0, 10.0, 200.0)
    assert (d.container_concurrency_target_default, d.container_concurrency_target_fraction) == (100.0, 0.7)
    assert (d.rps_target_default, d.target_burst_capacity) == (200.0, 211.0)
    assert (d.max_scale_up_rate, d.max_scale_down_rate) == (1000.0, 2.0)
    assert (d.scale_to_zero_grace_period, d.scale_to_zero_pod_retention_period) == (30.0, 0.0)
    assert (d.enable_scale_to_zero, d.initial_scale, d.allow_zero_initial_scale) == (True, 1, False)
    assert (d.min_scale, d.max_scale, d.max_scale_limit, d.scale_down_delay) == (0, 0, 0, 0.0)
    assert d.pod_autoscaler_class == "kpa.autoscaling.knative.dev"
    assert d.activator_capacity == 100.0
    assert d.panic_window == 6.0
    assert autoscaler_config.from_configmap(None) == d == autoscaler_config.from_configmap({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.stable_window = 6.0  # type: ignore[misc]


# (data, the fields wanted besides the defaults)
PARSED: list[tuple[dict[str, str], dict[str, Any]]] = [
    ({"stable-window": "40s"}, {"stable_window": 40.0}),
    # the fast settings tests use: a 6s window (its panic window is one 1s bucket) and grace
    ({"stable-window": "6s", "scale-to-zero-grace-period": "6s"},
     {"stable_window": 6.0, "scale_to_zero_grace_period": 6.0}),
    ({"container-concurrency-target-percentage": "80"}, {"container_concurrency_target_fraction": 0.8}),
    ({"container-concurrency-target-percentage": "0.7"}, {}),  # a fraction, as upstream allows
    ({"enable-scale-to-zero": "false"}, {"enable_scale_to_zero": False}),
    ({"enable-scale-to-zero": "True"}, {}),
    ({"max-scale-up-rate": "500.0", "max-scale-down-rate": "4.0"},
     {"max_scale_up_rate": 500.0, "max_scale_down_rate": 4.0}),
    ({"initial-scale": "0", "allow-zero-initial-scale": "true"},
     {"initial_scale": 0, "allow_zero_initial_scale": True}),
    ({"max-scale": "3", "max-scale-limit": "100", "min-scale": "1"},
     {"max_scale": 3, "max_scale_limit": 100, "min_scale": 1}),
    ({"scale-down-delay": "15m", "scale-to-zero-pod-retention-period": "1m5s"},
     {"scale_down_delay": 900.0, "scale_to_zero_pod_retention_period": 65.0}),
    ({"target-burst-capacity": "-1", "requests-per-second-target-default": "150"},
     {"target_burst_capacity": -1.0, "rps_target_default": 150.0}),
    ({"pod-autoscaler-class": "hpa.autoscaling.knative.dev"},
     {"pod_autoscaler_class": "hpa.autoscaling.knative.dev"}),
    ({"_example": "################################\n# a comment block\n", "unknown-key": "x"}, {}),
]


@pytest.mark.parametrize("data, wanted", PARSED, ids=[str(d) for d, _ in PARSED])
def test_from_configmap(data: dict[str, str], wanted: dict[str, Any]) -> None:
    got = autoscaler_config.from_configmap(data)
    assert got == dataclasses.replace(AutoscalerConfig(), **wanted)


# (data, the keys refused, a fragment of the first message)
REFUSED: list[tuple[dict[str, str], list[str], str]] = [
    ({"stable-window": "5s"}, ["stable-window"], "stable-window = 5s, must be in [6s; 1h0m0s] range"),
    ({"stable-window": "2h"}, ["stable-window"], "must be in [6s; 1h0m0s] range"),
    ({"stable-window": "60.5s"}, ["stable-window"], "at most second precision"),
    ({"stable-window": "60"}, ["stable-window"], 'time: missing unit in duration "60"'),
    ({"panic-window-percentage": "101"}, ["panic-window-percentage"], "must be in [1, 100] interval"),
    ({"scale-to-zero-grace-period": "0s"}, ["scale-to-zero-grace-period"], "must be positive, was: 0s"),
    ({"scale-down-delay": "-1s"}, ["scale-down-delay"], "cannot be negative"),
    ({"scale-down-delay": "1.5s"}, ["scale-down-delay"], "at most second precision"),
    ({"target-burst-capacity": "-2"}, ["target-burst-capacity"], "non-negative or -1"),
    ({"initial-scale": "0"}, ["initial-scale"], "allow-zero-initial-scale is false"),
    ({"min-scale": "-1"}, ["min-scale"], "must be at least 0"),
    ({"max-scale": "5", "max-scale-limit": "3"}, ["max-scale"], "must be in [1, max-scale-limit(3)] range"),
    ({"max-scale-limit": "3"}, ["max-scale"], "max-scale = 0, must be in [1, max-scale-limit(3)]"),
    ({"container-concurrency-target-percentage": "0"}, ["container-concurrency-target-percentage"],
     "is outside of valid range of (0, 100]"),
    ({"container-concurrency-target-percentage": "101"}, ["container-concurrency-target-percentage"],
     "is outside of valid range of (0, 100]"),
    ({"container-concurrency-target-default": "0.01"}, ["container-concurrency-target-default"],
     "can't be less than 0.01"),
    ({"requests-per-second-target-default": "0"}, ["requests-per-second-target-default"],
     "must be at least 0.01"),
    ({"max-scale-up-rate": "1"}, ["max-scale-up-rate"], "must be greater than 1.0"),
    ({"max-scale-down-rate": "0.5"}, ["max-scale-down-rate"], "must be greater than 1.0"),
    ({"enable-scale-to-zero": "yes"}, ["enable-scale-to-zero"], 'strconv.ParseBool: parsing "yes"'),
    ({"max-scale": "1.5"}, ["max-scale"], 'strconv.ParseInt: parsing "1.5"'),
    ({"max-scale-up-rate": "fast", "min-scale": "x"}, ["max-scale-up-rate", "min-scale"],
     'strconv.ParseFloat: parsing "fast"'),
]


@pytest.mark.parametrize("data, keys, fragment", REFUSED, ids=[str(d) for d, _, _ in REFUSED])
def test_refused_naming_the_key(data: dict[str, str], keys: list[str], fragment: str) -> None:
    problems = autoscaler_config.validate(data)
    assert [p.path for p in problems] == [f"data[{k}]" for k in keys]
    assert fragment in problems[0].message
    with pytest.raises(errors.Invalid):
        autoscaler_config.from_configmap(data)
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(configmap(data))
    assert [e.path for e in caught.value.errors] == [f"data[{k}]" for k in keys]


def test_only_config_autoscaler_in_knative_serving_is_read() -> None:
    loading.admit(configmap({"stable-window": "5s"}, name="other"))
    loading.admit(configmap({"stable-window": "5s"}, namespace="default"))


# (the ConfigMap, the paths refused)
CONFIGMAPS: list[tuple[dict[str, Any], list[str]]] = [
    (configmap({"a": "1"}, name="c", namespace="x", binaryData={"b": "aGk="}, immutable=True), []),
    (configmap({"bad key": "1"}, name="c"), ["data[bad key]"]),
    (configmap({"k": 1}, name="c"), ["data[k]"]),
    (configmap("...", name="c"), ["data"]),
    (configmap({"k": "v"}, name="c", binaryData={"k": "aGk="}), ["binaryData[k]"]),
    (configmap({}, name="c", binaryData={"b": "not base64!"}), ["binaryData[b]"]),
    (configmap({}, name="c", spec={}), ["spec"]),
]


@pytest.mark.parametrize("obj, paths", CONFIGMAPS, ids=[str(p) for _, p in CONFIGMAPS])
def test_configmap_admission(obj: dict[str, Any], paths: list[str]) -> None:
    if not paths:
        assert loading.admit(obj)["data"] == obj["data"]
        return
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj)
    assert [e.path for e in caught.value.errors] == paths


def test_an_immutable_configmap_keeps_its_data() -> None:
    old = loading.admit(configmap({"a": "1"}, name="c", immutable=True))
    new = {**old, "data": {"a": "2"}}
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(new, old)
    assert [e.path for e in caught.value.errors] == ["data"]
