"""ripple.cli.demo.pushes: the demo's pushes are what GitHub sends, as Ripple's own receiver
reads them (signature verified, Knative's push attributes), and the git it drives is real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ripple.cli.demo import pushes
from sources.webhooks import github, signatures

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "webhooks" / "github"


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} is absent")
def test_the_signature_matches_githubs_documented_vector() -> None:
    vector = json.loads((SAMPLES / "github-docs__hmac-sha256-test-vector.json").read_text())
    assert pushes.signature(vector["secret"], vector["payload"].encode()) == vector["X-Hub-Signature-256"]


@pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} is absent")
def test_the_payload_has_the_keys_of_githubs_push_example() -> None:
    example = json.loads((SAMPLES / "octokit-webhooks__push_with-new-branch.payload.json").read_text())
    repository = pushes.Repository(Path("/nowhere"))
    commit = pushes.Commit("a" * 40, "b" * 40, "m", "2026-12-03T19:00:00+00:00", ["x"], [], [])
    ours = pushes.github_push(repository, pushes.Push("refs/heads/main", pushes.ZERO_SHA, "a" * 40,
                                                      [commit]))
    assert set(example) - {"organization", "installation", "enterprise"} <= set(ours)
    assert set(example["commits"][0]) <= set(ours["commits"][0])
    assert set(ours["repository"]) <= set(example["repository"])


def test_a_real_push_reads_as_knatives_push_event_in_ripples_receiver(tmp_path: Path) -> None:
    repository = pushes.Repository(tmp_path / "repo").create()
    first = repository.commit({"a.txt": "1\n"}, "first")
    push = repository.push([first])
    assert (push.before, push.after) == (pushes.ZERO_SHA, first.sha)
    second = repository.commit({"a.txt": "2\n", "b.txt": "new\n"}, "second")
    push = repository.push([second])
    assert (push.before, push.after) == (first.sha, second.sha)
    assert (second.added, second.modified) == (["b.txt"], ["a.txt"])

    body = pushes.encode(pushes.github_push(repository, push))
    headers = {k.lower(): v for k, v in pushes.github_headers("push", body, "s3cret").items()}
    signatures.verify_github(b"s3cret", body, headers["x-hub-signature-256"])
    event = github.to_event(headers, body, repository.full_name).attributes
    assert event["type"] == "dev.knative.source.github.push"
    assert event["id"] == headers["x-github-delivery"]
    assert event["ref"] == "refs/heads/main"
    assert event["subject"] == f"{first.sha[:12]}...{second.sha[:12]}"
    assert json.loads(body)["repository"]["clone_url"] == repository.clone_url
