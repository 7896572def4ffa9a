"""ripple.cli.demo.readiness: the CI demo pushes only once every object the example applied
is Ready (the steps' Services included), and a timeout names each object still not Ready
and its Ready condition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ripple.cli.client import ApiError
from ripple.cli.commands import waiting
from ripple.cli.demo import readiness
from ripple.cli.demo.readiness import Applied

ROOT = Path(__file__).resolve().parents[2]
CI_TEST = Applied("serving.knative.dev/v1", "Service", "default", "ci-test")
BROKER = Applied("eventing.knative.dev/v1", "Broker", "default", "ci")


def state(ready: str | None, *, reason: str = "", message: str = "", generation: int = 1,
          observed: int | None = 1) -> dict[str, Any]:
    conditions = [] if ready is None else [
        {"type": "Ready", "status": ready, "reason": reason, "message": message}]
    return {"metadata": {"name": "x", "generation": generation},
            "status": {"observedGeneration": observed, "conditions": conditions}}


def test_the_ci_examples_objects_are_all_it_applies_with_conditions_in_order() -> None:
    objects = readiness.example_objects(ROOT / "manifests" / "examples" / "ci-flow")
    names = [f"{o.kind}/{o.name}" for o in objects]
    # The Sequence's steps are there: a Ready Sequence does not mean they are Ready.
    assert {"Service/ci-checkout", "Service/ci-test", "Sequence/ci-pipeline",
            "Configuration/ci-report-v1", "Route/ci-report", "GitLabSource/ci-gitlab"} <= set(names)
    assert not any(name.startswith("Secret/") for name in names)  # core kinds report no conditions
    assert names.index("Broker/ci") < names.index("Sequence/ci-pipeline")  # `ripple up -f`'s order
    assert {o.namespace for o in objects} == {"default"}


def test_example_objects_walks_the_directory_as_ripple_up_does(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "a.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\n"
        "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: b, namespace: team}\n")
    (tmp_path / "nested" / "b.json").write_text(
        '{"apiVersion": "flows.knative.dev/v1", "kind": "Sequence", "metadata": {"name": "q"}}')
    (tmp_path / "notes.txt").write_text("kind: Broker\n")
    assert readiness.example_objects(tmp_path) == [
        Applied("eventing.knative.dev/v1", "Broker", "team", "b"),
        Applied("flows.knative.dev/v1", "Sequence", "default", "q"),
    ]


def test_an_objects_path_is_the_apis_with_the_registrys_plural() -> None:
    assert CI_TEST.path == "/apis/serving.knative.dev/v1/namespaces/default/services/ci-test"
    assert str(CI_TEST) == "Service default/ci-test"


@pytest.mark.parametrize(("obj", "why"), [
    (state("True"), None),
    (None, "not found"),
    (state(None), "Ready=Unknown"),
    (state("Unknown", reason="RevisionMissing",
           message="Configuration \"ci-test\" does not have any ready Revision."),
     "Ready=Unknown RevisionMissing: Configuration \"ci-test\" does not have any ready Revision."),
    (state("False", reason="ReferencesNotResolved"), "Ready=False ReferencesNotResolved"),
    # A Ready=True written for an older spec is not Ready for this one.
    (state("True", generation=2, observed=1),
     "generation 2 not observed yet (status.observedGeneration 1)"),
    (state("True", observed=None), "generation 1 not observed yet (status.observedGeneration None)"),
])
def test_not_ready_says_why_in_one_phrase(obj: dict[str, Any] | None, why: str | None) -> None:
    assert readiness.not_ready(obj) == why


class Clock:
    """Time that moves only when the wait sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_wait_returns_once_each_object_is_ready_and_stops_asking_for_ready_ones() -> None:
    clock = Clock()
    asked: list[str] = []
    ready_at = {BROKER: 0.0, CI_TEST: 1.0}  # the Service's Revision comes up a second later

    def get(obj: Applied) -> dict[str, Any]:
        asked.append(obj.name)
        return state("True" if clock.now >= ready_at[obj] else "Unknown")
    readiness.wait_all_ready([BROKER, CI_TEST], get, timeout=5, clock=clock, sleep=clock.sleep,
                             interval=0.5)
    assert clock.now == 1.0
    assert asked == ["ci", "ci-test", "ci-test", "ci-test"]


def test_a_timeout_names_every_object_still_not_ready_and_its_condition() -> None:
    clock = Clock()
    answers: dict[Applied, dict[str, Any] | None] = {
        BROKER: state("True"),
        CI_TEST: state("Unknown", reason="RevisionMissing", message="no ready Revision"),
        Applied("eventing.knative.dev/v1", "Trigger", "default", "t"): None,
    }
    with pytest.raises(waiting.NotReady) as failure:
        readiness.wait_all_ready(answers, answers.__getitem__, timeout=2, clock=clock,
                                 sleep=clock.sleep, interval=0.5)
    assert str(failure.value) == (
        "2 object(s) not Ready after 2 s: "
        "Service default/ci-test (serving.knative.dev/v1): Ready=Unknown RevisionMissing: "
        "no ready Revision; Trigger default/t (eventing.knative.dev/v1): not found")
    assert clock.now == 2.0


def test_the_api_getter_reads_404_as_absent_and_raises_any_other_refusal() -> None:
    def call(method: str, path: str) -> dict[str, Any]:
        if path.endswith("/ci-test"):
            raise ApiError(404, "services.serving.knative.dev \"ci-test\" not found")
        raise ApiError(401, "Unauthorized")
    get = readiness.api_getter(call)
    assert get(CI_TEST) is None
    with pytest.raises(ApiError, match="Unauthorized"):
        get(BROKER)
