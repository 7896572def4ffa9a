"""Issue #12 end to end: Git pushes drive the CI flow of manifests/examples/ci-flow.

`ripple up` runs the example as a real process on the embedded Valkey; a real git
repository is pushed to, and its push webhook posted signed, as GitHub posts it. The
results store's JSON is the oracle. Covered: a pass and a fail sent back to back (two
independent flows), a checkout that crashes and a test command that times out (both go
to the Sequence's dead-letter sink and are reported as errors, and notified), `kill -9` of
`ripple up` in the middle of a run (the restarted mesh finishes it, once), and the demo
itself (`ripple demo ci`) run headless.
"""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ripple.cli.demo import pushes, readiness
from tests.support.mesh import RIPPLE, Mesh, free_port
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "manifests/examples/ci-flow"
SECRET = "ci-demo-github-webhook-secret"  # the example's Secret ci-github
WEBHOOK = "/webhooks/github/default/ci-github"
RESULTS = "/serving/default/ci-results"

PASSING = {
    "app.py": "def add(a, b):\n    return a + b\n",
    "test_app.py": ("import unittest\nfrom app import add\n\n"
                    "class AddTest(unittest.TestCase):\n"
                    "    def test_adds(self):\n        self.assertEqual(add(2, 2), 4)\n"),
}
FAILING = {"app.py": "def add(a, b):\n    return a - b\n"}


@pytest.fixture(scope="module")
def ci(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    root = tmp_path_factory.mktemp("ci")
    mesh = Mesh(root / "data", extra=["-f", EXAMPLE], env={"CI_STATE_DIR": str(root / "state")})
    mesh.state = root / "state"  # type: ignore[attr-defined]
    mesh.start()
    try:
        # Every object applied, as the demo waits (a Ready Sequence does not mean its steps are).
        for obj in readiness.example_objects(ROOT / EXAMPLE):
            mesh.wait_ready(obj.path, 60)
        yield mesh
    finally:
        mesh.stop()


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the example's function paths are relative to the repository root


def post_push(mesh: Mesh, repository: pushes.Repository, push: pushes.Push) -> str:
    body = pushes.encode(pushes.github_push(repository, push))
    headers = pushes.github_headers("push", body, SECRET)
    status, _, answer = mesh.post(WEBHOOK, body, headers)
    assert status == 202, answer
    return headers["X-GitHub-Delivery"]


def runs(mesh: Mesh, accept: str = "application/json") -> Any:
    request = urllib.request.Request(mesh.url + RESULTS, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as answer:
        body = answer.read()
        return json.loads(body)["runs"] if "json" in accept else body.decode()


def wait_run(mesh: Mesh, delivery: str, timeout: float = 60.0) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def stored() -> bool:
        found.update(next((r for r in runs(mesh) if r["run"] == delivery), {}))
        return bool(found)
    wait_until(stored, timeout, what=f"the run of push {delivery} in the results store")
    return found


def notified(mesh: Mesh, delivery: str) -> bool:
    path = mesh.state / "notifications.jsonl"  # type: ignore[attr-defined]
    return path.exists() and any(json.loads(line)["run"] == delivery
                                 for line in path.read_text().splitlines())


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def new_repository(tmp_path: Path) -> pushes.Repository:
    return pushes.Repository(tmp_path / "repo").create()


def test_two_pushes_in_quick_succession_pass_and_fail_independently(ci: Mesh, tmp_path: Path) -> None:
    repository = new_repository(tmp_path)
    good = repository.commit(PASSING, "add() and its test")
    first = repository.push([good])
    bad = repository.commit(FAILING, "break add()")
    second = repository.push([bad])
    passing, failing = post_push(ci, repository, first), post_push(ci, repository, second)

    passed, failed = wait_run(ci, passing), wait_run(ci, failing)
    assert (passed["status"], passed["commit"], passed["ref"]) == ("passed", good.sha, "refs/heads/main")
    assert (failed["status"], failed["commit"]) == ("failed", bad.sha)
    assert failed["test"]["exit_code"] == 1 and "AssertionError" in failed["test"]["output_tail"]
    for run in (passed, failed):
        assert [s["name"] for s in run["steps"]] == ["checkout", "test", "report"]
        assert {"name", "revision", "started", "finished", "status"} <= set(run["steps"][0])
        assert all(s["started"] <= s["finished"] for s in run["steps"])
        assert run["steps"][0]["revision"] == "ci-checkout-00001"
        assert run["steps"][2]["revision"] in ("ci-report-v1-00001", "ci-report-v2-00001")
        assert run["duration_s"] > 0
    listed = [r["run"] for r in runs(ci)]
    assert listed.index(failing) < listed.index(passing)  # newest first
    wait_until(lambda: notified(ci, failing), what="the notifier to get the failure")
    assert not notified(ci, passing)
    page = runs(ci, accept="text/html")
    assert "<table>" in page and bad.sha[:10] in page


def test_a_crashing_step_and_a_timed_out_step_are_dead_lettered_and_reported(
        ci: Mesh, tmp_path: Path) -> None:
    repository = new_repository(tmp_path)
    slow = repository.commit({**PASSING, ".ripple-ci.json": json.dumps({"timeout_s": 1}),
                              "test_slow.py": ("import time, unittest\n"
                                               "class Slow(unittest.TestCase):\n"
                                               "    def test_hangs(self):\n"
                                               "        time.sleep(60)\n")}, "a hanging test")
    timed_out = post_push(ci, repository, repository.push([slow]))
    missing = pushes.Push(ref="refs/heads/main", before=slow.sha, after="f" * 40, commits=[])
    crashed = post_push(ci, repository, missing)  # a commit the clone cannot find

    run = wait_run(ci, timed_out)
    assert run["status"] == "error"
    assert "step test failed (500)" in run["reason"] and "timed out after 1 s" in run["reason"]
    assert [(s["name"], s["status"]) for s in run["steps"]] == [
        ("checkout", "ok"), ("test", "error"), ("report", "ok")]
    run = wait_run(ci, crashed)
    assert run["status"] == "error" and "step checkout failed (500)" in run["reason"]
    assert f"commit {'f' * 40} is not in" in run["reason"]
    wait_until(lambda: notified(ci, timed_out) and notified(ci, crashed),
               what="the notifier to get both errors")


def test_a_gitlab_push_to_the_default_branch_runs_and_one_to_another_branch_does_not(
        ci: Mesh, tmp_path: Path) -> None:
    repository = new_repository(tmp_path)
    commit = repository.commit(PASSING, "from GitLab")
    push = repository.push([commit])

    def deliver(ref: str, uuid: str) -> None:
        body = json.dumps({
            "object_kind": "push", "event_name": "push", "ref": ref, "before": push.before,
            "after": commit.sha, "checkout_sha": commit.sha, "user_username": "demo",
            "project": {"path_with_namespace": "example/hello-ripple", "default_branch": "main",
                        "git_http_url": repository.clone_url,
                        "web_url": "https://gitlab.example/example/hello-ripple"},
            "commits": [{"id": commit.sha, "message": commit.message}],
            "total_commits_count": 1}).encode()
        status, _, answer = ci.post("/webhooks/gitlab/default/ci-gitlab", body, {
            "Content-Type": "application/json", "X-Gitlab-Event": "Push Hook",
            "X-Gitlab-Token": "ci-demo-gitlab-webhook-token", "X-Gitlab-Event-UUID": uuid})
        assert status == 202, answer
    deliver("refs/heads/feature", "gitlab-feature-push")
    deliver("refs/heads/main", "gitlab-main-push")

    run = wait_run(ci, "gitlab-main-push")
    assert (run["status"], run["commit"], run["ref"]) == ("passed", commit.sha, "refs/heads/main")
    # The checkout step answered the feature push 202, no reply: the flow stopped there.
    wait_until(lambda: ci.sample("kn_eventing_dispatch_events_total",
                                 kn_subscription_name="ci-pipeline-kn-sequence-0",
                                 http_response_status_code="202") >= 1,
               what="the checkout step to drop the push to another branch")
    assert "gitlab-feature-push" not in [r["run"] for r in runs(ci)]


def test_killing_ripple_up_mid_run_and_restarting_finishes_the_run(ci: Mesh, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    repository = new_repository(tmp_path)
    commit = repository.commit({**PASSING, "test_gate.py": (
        "import os, pathlib, time, unittest\n"
        f"GATE = pathlib.Path({str(gate)!r})\n"
        "class Gate(unittest.TestCase):\n"
        "    def test_waits_for_the_gate(self):\n"
        "        with open(GATE / 'started', 'a') as f:\n"
        "            f.write(f'{os.getpid()}\\n')\n"
        "        while not (GATE / 'open').exists():\n"
        "            time.sleep(0.05)\n")}, "a test that waits")
    delivery = post_push(ci, repository, repository.push([commit]))

    def attempts() -> int:
        started = gate / "started"
        return len(started.read_text().splitlines()) if started.exists() else 0
    wait_until(lambda: attempts() == 1, 60, what="the test step to start the tests")
    ci.kill()  # SIGKILL mid-run: the test step's delivery is in flight
    ci.start(timeout=60)
    wait_until(lambda: attempts() == 2, 90, what="the restarted mesh to deliver the test step again")
    first = int((gate / "started").read_text().split()[0])
    wait_until(lambda: not alive(first), 60, what="the killed run's test command to end with it")
    (gate / "open").touch()

    run = wait_run(ci, delivery, timeout=60)
    assert (run["status"], run["commit"]) == ("passed", commit.sha)
    assert [s["name"] for s in run["steps"]] == ["checkout", "test", "report"]
    assert [r["run"] for r in runs(ci)].count(delivery) == 1


def test_the_demo_runs_headless_and_stays_up_until_interrupted(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "demo.out"
    with open(out, "wb") as sink:
        demo = subprocess.Popen([RIPPLE, "demo", "ci", "--port", str(port),
                                 "--data-dir", str(tmp_path / "data")],
                                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "CI results: " in out.read_text() or demo.poll() is not None, 150,
                   what="the demo to print its URLs")
        text = out.read_text()
        assert demo.poll() is None, text
        assert "Result: PASSED" in text and "Result: FAILED" in text, text
        assert "dev.knative.source.github.push" in text and "dev.ripple.ci.result" in text
        assert "notifier" in text and "Latency: webhook to stored result" in text
        url = next(line.split(": ", 1)[1] for line in text.splitlines()
                   if line.startswith("CI results: "))
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            statuses = [r["status"] for r in json.loads(answer.read())["runs"]]
        assert statuses == ["failed", "passed"]
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            code = demo.wait(60)
        except subprocess.TimeoutExpired:  # a failed check stops what it started
            demo.kill()
            demo.wait()
            raise
    assert code == 0, out.read_text()
    assert "Stopping ripple up" in out.read_text()
    with pytest.raises(OSError):  # ripple up went with it
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    origin = next(line.split(": ", 1)[1].split(" ")[0] for line in out.read_text().splitlines()
                  if line.startswith("Throwaway repository: "))
    assert origin.startswith("file://") and not Path(origin[len("file://"):]).parent.exists()
