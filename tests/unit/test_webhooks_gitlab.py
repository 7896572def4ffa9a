"""GitLab deliveries to CloudEvents (sources/webhooks/gitlab.py).

The table runs over real deliveries (GitLab's documented payloads, as copied by
knative-extensions/eventing-gitlab and xanzy/go-gitlab into shared/testdata/webhooks/gitlab),
each sent with the X-Gitlab-Event header GitLab sends for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ripple import cloudevents as ce
from ripple import errors
from sources.webhooks import gitlab

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "webhooks" / "gitlab"
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} is absent")

PROJECT = "https://gitlab.com/gitlab-org/gitlab-foss"
EVENT_UUID = "13792a34-cac6-4fda-95a8-c58e00a3954e"
IDEMPOTENCY_KEY = "f5e5f430-f57b-4e6e-9fac-d9128cd7232f"

# (file, X-Gitlab-Event, type suffix, spec.eventTypes option)
CASES = [
    ("knative-eventing-gitlab__test_testdata_push-hook.json", "Push Hook", "push", "push_events"),
    ("knative-eventing-gitlab__test_testdata_merge-request-hook.json", "Merge Request Hook",
     "merge_request", "merge_requests_events"),
    ("knative-eventing-gitlab__test_testdata_pipeline-hook.json", "Pipeline Hook", "pipeline",
     "pipeline_events"),
    ("knative-eventing-gitlab__test_testdata_job-hook.json", "Job Hook", "job", "job_events"),
    ("knative-eventing-gitlab__test_testdata_deployment-hook.json", "Deployment Hook",
     "deployment", "deployment_events"),
    ("knative-eventing-gitlab__test_testdata_release-hook.json", "Release Hook", "release",
     "releases_events"),
    ("knative-eventing-gitlab__test_testdata_wiki-page-hook.json", "Wiki Page Hook", "wiki_page",
     "wiki_page_events"),
    ("xanzy-go-gitlab__testdata_webhooks_push.json", "Push Hook", "push", "push_events"),
    ("xanzy-go-gitlab__testdata_webhooks_tag_push.json", "Tag Push Hook", "tag_push",
     "tag_push_events"),
    ("xanzy-go-gitlab__testdata_webhooks_issue.json", "Issue Hook", "issue", "issues_events"),
    ("xanzy-go-gitlab__testdata_webhooks_note_commit.json", "Note Hook", "note", "note_events"),
    ("xanzy-go-gitlab__testdata_webhooks_merge_request.json", "Merge Request Hook",
     "merge_request", "merge_requests_events"),
    ("xanzy-go-gitlab__testdata_webhooks_pipeline.json", "Pipeline Hook", "pipeline",
     "pipeline_events"),
    ("xanzy-go-gitlab__testdata_webhooks_job.json", "Job Hook", "job", "job_events"),
    ("xanzy-go-gitlab__testdata_webhooks_release.json", "Release Hook", "release",
     "releases_events"),
]


def never() -> str:
    raise AssertionError("new_id must not be called when GitLab identifies the delivery")


@pytest.mark.parametrize("file, header, kind, option", CASES, ids=[c[0] for c in CASES])
def test_sample_delivery(file: str, header: str, kind: str, option: str) -> None:
    body = (SAMPLES / file).read_bytes()
    event = gitlab.to_event({"x-gitlab-event": header, "x-gitlab-event-uuid": EVENT_UUID},
                            body, PROJECT, new_id=never)
    assert event.attributes == {
        "specversion": "1.0",
        "id": EVENT_UUID,
        "source": PROJECT,
        "type": f"dev.knative.sources.gitlab.{kind}",
        "datacontenttype": "application/json",
        "comgitlabevent": header,
    }
    assert event.data == body
    ce.validate(event.attributes)
    assert gitlab.event_type_option(header) == option


@pytest.mark.parametrize("header, option", [
    ("Push Hook", "push_events"),
    ("Tag Push Hook", "tag_push_events"),
    ("Issue Hook", "issues_events"),
    ("Confidential Issue Hook", "confidential_issues_events"),
    ("Note Hook", "note_events"),
    ("Confidential Note Hook", "confidential_note_events"),
    ("Merge Request Hook", "merge_requests_events"),
    ("Job Hook", "job_events"),
    ("Build Hook", "job_events"),  # the header's name before GitLab 9
    ("Pipeline Hook", "pipeline_events"),
    ("Wiki Page Hook", "wiki_page_events"),
    ("Deployment Hook", "deployment_events"),
    ("Release Hook", "releases_events"),
    ("Feature Flag Hook", "feature_flag_events"),
    ("Resource Access Token Hook", "resource_access_token_events"),
    ("Emoji Hook", "emoji_events"),
    ("System Hook", "system_events"),  # no option sends it: never in a valid spec
])
def test_event_type_option(header: str, option: str) -> None:
    assert gitlab.event_type_option(header) == option


@pytest.mark.parametrize("header, kind", [
    ("Confidential Issue Hook", "confidential_issue"),
    ("Confidential Note Hook", "confidential_note"),
    ("Resource Access Token Hook", "resource_access_token"),
])
def test_type_follows_the_header(header: str, kind: str) -> None:
    event = gitlab.to_event({"x-gitlab-event": header}, b"{}", PROJECT, new_id=lambda: "x")
    assert event.type == f"dev.knative.sources.gitlab.{kind}"


@pytest.mark.parametrize("hdrs, want", [
    ({"idempotency-key": IDEMPOTENCY_KEY, "x-gitlab-event-uuid": EVENT_UUID}, IDEMPOTENCY_KEY),
    ({"x-gitlab-event-uuid": EVENT_UUID}, EVENT_UUID),
    ({"idempotency-key": " ", "x-gitlab-event-uuid": EVENT_UUID}, EVENT_UUID),
    ({}, "generated-1"),
    ({"x-gitlab-event-uuid": ""}, "generated-1"),
])
def test_id_prefers_gitlabs_delivery_identity(hdrs: dict[str, str], want: str) -> None:
    event = gitlab.to_event({"x-gitlab-event": "Push Hook", **hdrs}, b"{}", PROJECT,
                            new_id=lambda: "generated-1")
    assert event.id == want


def test_redelivery_keeps_its_id() -> None:
    body = (SAMPLES / "xanzy-go-gitlab__testdata_webhooks_push.json").read_bytes()
    hdrs = {"x-gitlab-event": "Push Hook", "idempotency-key": IDEMPOTENCY_KEY}
    ids = iter(["a", "b"])
    first = gitlab.to_event(hdrs, body, PROJECT, new_id=lambda: next(ids))
    again = gitlab.to_event(hdrs, body, PROJECT, new_id=lambda: next(ids))
    assert first.id == again.id == IDEMPOTENCY_KEY


@pytest.mark.parametrize("header, words", [
    (None, "missing"),
    ("", "missing"),
    ("Push", "must end in ' Hook'"),
    ("Push hook", "must end in ' Hook'"),
    ("Push Hook ", "must end in ' Hook'"),
    ("Pu$h Hook", "letters, digits"),
])
def test_bad_event_header_is_400_naming_it(header: str | None, words: str) -> None:
    hdrs = {} if header is None else {"x-gitlab-event": header}
    with pytest.raises(errors.Invalid) as caught:
        gitlab.to_event(hdrs, b"{}", PROJECT, new_id=lambda: "x")
    assert [e.path for e in caught.value.errors] == ["X-Gitlab-Event"]
    assert words in str(caught.value)
    assert errors.http_status(caught.value) == 400
    with pytest.raises(errors.Invalid, match="X-Gitlab-Event"):
        gitlab.event_type_option(header)


@pytest.mark.parametrize("body, words", [
    (b"", "not JSON"),
    (b"{", "not JSON"),
    (b'{"a":' * 100_000, "nested too deeply"),  # found by the R4 fuzz check: was a 500
    (b"[]", "JSON object"),
    (b"null", "JSON object"),
])
def test_bad_body_is_400(body: bytes, words: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        gitlab.to_event({"x-gitlab-event": "Push Hook"}, body, PROJECT, new_id=lambda: "x")
    assert [e.path for e in caught.value.errors] == ["body"]
    assert words in str(caught.value)
