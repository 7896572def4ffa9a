"""`ripple demo ci`: the CI flow of `manifests/examples/ci-flow`, end to end (`make ci-demo`).

It starts `ripple up` on the embedded Valkey with the example, makes a throwaway git
repository, pushes a commit with a passing test and posts the push webhook as GitHub would
(signed with the GitHubSource's secret), and prints the flow as it goes: each hop with its
event type and time since the push, then the result. Then a failing commit. Then it stays
up, printing the URLs and commands to try, until Ctrl-C or SIGTERM, and stops `ripple up`.

Runs headless: nothing is read from stdin, every line is flushed as it is printed, so
`make ci-demo </dev/null >demo.log` works. `ripple up`'s own log goes to
`<data-dir>/ripple-up.log`; the runs are kept in `<data-dir>/ci-flow` (the results store's
file, the notifications, the workspaces) and survive a restart.

Its flags are registered by `ripple.cli.demo`, which imports this module (and with it the
resource API and the local platform's manifests) only when the demo runs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from ripple import errors, orphans
from ripple.cli import credentials
from ripple.cli.client import Client
from ripple.cli.commands import waiting
from ripple.cli.demo import pushes, readiness

EXAMPLE = Path("manifests/examples/ci-flow")
NAMESPACE = "default"
BROKER = "ci"
SOURCE = "ci-github"
RESULTS = "ci-results"
RESULT_TYPE = "dev.ripple.ci.result"
SEQUENCE = "ci-pipeline"
STEPS = ("ci-checkout", "ci-test", "ci-report")
# What the trace follows live: the Broker, and the channel in front of each step of the
# Sequence (Knative names them <sequence>-kn-sequence-<i>).
TAILS = [(f"broker {BROKER}", f"/tail/{NAMESPACE}/brokers/{BROKER}")] + [
    (f"{step} channel", f"/tail/{NAMESPACE}/channels/{SEQUENCE}-kn-sequence-{i}")
    for i, step in enumerate(STEPS)]
READY_TIMEOUT = 120.0
RUN_TIMEOUT = 180.0

PASSING = {
    "app.py": "def add(a, b):\n    return a + b\n",
    "test_app.py": ("import unittest\n\nfrom app import add\n\n\n"
                    "class AddTest(unittest.TestCase):\n"
                    "    def test_adds(self):\n        self.assertEqual(add(2, 2), 4)\n\n"
                    "    def test_adds_negatives(self):\n        self.assertEqual(add(-1, -2), -3)\n"),
    ".ripple-ci.json": json.dumps({"command": "python -m unittest discover -v", "timeout_s": 60},
                                  indent=2) + "\n",
}
FAILING = {"app.py": "def add(a, b):\n    return a - b  # oops\n"}


@dataclass
class Trace:
    """What the demo saw of one push, for the lines it prints."""

    delivery: str
    sent: float
    seen: list[tuple[float, dict[str, Any]]] = field(default_factory=list)


def run(args: argparse.Namespace, api: Client) -> int:
    if not (EXAMPLE / "ci-flow.yaml").is_file():
        raise errors.Invalid(f"{EXAMPLE}: not found; run the demo from the repository root")
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    state = data_dir / "ci-flow"
    server = f"http://{args.host}:{args.port}"
    up = start_up(args.host, args.port, data_dir, state)
    signal.signal(signal.SIGTERM, _interrupt)
    throwaway = Path(tempfile.mkdtemp(prefix="ripple-ci-demo-"))  # the pushed repository
    try:
        demo = Demo(Client(server), server, state, up, data_dir / "ripple-up.log", throwaway)
        demo.wait_ready()
        demo.show(push_number=1, files=PASSING, message="Add add() and its tests")
        demo.show(push_number=2, files=FAILING, message="Refactor add()")
        demo.print_try()
        if not args.exit:
            while up.poll() is None:
                time.sleep(0.5)
            raise errors.RippleError(f"ripple up exited with {up.returncode}; see {demo.log}")
    except KeyboardInterrupt:
        pass
    finally:
        say("Stopping ripple up ...")
        stop_up(up)
        shutil.rmtree(throwaway, ignore_errors=True)
    return 0


def start_up(host: str, port: int, data_dir: Path, state: Path) -> subprocess.Popen[bytes]:
    log = data_dir / "ripple-up.log"
    argv = [sys.executable, "-m", "ripple.cli.main", "up", "--host", host, "--port", str(port),
            "--data-dir", str(data_dir), "-f", str(EXAMPLE)]
    say(f"Starting ripple up on http://{host}:{port} with {EXAMPLE}/ (embedded Valkey in "
        f"{data_dir}; its log: {log})")
    with open(log, "ab") as out:
        # Its own session: a Ctrl-C reaches the demo alone, which then stops ripple up once.
        # SIGTERM when the demo dies however it dies, even by kill -9 (`ripple.orphans`).
        return subprocess.Popen(orphans.launch(argv, signal.SIGTERM), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=out,
                                env=dict(os.environ, CI_STATE_DIR=str(state)),
                                start_new_session=True)


def stop_up(up: subprocess.Popen[bytes]) -> None:
    if up.poll() is None:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(40)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()


class Demo:
    def __init__(self, api: Client, server: str, state: Path, up: subprocess.Popen[bytes],
                 log: Path, repository: Path) -> None:
        self.api, self.server, self.state, self.up, self.log = api, server, state, up, log
        self.events: queue.Queue[tuple[float, str, dict[str, Any]]] = queue.Queue()
        self.repository = pushes.Repository(repository)
        self.webhook = ""
        self.secret = ""

    # --- readiness -------------------------------------------------------------------------
    def wait_ready(self) -> None:
        """Until every object of the example is Ready (`readiness`: the steps' Services too,
        which a Ready Sequence does not imply), then the webhook's URL and secret."""
        started = time.monotonic()
        self._until(self._healthy, "ripple up to answer /healthz")
        objects = readiness.example_objects(EXAMPLE)
        get = readiness.api_getter(self.api.call)

        def get_while_up(obj: readiness.Applied) -> dict[str, Any] | None:
            self._check_up()
            return get(obj)
        try:
            readiness.wait_all_ready(objects, get_while_up, timeout=READY_TIMEOUT)
        except waiting.NotReady as failure:
            raise errors.RippleError(f"{EXAMPLE}/ is not Ready: {failure}; "
                                     f"ripple up's log: {self.log}") from None
        source = self._get(f"/apis/sources.knative.dev/v1alpha1/namespaces/{NAMESPACE}"
                           f"/githubsources/{SOURCE}")
        self.webhook = source["status"]["webhookUrl"]
        secret = self._get(f"/api/v1/namespaces/{NAMESPACE}/secrets/{SOURCE}")
        self.secret = base64.b64decode(secret["data"]["secretToken"]).decode()
        say(f"Ready in {time.monotonic() - started:.1f} s, all {len(objects)} objects of "
            f"{EXAMPLE}/: Broker {BROKER}, GitHubSource {SOURCE}, GitLabSource ci-gitlab, "
            f"Sequence ci-pipeline (ci-checkout -> ci-test -> ci-report 90% v1 / 10% v2), "
            f"Triggers, {RESULTS}, ci-notify.")
        for where, path in TAILS:
            threading.Thread(target=self._tail, args=(where, path), name=f"tail {where}",
                             daemon=True).start()
        self.repository.create()
        say(f"Throwaway repository: {self.repository.clone_url} (a bare 'GitHub' remote, "
            f"working clone {self.repository.work})")

    def _check_up(self) -> None:
        """Raise, with the last line of its log, if ripple up exited."""
        if self.up.poll() is not None:
            raise errors.RippleError(f"ripple up exited with {self.up.returncode}: "
                                     f"{_tail_of(self.log, 1)} (its log: {self.log})")

    def _healthy(self) -> bool:
        self._check_up()
        with contextlib.suppress(errors.RippleError):
            if self.api.send("GET", "/healthz").status != 200:
                return False
            if self.api.token is None:  # written by `ripple up` before it serves
                token_file = self.log.parent / credentials.TOKEN_FILE
                self.api.token = credentials.token_for(self.server) or token_file.read_text().strip()
            return True
        return False

    def _get(self, path: str) -> dict[str, Any]:
        return self.api.call("GET", path)

    def _until(self, condition: Any, what: str, timeout: float = READY_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            held = condition()
            if held:
                return held
            if time.monotonic() > deadline:
                raise errors.RippleError(f"gave up waiting for {what} after {timeout:.0f} s; "
                                         f"ripple up's log: {self.log}")
            time.sleep(0.05)

    def _tail(self, where: str, path: str) -> None:
        """Every event entering the Broker or a step's channel, with the time it was seen."""
        while True:
            with contextlib.suppress(errors.RippleError, ValueError, OSError):
                for line in Client(self.server, token=self.api.token).stream_lines(path):
                    self.events.put((time.time(), where, json.loads(line)))
            time.sleep(0.5)

    # --- one push --------------------------------------------------------------------------
    def show(self, *, push_number: int, files: dict[str, str], message: str) -> dict[str, Any]:
        say("")
        kind = "a passing" if push_number == 1 else "a failing"
        say(f"=== Push {push_number}: {kind} commit ===")
        commit = self.repository.commit(files, message)
        push = self.repository.push([commit])
        body = pushes.encode(pushes.github_push(self.repository, push))
        headers = pushes.github_headers("push", body, self.secret)
        trace = Trace(headers["X-GitHub-Delivery"], time.time())
        hop(0.0, "git push", f"{push.ref} {commit.sha[:7]} \"{message}\"")
        answer = self.api.send("POST", self.webhook, body, headers)
        hop(time.time() - trace.sent, f"webhook -> {answer.status}",
            f"POST {self.webhook} (X-GitHub-Event: push, X-GitHub-Delivery: {trace.delivery}, "
            f"X-Hub-Signature-256: {headers['X-Hub-Signature-256'][:19]}...)")
        if answer.status != 202:
            raise errors.RippleError(f"the webhook answered {answer.status}: {answer.body[:300]!r}")
        run = self._follow(trace)
        self._print_run(trace, run)
        return run

    def _follow(self, trace: Trace) -> dict[str, Any]:
        """Print the broker's events of this push as they come, until the run is stored."""
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                while True:
                    at, where, event = self.events.get(timeout=0.05)
                    if trace.delivery in (event.get("id"), event.get("cirun")):
                        trace.seen.append((at, event))
                        hop(at - trace.sent, f"{where} <-", describe(event))
            run = self.stored(trace.delivery)
            if run is not None:
                return run
            self._healthy()
        raise errors.RippleError(f"no result for push {trace.delivery} within {RUN_TIMEOUT:.0f} s;"
                                 f" ripple up's log: {self.log}")

    def results_url(self) -> str:
        return f"{self.server}/serving/{NAMESPACE}/{RESULTS}"

    def runs(self) -> list[dict[str, Any]]:
        answer = self.api.send("GET", self.results_url(), headers={"Accept": "application/json"})
        if answer.status != 200:
            return []
        runs: list[dict[str, Any]] = json.loads(answer.body).get("runs", [])
        return runs

    def stored(self, delivery: str) -> dict[str, Any] | None:
        return next((r for r in self.runs() if r.get("run") == delivery), None)

    def _print_run(self, trace: Trace, run: dict[str, Any]) -> None:
        say("  the run's record, step by step (times since the push):")
        for step in run["steps"]:
            started, finished = step.get("started"), step.get("finished")
            took = f"{finished - started:.3f} s" if started and finished else "-"
            hop((started or trace.sent) - trace.sent, f"step {step['name']}",
                f"{step['status']} in {took} (revision {step.get('revision') or '-'})")
        hop(run["stored_at"] - trace.sent, "results store", f"stored run {run['run'][:8]}")
        if run["status"] != "passed":
            note = self._notification(run["run"])
            if note:
                hop(note["at"] - trace.sent, "notifier", note["message"])
        test = run.get("test") or {}
        command_s = float(test.get("duration_s") or 0)
        total = run["stored_at"] - trace.sent
        say(f"Result: {run['status'].upper()}  commit {run['commit'][:7]} on {run['ref']}, "
            f"duration {run['duration_s']:.2f} s (test command {command_s:.2f} s, exit "
            f"{test.get('exit_code')})")
        if run.get("reason"):
            say(f"  reason: {run['reason']}")
        if test.get("output_tail"):
            for line in test["output_tail"].splitlines()[-6:]:
                say(f"  | {line}")
        say(f"Latency: webhook to stored result {total:.3f} s, of which the flow "
            f"{total - command_s:.3f} s and the test command {command_s:.3f} s")

    def _notification(self, run: str) -> dict[str, Any] | None:
        path = self.state / "notifications.jsonl"

        def find() -> dict[str, Any] | None:
            with contextlib.suppress(FileNotFoundError):
                for line in path.read_text().splitlines():
                    note: dict[str, Any] = json.loads(line)
                    if note.get("run") == run:
                        return note
            return None
        with contextlib.suppress(errors.RippleError):
            found: dict[str, Any] | None = self._until(find, "the notifier", timeout=20)
            return found
        return None

    def print_try(self) -> None:
        say("")
        say(f"CI results: {self.results_url()}")
        say(f"  (a page in a browser; JSON with: curl -H 'Accept: application/json' "
            f"{self.results_url()})")
        say(f"GitHub webhook: {self.webhook}  (content type application/json, "
            f"secret {self.secret!r})")
        say("  (for a real repository, GitHub must reach it: ripple up --public-url https://...)")
        say("Try, in another shell:")
        if sys.prefix != sys.base_prefix:
            say(f"  . {os.path.relpath(sys.prefix)}/bin/activate")
        say(f"  export RIPPLE_SERVER={self.server}")
        for command in ("ripple get triggers", "ripple get sequences", "ripple service list",
                        "ripple route describe ci-report      # the 90/10 split",
                        f"ripple event tail broker:{BROKER}      # then push again",
                        "ripple get githubsource ci-github -o yaml"):
            say(f"  {command}")
        say("Ctrl-C stops the demo and ripple up.")


def describe(event: dict[str, Any]) -> str:
    """One event as a trace line: its type and what tells it apart."""
    text = str(event.get("type"))
    if event.get("knativeerrordest"):
        return (f"{text} (dead letter: {event['knativeerrordest']} answered "
                f"{event.get('knativeerrorcode')})")
    if event.get("type") == RESULT_TYPE:
        data = event.get("data") or {}
        revision = next((s.get("revision") for s in reversed(data.get("steps", []))
                         if s.get("name") == "report"), None)
        return f"{text} status={event.get('cistatus')} (reply of {revision})"
    extras = [f"{k}={event[k]}" for k in ("subject", "ref") if event.get(k)]
    return f"{text} {' '.join(extras)}".strip()


def hop(offset: float, what: str, detail: str) -> None:
    say(f"  +{offset:7.3f} s  {what:<23} {detail}")


def say(line: str) -> None:
    print(line, flush=True)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the demo as Ctrl-C does."""
    raise KeyboardInterrupt


def _tail_of(log: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return ""
