"""What the CI flow's functions share: reading a push, the run record, steps, git, state.

Imported by checkout.py, runtests.py, report.py, notify.py and results.py, which
`ripple function serve` loads with this directory first on sys.path.

A *run* is one push on its way through the Sequence. All of its state travels in the
events (each step's reply carries the run so far), and the events are durable in the
broker's and channels' Redis streams: a step killed halfway is delivered again, and the
run goes on. The checkout is a cache on disk, cloned again when it is missing. What outlives
the flow (the results, the notifications) goes under `CI_STATE_DIR`.

The run (event data, JSON):
  {"run": id of the push event, "repository", "clone_url", "commit", "ref",
   "received": when the push entered the broker (epoch s),
   "steps": [{"name", "revision", "started", "finished", "status": ok|failed|error}],
   "test": {"command", "exit_code", "duration_s", "output_tail"},          # after test
   "status": passed|failed|error, "duration_s", "reason", "finished"}   # after report
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from cloudevents.v1.http import CloudEvent

GITHUB_PUSH = "dev.knative.source.github.push"
GITLAB_PUSH = "dev.knative.sources.gitlab.push"
CHECKED_OUT = "dev.ripple.ci.checkedout"
TESTED = "dev.ripple.ci.tested"
RESULT = "dev.ripple.ci.result"
SOURCE = "/ripple/ci-flow"

# The step an event of this type was on its way to when it was dead-lettered.
NEXT_STEP = {GITHUB_PUSH: "checkout", GITLAB_PUSH: "checkout", CHECKED_OUT: "test",
             TESTED: "report"}

ZERO_SHA = "0" * 40
OUTPUT_TAIL_LINES = 30
PROJECT_FILE = ".ripple-ci.json"
DEFAULT_COMMAND = "python -m unittest discover -v"


def state_dir() -> Path:
    """Where runs leave what outlives them: `CI_STATE_DIR`, else `.ripple/ci-flow`
    (beside `ripple up`'s default data dir)."""
    path = Path(os.environ.get("CI_STATE_DIR") or ".ripple/ci-flow")
    path.mkdir(parents=True, exist_ok=True)
    return path


def now() -> float:
    return round(time.time(), 3)


def data_of(event) -> dict:
    data = event.get_data() if hasattr(event, "get_data") else event.data
    if isinstance(data, (bytes, bytearray)):
        data = json.loads(data or b"{}")
    elif isinstance(data, str):
        data = json.loads(data or "{}")
    if not isinstance(data, dict):
        raise ValueError("the event's data is not a JSON object")
    return data


def read_push(event) -> dict | None:
    """The run a push event starts, or None when the push is not to the default branch
    (or deletes it): nothing to build."""
    payload = data_of(event)
    if event["type"] == GITHUB_PUSH:
        repository = payload.get("repository") or {}
        default = repository.get("default_branch") or repository.get("master_branch")
        name, url = repository.get("full_name"), repository.get("clone_url")
        commit = payload.get("after")
    elif event["type"] == GITLAB_PUSH:
        project = payload.get("project") or {}
        default = project.get("default_branch")
        name, url = project.get("path_with_namespace"), project.get("git_http_url")
        commit = payload.get("checkout_sha") or payload.get("after")
    else:
        raise ValueError(f"not a push event: {event['type']}")
    ref = payload.get("ref")
    if not url or not commit or not ref:
        raise ValueError("the push names no repository URL, commit or ref")
    if (default and ref != f"refs/heads/{default}") or commit == ZERO_SHA:
        return None
    arrival = event.get("knativearrivaltime")
    return {"run": event["id"], "repository": name, "clone_url": url, "commit": commit,
            "ref": ref, "received": _epoch(arrival) if arrival else now(), "steps": []}


def run_of(event) -> dict:
    """The run an event carries: a push starts one, every later event carries it."""
    if event["type"] in (GITHUB_PUSH, GITLAB_PUSH):
        run = read_push(event)
        if run is None:
            raise ValueError("a push to a branch the flow does not build")
        return run
    run = data_of(event)
    if "run" not in run:
        raise ValueError("the event carries no run")
    return run


def revision() -> str:
    return os.environ.get("K_REVISION", "local")


@contextlib.contextmanager
def step(run: dict, name: str):
    """Record one step of `run`: started, finished, the serving revision and its status.
    The body may set `entry["status"]`; an exception leaves the run unrecorded, as the
    event then goes to the dead-letter sink unchanged."""
    entry = {"name": name, "revision": revision(), "started": now(), "finished": None,
             "status": "ok"}
    yield entry
    entry["finished"] = now()
    run["steps"].append(entry)


def reply(run: dict, type: str, **extensions: str) -> CloudEvent:
    attributes = {"type": type, "source": SOURCE, "subject": run["commit"], "cirun": run["run"]}
    attributes.update(extensions)
    return CloudEvent(attributes, run)


def workspace(run: dict) -> Path:
    return state_dir() / "workspaces" / "".join(c if c.isalnum() or c in "-_" else "_"
                                                 for c in run["run"])


def checkout(run: dict) -> Path:
    """The pushed commit checked out in the run's workspace, cloned when missing."""
    path = workspace(run)
    if (path / ".git").is_dir():
        with contextlib.suppress(RuntimeError):
            if _git("rev-parse", "HEAD", cwd=path) == run["commit"]:
                return path
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    _git("clone", "--quiet", "--no-checkout", run["clone_url"], str(path))
    try:
        _git("checkout", "--quiet", "--detach", run["commit"], cwd=path)
    except RuntimeError:
        shutil.rmtree(path, ignore_errors=True)
        raise RuntimeError(f"commit {run['commit']} is not in {run['clone_url']}") from None
    return path


def discard_workspace(run: dict) -> None:
    shutil.rmtree(workspace(run), ignore_errors=True)


def test_command(path: Path) -> tuple[str, float]:
    """The project's test command and its timeout: `.ripple-ci.json` in the checkout
    (`{"command": ..., "timeout_s": ...}`), else unittest and `CI_TEST_TIMEOUT`."""
    timeout = float(os.environ.get("CI_TEST_TIMEOUT") or 120)
    project = path / PROJECT_FILE
    if project.is_file():
        settings = json.loads(project.read_text())
        return str(settings.get("command") or DEFAULT_COMMAND), float(settings.get("timeout_s") or timeout)
    return DEFAULT_COMMAND, timeout


def run_tests(command: str, path: Path, timeout: float) -> dict:
    """Run the test command in the checkout; TimeoutError when it outlives `timeout`.
    `python` is the interpreter the function runs on."""
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable),
                                                 os.environ.get("PATH", "")]))
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", _GUARD, str(os.getpid()), command],
                               cwd=path, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise TimeoutError(f"test command {command!r} timed out after {timeout:g} s") from None
    lines = output.decode("utf-8", "replace").splitlines()
    return {"command": command, "exit_code": process.returncode,
            "duration_s": round(time.monotonic() - started, 3),
            "output_tail": "\n".join(lines[-OUTPUT_TAIL_LINES:])}


# The test command runs in its own process group under this guard, which dies with the
# function's process (PR_SET_PDEATHSIG) and takes the whole group with it: a replica
# killed mid-run (ripple up killed, the replica recycled) leaves no test running unwatched.
_GUARD = (
    "import ctypes, os, signal, subprocess, sys\n"
    "def end(*_):\n"
    "    os.killpg(0, signal.SIGKILL)\n"
    "signal.signal(signal.SIGTERM, end)\n"
    "try:\n"
    "    ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)\n"
    "except (OSError, AttributeError):\n"
    "    pass\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    end()\n"
    "sys.exit(subprocess.call(sys.argv[2], shell=True))\n"
)


def dead_letter(event) -> dict | None:
    """Why the Sequence dead-lettered this event (Knative's knativeerror* extensions), or None."""
    destination = event.get("knativeerrordest")
    if not destination:
        return None
    code = event.get("knativeerrorcode") or "?"
    text = ""
    encoded = event.get("knativeerrordata")
    if encoded:
        try:
            body = base64.b64decode(encoded).decode("utf-8", "replace")
            text = json.loads(body).get("error", body) if body.startswith("{") else body
        except (ValueError, AttributeError):
            text = str(encoded)
    step = NEXT_STEP.get(event["type"], "unknown")
    return {"step": step, "reason": f"step {step} failed ({code}): {text}".rstrip(": ")}


def _git(*args: str, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"git {args[0]} timed out") from None
    if done.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


def _epoch(timestamp: str) -> float:
    return round(datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp(), 3)
