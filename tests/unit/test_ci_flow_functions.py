"""The CI example's functions (manifests/examples/ci-flow): their pure parts, as tables.

The e2e test (tests/e2e/test_ci_flow.py) runs them as Services; here the rules: which
push starts a run, what a dead letter says, which client gets the HTML page.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from cloudevents.v1.http import CloudEvent

EXAMPLE = Path(__file__).resolve().parents[2] / "manifests" / "examples" / "ci-flow"


def load(name: str) -> ModuleType:
    sys.path.insert(0, str(EXAMPLE))
    try:
        spec = importlib.util.spec_from_file_location(name, EXAMPLE / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLE))


ciflow = load("ciflow")
results = load("results")

SHA = "a" * 40
GITHUB = {"ref": "refs/heads/main", "after": SHA,
          "repository": {"full_name": "o/r", "clone_url": "file:///r.git", "default_branch": "main"}}
GITLAB = {"ref": "refs/heads/main", "after": SHA, "checkout_sha": SHA,
          "project": {"path_with_namespace": "g/p", "git_http_url": "https://gl/g/p.git",
                      "default_branch": "main"}}


def event(type: str, data: dict, **extensions: str) -> CloudEvent:
    return CloudEvent({"type": type, "source": "/t", "id": "push-1", **extensions}, data)


@pytest.mark.parametrize("type, payload, builds", [
    (ciflow.GITHUB_PUSH, GITHUB, True),
    (ciflow.GITHUB_PUSH, {**GITHUB, "ref": "refs/heads/feature"}, False),
    (ciflow.GITHUB_PUSH, {**GITHUB, "ref": "refs/tags/v1"}, False),
    (ciflow.GITHUB_PUSH, {**GITHUB, "after": "0" * 40}, False),          # the branch was deleted
    (ciflow.GITLAB_PUSH, GITLAB, True),
    (ciflow.GITLAB_PUSH, {**GITLAB, "ref": "refs/heads/feature"}, False),
])
def test_which_push_starts_a_run(type: str, payload: dict, builds: bool) -> None:
    run = ciflow.read_push(event(type, payload))
    assert (run is not None) == builds
    if run:
        assert (run["run"], run["commit"], run["ref"], run["steps"]) == ("push-1", SHA, "refs/heads/main", [])


def test_the_arrival_time_is_when_the_run_was_received() -> None:
    run = ciflow.read_push(event(ciflow.GITHUB_PUSH, GITHUB, knativearrivaltime="2026-12-03T19:00:00.5Z"))
    assert run is not None and run["received"] == 1796324400.5


@pytest.mark.parametrize("payload, field", [
    ({"ref": "refs/heads/main", "repository": {"clone_url": "u"}}, "commit"),
    ({"after": SHA, "repository": {"clone_url": "u"}}, "ref"),
])
def test_a_push_without_what_checkout_needs_is_refused(payload: dict, field: str) -> None:
    with pytest.raises(ValueError, match="repository URL, commit or ref"):
        ciflow.read_push(event(ciflow.GITHUB_PUSH, payload))


def b64(body: str) -> str:
    return base64.b64encode(body.encode()).decode()


@pytest.mark.parametrize("type, extensions, reason", [
    (ciflow.TESTED, {}, None),
    (ciflow.CHECKED_OUT, {"knativeerrordest": "http://x/ci-test", "knativeerrorcode": "500",
                          "knativeerrordata": b64(json.dumps({"error": "TimeoutError: slow"}))},
     "step test failed (500): TimeoutError: slow"),
    (ciflow.GITHUB_PUSH, {"knativeerrordest": "http://x/ci-checkout", "knativeerrorcode": "500",
                          "knativeerrordata": b64("plain text")},
     "step checkout failed (500): plain text"),
    (ciflow.TESTED, {"knativeerrordest": "http://x/ci-report", "knativeerrorcode": "500"},
     "step report failed (500)"),
])
def test_what_a_dead_letter_says(type: str, extensions: dict, reason: str | None) -> None:
    failure = ciflow.dead_letter(event(type, {}, **extensions))
    assert (failure and failure["reason"]) == reason


@pytest.mark.parametrize("accept, html", [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # a browser
    ("application/json", False),
    ("*/*", False),                                                            # curl
    ("", False),
    ("application/json, text/html", False),
])
def test_who_gets_the_page(accept: str, html: bool) -> None:
    assert results.wants_html(accept) is html
