"""GitHub deliveries to CloudEvents (sources/webhooks/github.py).

The table runs over real deliveries (octokit/webhooks payload examples in
shared/testdata/webhooks/github); each row's subject and extensions were read off the
payload by hand, following upstream's `pkg/common/events.go`. Kinds without a sample use
small payloads shaped like upstream's comments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ripple import cloudevents as ce
from ripple import errors
from sources.webhooks import github

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "webhooks" / "github"
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} is absent")

REPO = "Codertocat/Hello-World"
DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
COMMON = {"owner": "Codertocat", "repository": "Hello-World", "sender": "Codertocat"}
TAG_DELETION_PUSH = {**COMMON, "pusher": "Codertocat", "ref": "refs/tags/simple-tag",
                     "created": "false", "deleted": "true", "forced": "false"}

# (file, X-GitHub-Event, subject, extensions)
CASES: list[tuple[str, str, str | None, dict[str, str]]] = [
    ("octokit-webhooks__push_payload.json", "push", "6113728f27ae...000000000000",
     TAG_DELETION_PUSH),
    ("octokit-webhooks__push_1.payload.json", "push", "d70c5c6fa638^...000000000000",
     TAG_DELETION_PUSH),
    ("octokit-webhooks__push_with-organization.payload.json", "push",
     "6113728f27ae...000000000000", TAG_DELETION_PUSH),
    # A new branch: `compare` is a commit URL, so the subject is the commit's sha.
    ("octokit-webhooks__push_with-new-branch.payload.json", "push",
     "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
     {**COMMON, "installation": "1", "pusher": "Codertocat", "ref": "refs/heads/master",
      "created": "true", "deleted": "false", "forced": "false"}),
    ("octokit-webhooks__ping_payload.json", "ping", "109948940",
     {**COMMON, "owner": "Octocoders"}),
    ("octokit-webhooks__ping_with-app_id.payload.json", "ping", "109948940",
     {**COMMON, "owner": "Octocoders"}),
    ("octokit-webhooks__pull_request_opened.payload.json", "pull_request", "2",
     {**COMMON, "installation": "1", "action": "opened", "number": "2"}),
    ("octokit-webhooks__pull_request_closed.payload.json", "pull_request", "2",
     {**COMMON, "installation": "1", "action": "closed", "number": "2"}),
    ("octokit-webhooks__issues_opened.payload.json", "issues", "1",
     {**COMMON, "action": "opened"}),
    ("octokit-webhooks__create_payload.json", "create", "tag", {**COMMON, "ref": "simple-tag"}),
    ("octokit-webhooks__delete_payload.json", "delete", "tag", {**COMMON, "ref": "simple-tag"}),
    # release.name is null in this delivery, so there is no `release` extension.
    ("octokit-webhooks__release_published.payload.json", "release", "0.0.1",
     {**COMMON, "action": "published"}),
]

FIXED = {"specversion", "id", "source", "type", "datacontenttype", "subject"}


def headers(event: str, delivery: str = DELIVERY, **more: str) -> dict[str, str]:
    return {"x-github-event": event, "x-github-delivery": delivery, **more}


def extensions(event: ce.CloudEvent) -> dict[str, object]:
    return {k: v for k, v in event.attributes.items() if k not in FIXED}


@pytest.mark.parametrize("file, kind, subject, exts", CASES, ids=[c[0] for c in CASES])
def test_sample_delivery(file: str, kind: str, subject: str | None, exts: dict[str, str]) -> None:
    body = (SAMPLES / file).read_bytes()
    event = github.to_event(headers(kind), body, REPO)
    assert event.attributes["specversion"] == "1.0"
    assert event.type == f"dev.knative.source.github.{kind}"
    assert event.source == "https://github.com/Codertocat/Hello-World"
    assert event.id == DELIVERY
    assert event.attributes["datacontenttype"] == "application/json"
    assert event.attributes.get("subject") == subject
    assert extensions(event) == exts
    assert event.data == body  # the bytes as received, not re-encoded
    ce.validate(event.attributes)


def synthetic(**payload: Any) -> bytes:
    return json.dumps(payload).encode()


USER = {"login": "Codertocat"}
REPOSITORY = {"name": "Hello-World", "id": 186853002, "owner": USER}

# Kinds without a sample: (X-GitHub-Event, payload, subject, extensions).
SYNTHETIC: list[tuple[str, bytes, str | None, dict[str, str]]] = [
    ("issue_comment", synthetic(
        action="created", repository=REPOSITORY, sender=USER,
        comment={"html_url": "https://github.com/Codertocat/Hello-World/issues/2#issuecomment-393304133"}),
     "2#issuecomment-393304133", {**COMMON, "action": "created"}),
    ("commit_comment", synthetic(
        action="created", repository=REPOSITORY, sender=USER,
        comment={"html_url": "https://github.com/Codertocat/Hello-World/commit/a10867b#commitcomment-29186860"}),
     "a10867b#commitcomment-29186860", {**COMMON, "action": "created"}),
    ("issues", synthetic(
        action="labeled", issue={"number": 7}, repository=REPOSITORY, sender=USER,
        label={"name": ":bug: Bugfix"}, assignee={"login": "octocat"}),
     "7", {**COMMON, "action": "labeled", "label": ":bug: Bugfix", "assignee": "octocat"}),
    ("label", synthetic(action="created", label={"name": "bug"}, repository=REPOSITORY,
                        sender=USER),
     "bug", {**COMMON, "action": "created", "label": "bug"}),
    ("pull_request_review", synthetic(
        action="submitted", review={"id": 237895671, "state": "commented"},
        repository=REPOSITORY, sender=USER, installation={"id": 5}),
     "237895671", {**COMMON, "installation": "5", "action": "submitted", "review": "commented"}),
    ("gollum", synthetic(pages=[{"page_name": "Home"}, {"page_name": "Main"}],
                         repository=REPOSITORY, sender=USER),
     "Home,Main", COMMON),
    ("membership", synthetic(action="added", member={"id": 21031067}, scope="team",
                             organization={"login": "Octocoders"}, sender=USER),
     "21031067",
     {"owner": "Octocoders", "scope": "team", "sender": "Codertocat", "action": "added"}),
    ("organization", synthetic(action="member_added", organization={"login": "Octocoders"},
                               sender=USER),
     "member_added", {"owner": "Octocoders", "sender": "Codertocat", "action": "member_added"}),
    ("installation", synthetic(action="created", installation={"id": 2}, sender=USER),
     "2", {"installation": "2", "sender": "Codertocat", "action": "created"}),
    ("status", synthetic(sha="6113728f27ae82c7b1a177c8d03f9e96e0adf246", state="success",
                         name="Codertocat/Hello-World", context="default",
                         repository=REPOSITORY, sender=USER),
     "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
     {**COMMON, "state": "success", "name": "Codertocat/Hello-World", "context": "default"}),
    ("team", synthetic(action="created", team={"id": 2723476}, sender=USER),
     "2723476", {"sender": "Codertocat", "action": "created"}),
    ("watch", synthetic(action="started", repository=REPOSITORY, sender=USER),
     "186853002", {**COMMON, "action": "started"}),
    ("security_advisory", synthetic(action="published",
                                    security_advisory={"ghsa_id": "GHSA-rf4j-j272-fj86"}),
     "GHSA-rf4j-j272-fj86", {"action": "published"}),
    # A kind upstream does not list: the common extensions, no subject.
    ("workflow_run", synthetic(action="completed", repository=REPOSITORY, sender=USER,
                               installation={"id": 9}),
     None, {**COMMON, "installation": "9", "action": "completed"}),
    # Absent fields leave their extension out; no subject rather than an empty one.
    ("push", synthetic(), None, {}),
    ("gollum", synthetic(pages=[]), None, {}),
]


@pytest.mark.parametrize("kind, body, subject, exts", SYNTHETIC,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(SYNTHETIC)])
def test_event_kinds(kind: str, body: bytes, subject: str | None, exts: dict[str, str]) -> None:
    event = github.to_event(headers(kind), body, REPO)
    assert event.type == f"dev.knative.source.github.{kind}"
    assert event.attributes.get("subject") == subject
    assert extensions(event) == exts


def test_organisation_source() -> None:
    body = (SAMPLES / "octokit-webhooks__ping_payload.json").read_bytes()
    assert github.to_event(headers("ping"), body, "Octocoders").source == "https://github.com/Octocoders"


def test_form_encoded_delivery_carries_the_json_in_payload() -> None:
    from urllib.parse import urlencode

    body = (SAMPLES / "octokit-webhooks__issues_opened.payload.json").read_bytes()
    form = urlencode({"payload": body.decode()}).encode()
    event = github.to_event(
        headers("issues", **{"content-type": "application/x-www-form-urlencoded"}), form, REPO)
    assert event.data == body
    assert event.attributes["subject"] == "1"


def invalid(kind: str, body: bytes, hdrs: dict[str, str] | None = None) -> errors.Invalid:
    with pytest.raises(errors.Invalid) as caught:
        github.to_event(headers(kind) if hdrs is None else hdrs, body, REPO)
    assert errors.http_status(caught.value) == 400
    return caught.value


@pytest.mark.parametrize("hdrs, field", [
    ({"x-github-delivery": DELIVERY}, "X-GitHub-Event"),
    ({"x-github-event": "", "x-github-delivery": DELIVERY}, "X-GitHub-Event"),
    ({"x-github-event": "Push Event", "x-github-delivery": DELIVERY}, "X-GitHub-Event"),
    ({"x-github-event": "push"}, "X-GitHub-Delivery"),
    ({"x-github-event": "push", "x-github-delivery": "  "}, "X-GitHub-Delivery"),
])
def test_missing_or_bad_headers_name_the_header(hdrs: dict[str, str], field: str) -> None:
    error = invalid("", b"{}", hdrs)
    assert [e.path for e in error.errors] == [field]


@pytest.mark.parametrize("body, field, words", [
    (b"", "body", "not JSON"),
    (b"{not json", "body", "not JSON"),
    (b"\xff\xfe", "body", "not JSON"),
    (b"[" * 100_000, "body", "nested too deeply"),  # found by the R4 fuzz check: was a 500
    (b"[1, 2]", "body", "JSON object"),
    (b'"push"', "body", "JSON object"),
    (b'{"pull_request": {"number": {"n": 2}}}', "body.pull_request.number", "string, number"),
    (b'{"repository": "Hello-World"}', "body.repository", "object"),
])
def test_bad_body_names_the_field(body: bytes, field: str, words: str) -> None:
    error = invalid("pull_request", body)
    assert [e.path for e in error.errors] == [field]
    assert words in str(error)


def test_form_without_payload_is_refused() -> None:
    error = invalid("push", b"other=1",
                    headers("push", **{"content-type": "application/x-www-form-urlencoded"}))
    assert [e.path for e in error.errors] == ["body.payload"]


def test_event_name() -> None:
    assert github.event_name(headers("pull_request_review")) == "pull_request_review"
    with pytest.raises(errors.Invalid, match="X-GitHub-Event"):
        github.event_name({})
