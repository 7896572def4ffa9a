"""The pure parts of the Kubernetes platform: merge patches, API paths, a Revision's
Deployment and Service, and what a Deployment's status reports for its Revision."""

from __future__ import annotations

from typing import Any

import pytest

import ripple.api  # noqa: F401
from controllers.platforms.kubernetes import api, workloads
from ripple.api import registry


@pytest.mark.parametrize("current,desired,patch", [
    ({"a": 1}, {"a": 1}, None),
    ({"a": 1}, {"a": 2}, {"a": 2}),
    ({"a": 1, "b": 2}, {"a": 1}, {"b": None}),
    ({"a": {"x": 1, "y": 2}}, {"a": {"x": 1, "y": 3}}, {"a": {"y": 3}}),
    ({"a": {"x": 1}}, {"a": {}}, {"a": {"x": None}}),
    ({"a": [1, 2]}, {"a": [1]}, {"a": [1]}),  # lists are replaced whole (RFC 7386)
    ({}, {"a": {"b": 1}}, {"a": {"b": 1}}),
    ({"a": 1}, {"a": {"b": 1}}, {"a": {"b": 1}}),
])
def test_merge_patch(current: Any, desired: Any, patch: Any) -> None:
    assert api.merge_patch(current, desired) == patch


def test_paths() -> None:
    broker = api.Resource.of(registry.lookup("eventing.knative.dev/v1", "Broker"))
    assert broker.path("ns", "b", "status") == "/apis/eventing.knative.dev/v1/namespaces/ns/brokers/b/status"
    assert broker.path() == "/apis/eventing.knative.dev/v1/brokers"
    assert api.SERVICES.path("ns", "s") == "/api/v1/namespaces/ns/services/s"
    assert api.resource_of({"apiVersion": "apps/v1", "kind": "Deployment"}) is api.DEPLOYMENTS
    assert api.resource_of({"apiVersion": "serving.knative.dev/v1", "kind": "Service"}).plural == "services"


REVISION = {
    "apiVersion": "serving.knative.dev/v1", "kind": "Revision",
    "metadata": {"name": "hello-00001", "namespace": "ns", "uid": "u-1",
                 "labels": {"serving.knative.dev/service": "hello", "other": "x"}},
    "spec": {"containerConcurrency": 0, "timeoutSeconds": 300, "serviceAccountName": "sa",
             "containers": [{"image": "img:1", "ports": [{"containerPort": 9000}],
                             "env": [{"name": "PORT", "value": "1"}, {"name": "A", "value": "b"}]}]},
}


def test_a_revision_becomes_a_deployment_it_owns() -> None:
    deployment = workloads.make_deployment(REVISION, 2)
    assert deployment["metadata"]["ownerReferences"] == [{
        "apiVersion": "serving.knative.dev/v1", "kind": "Revision", "name": "hello-00001",
        "uid": "u-1", "controller": True, "blockOwnerDeletion": True}]
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"] == {"matchLabels": {"serving.knative.dev/revision": "hello-00001"}}
    labels = spec["template"]["metadata"]["labels"]
    assert labels["serving.knative.dev/service"] == "hello" and "other" not in labels
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "sa"
    assert pod["terminationGracePeriodSeconds"] == 300
    (container,) = pod["containers"]
    assert container["name"] == "user-container"
    assert container["env"] == [{"name": "A", "value": "b"}, {"name": "PORT", "value": "9000"}]
    assert container["ports"] == [{"name": "user-port", "containerPort": 9000}]
    # the same template, the same digest: a Deployment is patched only when it changes
    assert workloads.make_deployment(REVISION, 5)["metadata"]["annotations"] == \
        deployment["metadata"]["annotations"]


def test_and_a_service_on_port_80() -> None:
    service = workloads.make_service(REVISION)
    assert service["spec"] == {"selector": {"serving.knative.dev/revision": "hello-00001"},
                               "ports": [{"name": "http", "port": 80, "targetPort": 9000}]}
    assert service["metadata"]["ownerReferences"][0]["uid"] == "u-1"


@pytest.mark.parametrize("spec,status,report", [
    ({"replicas": 1}, {}, {"ready": False, "actualReplicas": 0, "desiredReplicas": 1,
                           "endpoints": []}),
    ({"replicas": 2}, {"readyReplicas": 1}, {"ready": True, "actualReplicas": 1, "desiredReplicas": 2,
                                             "endpoints": ["hello-00001.ns.svc.cluster.local:80"]}),
    ({"replicas": 0}, {"replicas": 0}, {"ready": True, "actualReplicas": 0, "desiredReplicas": 0,
                                        "endpoints": []}),
    ({"replicas": 1}, {"conditions": [{"type": "Progressing", "status": "False",
                                       "reason": "ProgressDeadlineExceeded", "message": "stuck"}]},
     {"ready": False, "actualReplicas": 0, "desiredReplicas": 1, "endpoints": [], "error": "stuck",
      "reason": "ProgressDeadlineExceeded"}),
])
def test_what_a_deployment_reports_for_its_revision(spec: Any, status: Any, report: Any) -> None:
    endpoint = workloads.service_endpoint("ns", "hello-00001")
    assert workloads.report_of({"spec": spec, "status": status}, endpoint) == report
