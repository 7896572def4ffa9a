"""Admission of the serving kinds (`ripple.api.serving`): Knative's defaults, and validation
errors that name the field, for Service, Configuration, Revision and Route; traffic rules,
template names, the autoscaling annotations, and the URL scheme (`urls`)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import ripple.api  # noqa: F401  (registers the kinds)
from ripple import errors
from ripple.api import loading, registry
from ripple.api.serving import annotation_validation, go_durations, urls

SERVING = "serving.knative.dev/v1"
Object = dict[str, Any]


def ksvc(spec: Object | None = None, name: str = "hello", **metadata: Any) -> Object:
    return {"apiVersion": SERVING, "kind": "Service",
            "metadata": {"name": name, **metadata},
            "spec": spec if spec is not None else {"template": {"spec": {"containers": [
                {"image": "ghcr.io/knative/helloworld-go"}]}}}}


def with_template(template: Object, traffic: list[Object] | None = None) -> Object:
    spec: Object = {"template": template}
    if traffic is not None:
        spec["traffic"] = traffic
    return ksvc(spec)


def containers(*items: Object, **spec: Any) -> Object:
    return {"spec": {"containers": list(items), **spec}}


def annotated(**annotations: str) -> Object:
    return {"metadata": {"annotations": {f"autoscaling.knative.dev/{k.replace('_', '-')}": v
                                         for k, v in annotations.items()}},
            "spec": {"containers": [{"command": ["app"]}]}}


def refused(obj: Object, old: Object | None = None) -> list[tuple[str, str]]:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj, old)
    return [(e.path, e.message) for e in caught.value.errors]


def test_the_kinds_and_their_short_names() -> None:
    for name, kind in [("ksvc", "Service"), ("kservice", "Service"), ("config", "Configuration"),
                       ("cfg", "Configuration"), ("rev", "Revision"), ("rt", "Route"),
                       ("services.serving.knative.dev", "Service"), ("cm", "ConfigMap")]:
        assert registry.by_name(name).kind == kind
    assert registry.by_resource("serving.knative.dev", "v1", "revisions").kind == "Revision"


def test_a_service_is_defaulted_as_knative_does() -> None:
    admitted = loading.admit(ksvc())
    assert admitted["metadata"]["namespace"] == "default"
    template_spec = admitted["spec"]["template"]["spec"]
    assert template_spec["timeoutSeconds"] == 300 and template_spec["containerConcurrency"] == 0
    (container,) = template_spec["containers"]
    assert container["name"] == "user-container"
    assert container["readinessProbe"] == {"tcpSocket": {"port": 0}, "successThreshold": 1}
    assert admitted["spec"]["traffic"] == [{"percent": 100, "latestRevision": True}]
    assert loading.admit(admitted) == admitted  # idempotent


def test_several_containers_are_named_by_index_and_only_the_serving_one_is_probed() -> None:
    admitted = loading.admit(with_template(containers(
        {"image": "a", "ports": [{"containerPort": 8080}]}, {"image": "b"})))
    first, second = admitted["spec"]["template"]["spec"]["containers"]
    assert (first["name"], second["name"]) == ("user-container-0", "user-container-1")
    assert "readinessProbe" in first and "readinessProbe" not in second


def test_traffic_targets_are_defaulted() -> None:
    admitted = loading.admit(with_template(containers({"command": ["app"]}), [
        {"revisionName": "hello-00001", "percent": 100}, {"latestRevision": True, "tag": "next"}]))
    assert admitted["spec"]["traffic"] == [
        {"revisionName": "hello-00001", "percent": 100, "latestRevision": False},
        {"latestRevision": True, "tag": "next", "percent": 0}]


# (name, the object, the (path, message fragment) pairs wanted, in order)
INVALID: list[tuple[str, Object, list[tuple[str, str]]]] = [
    ("no spec", ksvc(spec=None) | {"spec": None},
     [("spec", "required field is missing")]),
    ("no containers", with_template({"spec": {}}),
     [("spec.template.spec.containers", "required field is missing")]),
    ("neither image nor command", with_template(containers({"name": "app"})),
     [("spec.template.spec.containers[0].image", "give an image, or a command")]),
    ("a container field Knative does not allow", with_template(containers({"image": "a", "stdin": True})),
     [("spec.template.spec.containers[0].stdin", 'unknown field "stdin"')]),
    ("command is a list of strings", with_template(containers({"command": "python app.py"})),
     [("spec.template.spec.containers[0].command", "must be a list of strings")]),
    ("env names and values", with_template(containers({"command": ["a"], "env": [
        {"name": "1X", "value": "v"}, {"value": "v"}, {"name": "A", "value": 3}]})),
     [("spec.template.spec.containers[0].env[0].name", "must not start with a digit"),
      ("spec.template.spec.containers[0].env[1].name", "required field is missing"),
      ("spec.template.spec.containers[0].env[2].value", "must be a string")]),
    ("two ports", with_template(containers({"image": "a", "ports": [
        {"containerPort": 8080}, {"containerPort": 8081}]})),
     [("spec.template.spec.containers[0].ports", "more than one container port is set")]),
    ("a reserved port, a wrong port name", with_template(containers({"image": "a", "ports": [
        {"containerPort": 8012, "name": "grpc"}]})),
     [("spec.template.spec.containers[0].ports[0].containerPort", "8012 is a reserved port"),
      ("spec.template.spec.containers[0].ports[0].name", 'must be empty, "http1" or "h2c"')]),
    ("several containers, none with ports", with_template(containers({"image": "a"}, {"image": "b"})),
     [("spec.template.spec.containers", "exactly one container must have ports")]),
    ("a probe with two handlers and a negative period",
     with_template(containers({"image": "a", "readinessProbe": {
         "httpGet": {"path": "/"}, "tcpSocket": {}, "periodSeconds": -1}})),
     [("spec.template.spec.containers[0].readinessProbe", "expected exactly one, got both"),
      ("spec.template.spec.containers[0].readinessProbe.periodSeconds", "expected 0 <= -1")]),
    ("containerConcurrency out of range", with_template(containers({"image": "a"}, containerConcurrency=1001)),
     [("spec.template.spec.containerConcurrency", "expected 0 <= 1001 <= 1000")]),
    ("timeoutSeconds out of range", with_template(containers({"image": "a"}, timeoutSeconds=601)),
     [("spec.template.spec.timeoutSeconds", "expected 0 <= 601 <= 600")]),
    ("a PodSpec field Knative does not allow", with_template(containers({"image": "a"}, hostNetwork=True)),
     [("spec.template.spec.hostNetwork", 'unknown field "hostNetwork"')]),
    ("a template name without the service's prefix",
     with_template({"metadata": {"name": "blue"}, **containers({"image": "a"})}),
     [("spec.template.metadata.name", '"blue" must have prefix "hello-"')]),
    ("a template name that is not a DNS-1035 label",
     with_template({"metadata": {"name": "hello-Blue"}, **containers({"image": "a"})}),
     [("spec.template.metadata.name", "a DNS-1035 label")]),
    ("percents that do not sum to 100", with_template(containers({"image": "a"}), [
        {"revisionName": "hello-00001", "percent": 40}, {"latestRevision": True, "percent": 50}]),
     [("spec.traffic", "Traffic targets sum to 90, want 100")]),
    ("a percent out of range", with_template(containers({"image": "a"}), [
        {"latestRevision": True, "percent": 101}]),
     [("spec.traffic[0].percent", "expected 0 <= 101 <= 100"),
      ("spec.traffic", "Traffic targets sum to 101, want 100")]),
    ("a tag used twice", with_template(containers({"image": "a"}), [
        {"revisionName": "hello-00001", "percent": 50, "tag": "x"},
        {"latestRevision": True, "percent": 50, "tag": "x"}]),
     [("spec.traffic[1].tag", 'Multiple definitions for "x"'),
      ("spec.traffic[0].tag", 'Multiple definitions for "x"')]),
    ("a tag that is not a DNS-1035 label", with_template(containers({"image": "a"}), [
        {"latestRevision": True, "percent": 100, "tag": "V1"}]),
     [("spec.traffic[0].tag", "a DNS-1035 label")]),
    ("latestRevision true beside a revisionName", with_template(containers({"image": "a"}), [
        {"revisionName": "hello-00001", "latestRevision": True, "percent": 100}]),
     [("spec.traffic[0].latestRevision", 'may not set revisionName "hello-00001" when latestRevision is true')]),
    ("latestRevision false without a revisionName", with_template(containers({"image": "a"}), [
        {"latestRevision": False, "percent": 100}]),
     [("spec.traffic[0].latestRevision", 'may not set revisionName "" when latestRevision is false')]),
    ("configurationName in a Service", with_template(containers({"image": "a"}), [
        {"configurationName": "hello", "percent": 100}]),
     [("spec.traffic[0].configurationName", "must not set the field(s)")]),
    ("url in spec", with_template(containers({"image": "a"}), [
        {"latestRevision": True, "percent": 100, "tag": "a", "url": "http://x"}]),
     [("spec.traffic[0].url", "must not set the field(s)")]),
    ("autoscaling annotations on the Service itself",
     ksvc(annotations={"autoscaling.knative.dev/min-scale": "1"}),
     [("metadata.annotations[autoscaling.knative.dev/min-scale]",
       "must be put under `spec.template.metadata.annotations`")]),
    ("a route with no traffic", {"apiVersion": SERVING, "kind": "Route", "metadata": {"name": "r"},
                                 "spec": {}},
     [("spec.traffic", "Traffic targets sum to 0, want 100")]),
    ("a route target with both names", {"apiVersion": SERVING, "kind": "Route", "metadata": {"name": "r"},
                                        "spec": {"traffic": [{"revisionName": "a", "configurationName": "b",
                                                              "percent": 100}]}},
     [("spec.traffic[0]", "expected exactly one, got both: revisionName, configurationName")]),
    ("a route's service label without its Service", {
        "apiVersion": SERVING, "kind": "Route",
        "metadata": {"name": "r", "labels": {"serving.knative.dev/service": "r"}},
        "spec": {"traffic": [{"revisionName": "r-00001", "percent": 100}]}},
     [("metadata.labels[serving.knative.dev/service]", 'no ownerReference to Service "r"')]),
    ("a revisionName that is not a qualified name", {
        "apiVersion": SERVING, "kind": "Route", "metadata": {"name": "r"},
        "spec": {"traffic": [{"revisionName": "r 1", "percent": 100}]}},
     [("spec.traffic[0].revisionName", 'invalid key name "r 1"')]),
    ("a route target with neither", {"apiVersion": SERVING, "kind": "Route", "metadata": {"name": "r"},
                                     "spec": {"traffic": [{"percent": 100, "tag": "a"}]}},
     [("spec.traffic[0]", "expected exactly one, got neither")]),
    ("a configuration without a template", {"apiVersion": SERVING, "kind": "Configuration",
                                            "metadata": {"name": "c"}, "spec": {}},
     [("spec.template", "required field is missing")]),
    ("a revision with a Knative label it does not own", {
        "apiVersion": SERVING, "kind": "Revision",
        "metadata": {"name": "r-00001", "labels": {"serving.knative.dev/configuration": "r",
                                                   "serving.knative.dev/other": "x"}},
        "spec": {"containers": [{"command": ["app"]}]}},
     [("metadata.labels[serving.knative.dev/configuration]", "no ownerReference to Configuration"),
      ("metadata.labels[serving.knative.dev/other]", "invalid key name")]),
    ("a revision without containers", {"apiVersion": SERVING, "kind": "Revision",
                                       "metadata": {"name": "r-00001"}, "spec": {}},
     [("spec.containers", "required field is missing")]),
]


@pytest.mark.parametrize("name, obj, wanted", INVALID, ids=[c[0] for c in INVALID])
def test_validation_names_the_field(name: str, obj: Object, wanted: list[tuple[str, str]]) -> None:
    got = refused(obj)
    assert [p for p, _ in got] == [p for p, _ in wanted], got
    for (_, message), (_, fragment) in zip(got, wanted):
        assert fragment in message


# (annotations, the paths refused; [] when admitted)
ANNOTATIONS: list[tuple[Object, list[str]]] = [
    ({"min_scale": "1", "max_scale": "3", "target": "10", "window": "40s"}, []),
    ({"class": "hpa.autoscaling.knative.dev", "metric": "cpu"}, []),
    ({"class": "example.com/custom"}, []),  # another autoscaler's class: not ours to judge
    ({"initial_scale": "0"}, []),  # admitted: the ConfigMap's allow-zero-initial-scale decides
    ({"scale_down_delay": "15m", "scale_to_zero_pod_retention_period": "1m5s"}, []),
    ({"target_burst_capacity": "-1", "panic_threshold_percentage": "150.0"}, []),
    ({"class": "xpa.autoscaling.knative.dev"}, ["class"]),
    ({"metric": "cpu"}, ["metric"]),  # the KPA scales on concurrency or rps
    ({"min_scale": "-1"}, ["min-scale"]),
    ({"min_scale": "5", "max_scale": "3"}, ["max-scale", "min-scale"]),
    ({"max_scale": "two"}, ["max-scale"]),
    ({"target": "0.001"}, ["target"]),
    ({"target_utilization_percentage": "101"}, ["target-utilization-percentage"]),
    ({"window": "5s"}, ["window"]),
    ({"window": "60.5s"}, ["window"]),
    ({"window": "60"}, ["window"]),  # a Go duration needs a unit
    ({"panic_window_percentage": "0.5"}, ["panic-window-percentage"]),
    ({"panic_threshold_percentage": "100"}, ["panic-threshold-percentage"]),
    ({"target_burst_capacity": "-2"}, ["target-burst-capacity"]),
    ({"scale_down_delay": "2h"}, ["scale-down-delay"]),
    ({"activation_scale": "1"}, ["activation-scale"]),
    ({"activation_scale": "5", "max_scale": "3"}, ["activation-scale"]),
    ({"class": "kpa.autoscaling.knative.dev", "metric_aggregation_algorithm": "median"},
     ["metric-aggregation-algorithm"]),
    ({"metric_aggregation_algorithm": "median"}, []),  # as upstream: only an explicit KPA class
    ({"minscale": "1"}, ["minscale"]),  # unknown (a typo)
    ({"minScale": "1", "min_scale": "2"}, ["min-scale"]),  # one key, two spellings
]


@pytest.mark.parametrize("annotations, wanted", ANNOTATIONS, ids=[str(a) for a, _ in ANNOTATIONS])
def test_autoscaling_annotations(annotations: Object, wanted: list[str]) -> None:
    obj = with_template(annotated(**annotations))
    if not wanted:
        loading.admit(obj)
        return
    prefix = "spec.template.metadata.annotations[autoscaling.knative.dev/"
    assert [p for p, _ in refused(obj)] == [f"{prefix}{k}]" for k in wanted]


def test_camel_case_spellings_are_read() -> None:
    annotations = {"autoscaling.knative.dev/minScale": "2"}
    assert annotation_validation.get(annotations, annotation_validation.MIN_SCALE) == "2"


# --- updates: template names and Revision immutability --------------------------------------------

def test_a_named_template_must_change_its_name_with_any_change() -> None:
    old = loading.admit(with_template({"metadata": {"name": "hello-blue"},
                                       **containers({"command": ["app", "v1"]})}))
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["command"] = ["app", "v2"]
    ((path, message),) = refused(new, old)
    assert path == "spec.template.metadata.name"
    assert message.startswith("Saw the following changes without a name change (-old +new): "
                              "spec.template.spec.containers[0].command[1]")
    new["spec"]["template"]["metadata"]["name"] = "hello-green"
    loading.admit(new, old)
    traffic_only = copy.deepcopy(old)
    traffic_only["spec"]["traffic"] = [{"revisionName": "hello-blue", "percent": 100}]
    loading.admit(traffic_only, old)  # traffic is not the template


def test_a_revision_spec_is_immutable_and_its_metadata_is_not() -> None:
    old = loading.admit({"apiVersion": SERVING, "kind": "Revision", "metadata": {"name": "r-00001"},
                         "spec": {"containers": [{"command": ["app"]}]}})
    changed = copy.deepcopy(old)
    changed["spec"]["containerConcurrency"] = 5
    ((path, message),) = refused(changed, old)
    assert path == "spec" and message.startswith("Immutable fields changed (-old +new): "
                                                 "spec.containerConcurrency")
    relabelled = copy.deepcopy(old)
    relabelled["metadata"]["labels"] = {"team": "a"}
    loading.admit(relabelled, old)


# --- Go durations and URLs ------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("0", 0.0), ("40s", 40.0), ("1m5s", 65.0), ("1h", 3600.0), ("1.5h", 5400.0), ("300ms", 0.3),
    ("-2s", -2.0), ("1h0m0s", 3600.0),
])
def test_go_durations(text: str, seconds: float) -> None:
    assert go_durations.parse(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "60", "1d", "s", "1m x"])
def test_go_durations_refused(text: str) -> None:
    with pytest.raises(ValueError, match="time: "):
        go_durations.parse(text)


def test_the_url_scheme() -> None:
    assert urls.route_url("ns", "hello") == "http://hello.ns.svc.cluster.local"
    assert urls.route_host("ns", "hello", "v2") == "v2-hello.ns.svc.cluster.local"
    assert urls.address_url("http://127.0.0.1:8080/", "ns", "hello") == "http://127.0.0.1:8080/serving/ns/hello"
    assert urls.address_url("http://h", "ns", "hello", "v2") == "http://h/serving/ns/hello/@v2"
    # the router reads back what the reconciler writes: one scheme
    from serving import traffic
    for tag in (None, "v2"):
        assert urls.address_url("http://h", "ns", "hello", tag) == traffic.route_url("http://h", "ns", "hello", tag)
        assert urls.route_host("ns", "hello", tag) == traffic.route_host("ns", "hello", tag)
