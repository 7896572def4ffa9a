"""The revision runtime's pure parts: what a Revision runs (`serving.workload.plan`), its
readiness probe (`serving.probing.probe_of`), the exit reason, and an image-only revision
that starts nothing."""

from __future__ import annotations

from typing import Any

import pytest

from serving import probing, replicas, runtime, workload


def rev(container: dict[str, Any] | None = None, *, annotations: dict[str, str] | None = None,
        labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "hello-00001", "namespace": "ns",
                         "annotations": annotations or {}, "labels": labels or {}},
            "spec": {"containers": [container or {}], **spec}}


PLANS = [
    ("command and args, in order",
     rev({"command": ["python", "-m"], "args": ["http.server"]}),
     dict(argv=("python", "-m", "http.server"), function=None, error=None)),
    ("the annotation makes a function revision, whatever the command",
     rev({"command": ["x"]}, annotations={"ripple.dev/function": "/abs/f.py:main"}),
     dict(function="/abs/f.py:main", error=None)),
    ("ripple function serve by name",
     rev({"command": ["ripple", "function", "serve"], "args": ["f.py:main", "--timeout", "3"]}),
     dict(function="f.py:main")),
    ("ripple function serve by path, FILE from workingDir",
     rev({"command": ["/venv/bin/ripple"], "args": ["function", "serve", "f.py:main"],
          "workingDir": "/srv"}),
     dict(function="/srv/f.py:main", cwd="/srv")),
    ("another ripple command is a command",
     rev({"command": ["ripple", "up"]}), dict(function=None, argv=("ripple", "up"))),
    ("an image with no command cannot run",
     rev({"image": "gcr.io/knative-samples/helloworld-go"}),
     dict(reason="CommandRequired", argv=())),
    ("neither image nor command",
     rev({"name": "c"}), dict(reason="CommandRequired",
                              error='container "c": a command is required to run it as a process')),
    ("timeoutSeconds is the grace and the host's timeout",
     rev({"command": ["x"]}, timeoutSeconds=7), dict(timeout=7.0, grace=7.0)),
    ("without timeoutSeconds: Knative's 300 s, and a 30 s grace",
     rev({"command": ["x"]}), dict(timeout=300.0, grace=30.0)),
]


@pytest.mark.parametrize(("case", "revision", "expected"), PLANS, ids=[p[0] for p in PLANS])
def test_plan(case: str, revision: dict[str, Any], expected: dict[str, Any]) -> None:
    found = workload.plan(revision)
    assert {k: getattr(found, k) for k in expected} == expected


def test_the_image_message_says_what_to_do() -> None:
    error = workload.plan(rev({"image": "img"})).error or ""
    assert "add a command" in error and "Kubernetes" in error


def test_env_follows_the_runtime_contract() -> None:
    found = workload.plan(rev(
        {"command": ["x"], "env": [{"name": "A", "value": "1"}, {"name": "B"},
                                   {"name": "S", "valueFrom": {"secretKeyRef": {}}}]},
        labels={"serving.knative.dev/configuration": "hello",
                "serving.knative.dev/service": "svc"}, timeoutSeconds=10))
    assert found.env == {"K_REVISION": "hello-00001", "K_CONFIGURATION": "hello",
                         "K_SERVICE": "svc", "A": "1", "B": "", "RIPPLE_TIMEOUT_SECONDS": "10"}


PROBES = [
    ("no probe: TCP, aggressive until ready", {}, False,
     probing.Probe(kind="tcp"), (probing.AGGRESSIVE, probing.DEFAULT_PERIOD)),
    ("a function's default is the host's /healthz", {}, True,
     probing.Probe(kind="http", path="/healthz"), (probing.AGGRESSIVE, probing.DEFAULT_PERIOD)),
    ("httpGet with Kubernetes' timings",
     {"readinessProbe": {"httpGet": {"path": "ready", "port": 8080,
                                     "httpHeaders": [{"name": "X", "value": "y"}]},
                         "periodSeconds": 2, "failureThreshold": 5, "initialDelaySeconds": 1,
                         "timeoutSeconds": 3}}, False,
     probing.Probe(kind="http", path="/ready", headers=(("X", "y"),), period=2.0,
                   failure_threshold=5, initial_delay=1.0, timeout=3.0), (2.0, 2.0)),
    ("tcpSocket", {"readinessProbe": {"tcpSocket": {}}}, True,
     probing.Probe(kind="tcp"), (probing.AGGRESSIVE, probing.DEFAULT_PERIOD)),
]


@pytest.mark.parametrize(("case", "container", "function", "probe", "intervals"), PROBES,
                         ids=[p[0] for p in PROBES])
def test_probe_of(case: str, container: dict[str, Any], function: bool, probe: probing.Probe,
                  intervals: tuple[float, float]) -> None:
    found = probing.probe_of(container, function=function)
    assert found == probe
    assert (found.interval(False), found.interval(True)) == intervals


@pytest.mark.parametrize(("probe", "field"), [
    ({"exec": {"command": ["true"]}}, "readinessProbe.exec"),
    ({"httpGet": {"scheme": "HTTPS"}}, "readinessProbe.httpGet.scheme"),
])
def test_probes_that_cannot_run_name_the_field(probe: dict[str, Any], field: str) -> None:
    with pytest.raises(probing.ProbeError, match=field):
        probing.probe_of({"readinessProbe": probe})


@pytest.mark.parametrize(("code", "reason"), [(1, "ExitCode1"), (127, "ExitCode127"),
                                              (-9, "ExitCode137"), (-15, "ExitCode143")])
def test_exit_reason_is_knatives(code: int, reason: str) -> None:
    assert replicas.exit_reason(code) == reason


async def test_an_image_only_revision_starts_nothing_and_reports_why() -> None:
    machine = runtime.Runtime()
    found = machine.scale(rev({"image": "img"}), 3)
    assert found.slots == [] and found.pids() == []
    report = machine.reports()[("Revision", "ns", "hello-00001")]
    assert report["reason"] == "CommandRequired" and report["desiredReplicas"] == 3
    assert report["actualReplicas"] == 0 and report["ready"] is False
    await machine.close()


async def test_an_exec_probe_is_reported_and_nothing_starts() -> None:
    machine = runtime.Runtime()
    found = machine.scale(rev({"command": ["x"], "readinessProbe": {"exec": {}}}), 1)
    assert found.slots == []
    assert found.report()["reason"] == "ProbeUnsupported"
    assert "readinessProbe.exec" in found.report()["error"]
    await machine.close()


async def test_sync_scales_what_is_listed_and_forgets_the_rest() -> None:
    machine = runtime.Runtime()
    first, second = rev({"image": "a"}), rev({"image": "b"})
    second["metadata"]["name"] = "hello-00002"
    await machine.sync([(first, 1), (second, 2)])
    assert {k: r["desiredReplicas"] for k, r in machine.reports().items()} == {
        ("Revision", "ns", "hello-00001"): 1, ("Revision", "ns", "hello-00002"): 2}
    await machine.sync([(second, 0)])
    assert list(machine.reports()) == [("Revision", "ns", "hello-00002")]
    await machine.close()
