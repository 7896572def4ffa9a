"""The serving reconcilers driven by the local controller over an in-memory store and the
one applier: a Service makes its Configuration, Route and first Revision; a template
change makes a second Revision and leaves the first untouched (Revisions are immutable,
and the applier never updates one); `@latest` traffic moves only once the new Revision
is Ready; deleting the Service collects everything. Waits on conditions, never a clock."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

import ripple.api  # noqa: F401  (registers the kinds)
from controllers.reconciling import DataPlane
from ripple.api import loading, registry
from tests.unit.test_local_controller import NS, Harness, ready

SERVING = "serving.knative.dev/v1"
REPORTS: dict[tuple[str, str, str], list[dict[str, Any]]] = {}


def running(name: str) -> None:
    REPORTS[("Revision", NS, name)] = [{"ready": True, "actualReplicas": 1, "desiredReplicas": 1}]


def ksvc(version: str) -> dict[str, Any]:
    return loading.admit({"apiVersion": SERVING, "kind": "Service",
                          "metadata": {"name": "hello", "namespace": NS},
                          "spec": {"template": {"spec": {"containers": [
                              {"command": ["python", "-m", "http.server"],
                               "env": [{"name": "VERSION", "value": version}]}]}}}})


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    REPORTS.clear()
    async with Harness(lambda: DataPlane(synced=2**62, reports=copy.deepcopy(REPORTS))) as h:
        yield h


def traffic(h: Harness) -> list[dict[str, Any]]:
    return ((h.cached("Service", "hello") or {}).get("status") or {}).get("traffic") or []


async def test_a_service_rolls_out_a_second_revision(harness: Harness) -> None:
    h = harness
    await h.store.create(ksvc("v1"))
    await h.until(lambda: h.cached("Revision", "hello-00001") is not None)
    assert ready(h.cached("Service", "hello")) != "True"  # nothing runs it yet
    running("hello-00001")
    await h.until(lambda: ready(h.cached("Service", "hello")) == "True")
    status = (h.cached("Service", "hello") or {})["status"]
    assert status["latestReadyRevisionName"] == "hello-00001"
    assert status["address"]["url"] == f"http://x/serving/{NS}/hello"
    assert traffic(h) == [{"revisionName": "hello-00001", "latestRevision": True, "percent": 100}]
    first = h.cached("Revision", "hello-00001")
    assert first is not None

    current = await h.store.get(registry.lookup(SERVING, "Service"), NS, "hello")
    current["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "v2"
    await h.store.update(current)
    await h.until(lambda: h.cached("Revision", "hello-00002") is not None)
    await h.until(lambda: ((h.cached("Configuration", "hello") or {}).get("status") or {})
                  .get("latestCreatedRevisionName") == "hello-00002")
    # not Ready yet: @latest stays on the first Revision
    assert traffic(h)[0]["revisionName"] == "hello-00001"
    running("hello-00002")
    await h.until(lambda: traffic(h) and traffic(h)[0]["revisionName"] == "hello-00002"
                  and ready(h.cached("Service", "hello")) == "True")
    second = h.cached("Revision", "hello-00002")
    assert second is not None
    assert second["spec"]["containers"][0]["env"] == [{"name": "VERSION", "value": "v2"}]
    # the first Revision is kept, and its spec and metadata were never written again
    # (its status was: the Revision reconciler writes it)
    kept = h.cached("Revision", "hello-00001")
    assert kept is not None and kept["spec"] == first["spec"]
    assert kept["metadata"]["generation"] == first["metadata"]["generation"] == 1
    assert kept["metadata"]["labels"] == first["metadata"]["labels"]


async def test_deleting_a_service_collects_its_revisions(harness: Harness) -> None:
    h = harness
    await h.store.create(ksvc("v1"))
    await h.until(lambda: h.cached("Revision", "hello-00001") is not None)
    await h.store.delete(registry.lookup(SERVING, "Service"), NS, "hello")
    await h.until(lambda: not h.informer.list("Revision", NS)
                  and not h.informer.list("Configuration", NS) and not h.informer.list("Route", NS))
