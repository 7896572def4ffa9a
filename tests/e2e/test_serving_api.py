"""The serving API on a real `ripple up`: Knative's documentation Service applies unchanged
and gets its Configuration, Route and first Revision; a container given only as an image
reports, through Revision, Configuration and Service, what to do to run it; the
`config-autoscaler` ConfigMap is served and a broken one is refused naming the key.

An image with no command cannot run on one machine, so nothing becomes Ready here;
`test_serving.py` runs function revisions through the router."""

from __future__ import annotations

import time
import urllib.error
from typing import Any

import pytest

from tests.support.mesh import Mesh

pytestmark = pytest.mark.e2e

SERVING = "/apis/serving.knative.dev/v1/namespaces/default"

HELLO = """
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: helloworld-go
  namespace: default
spec:
  template:
    spec:
      containers:
        - image: ghcr.io/knative/helloworld-go:latest
          env:
            - name: TARGET
              value: "World"
"""


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in (obj.get("status") or {}).get("conditions") or []
                 if c["type"] == type_), {})


def failed(mesh: Mesh, path: str, type_: str = "Ready") -> dict[str, Any] | None:
    """The object once its condition is False; None while it is absent or not yet False."""
    try:
        obj = mesh.get(path)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise
    return obj if condition(obj, type_).get("status") == "False" else None


def until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_an_image_only_service_says_what_to_do(mesh: Mesh) -> None:
    mesh.apply(HELLO)
    revision = until(lambda: failed(mesh, f"{SERVING}/revisions/helloworld-go-00001"))
    ready = condition(revision, "Ready")
    assert ready["reason"] == "CommandRequired"
    assert "add a command" in ready["message"] and "Kubernetes" in ready["message"]
    assert revision["metadata"]["labels"]["serving.knative.dev/service"] == "helloworld-go"
    service = until(lambda: failed(mesh, f"{SERVING}/services/helloworld-go", "ConfigurationsReady"))
    assert condition(service, "ConfigurationsReady")["reason"] == "RevisionFailed"
    assert "add a command" in condition(service, "ConfigurationsReady")["message"]
    assert condition(service, "Ready")["status"] == "False"
    assert service["status"]["latestCreatedRevisionName"] == "helloworld-go-00001"
    assert "latestReadyRevisionName" not in service["status"]
    route = mesh.get(f"{SERVING}/routes/helloworld-go")
    # reachable from this machine without DNS, through ripple up's own port
    assert route["status"]["url"] == f"{mesh.url}/serving/default/helloworld-go"
    # no address while no revision can take traffic (Knative's route.go): a Trigger that
    # names this Service does not resolve, rather than send events to a failed revision
    assert "address" not in route["status"]
    table = mesh.cli("get", "revisions").stdout
    assert "helloworld-go-00001" in table


def test_config_autoscaler_is_served_and_validated(mesh: Mesh) -> None:
    mesh.apply("""
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-autoscaler
  namespace: knative-serving
data:
  stable-window: "6s"
  scale-to-zero-grace-period: "6s"
""")
    stored = mesh.get("/api/v1/namespaces/knative-serving/configmaps/config-autoscaler")
    assert stored["data"]["stable-window"] == "6s"
    bad = mesh.cli("apply", "-f", "-", check=False, input="""
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-autoscaler
  namespace: knative-serving
data:
  stable-window: "5s"
""")
    assert bad.returncode == 1
    assert "data[stable-window]" in bad.stderr and "must be in [6s; 1h0m0s] range" in bad.stderr
