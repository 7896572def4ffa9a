"""GitLabSource: names, helpers, defaults, validation, updates and lifecycle
(ripple.api.sources.gitlab_source*)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ripple import errors
from ripple.api import loading, registry
from ripple.api.sources import github_source_types, gitlab_source, gitlab_source_types
from ripple.api.sources import gitlab_source_lifecycle as lifecycle

NOW = datetime(2024, 5, 1, tzinfo=UTC)
REGISTER = "ripple.dev/register-webhook"
SECRET = {"secretKeyRef": {"name": "gitlabsecret", "key": "secretToken"}}
TOKEN = {"secretKeyRef": {"name": "gitlabsecret", "key": "accessToken"}}
SINK = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "display"}}
SPEC: dict[str, Any] = {
    "projectUrl": "https://gitlab.com/gitlab-org/gitlab-foss",
    "eventTypes": ["push_events", "issues_events"], "secretToken": SECRET, "sink": SINK,
}
URL = "http://ripple/webhooks/gitlab/default/gl"


def make(spec: Any = None, **metadata: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "sources.knative.dev/v1alpha1", "kind": "GitLabSource",
        "metadata": {"name": "gl", **metadata},
    }
    if spec is not None:
        obj["spec"] = copy.deepcopy(spec)
    return obj


def gl(**changes: Any) -> dict[str, Any]:
    """The minimal valid source with `changes`; a None value drops the field."""
    spec = {**copy.deepcopy(SPEC), **changes}
    return make({k: v for k, v in spec.items() if v is not None})


def registering(**changes: Any) -> dict[str, Any]:
    obj = gl(**changes)
    obj["metadata"]["annotations"] = {REGISTER: "true"}
    return obj


@pytest.mark.parametrize("name", [
    "gitlabsource", "gitlabsources", "GitLabSource", "gitlabsources.sources.knative.dev",
])
def test_names(name: str) -> None:
    found = registry.by_name(name)
    assert found is gitlab_source.KIND
    assert (found.api_version, found.plural) == ("sources.knative.dev/v1alpha1", "gitlabsources")
    assert registry.by_resource("sources.knative.dev", "v1alpha1", "gitlabsources") is found


@pytest.mark.parametrize(("option", "kind"), [
    ("push_events", "push"),
    ("tag_push_events", "tag_push"),
    ("issues_events", "issue"),
    ("confidential_issues_events", "confidential_issue"),
    ("merge_requests_events", "merge_request"),
    ("note_events", "note"),
    ("job_events", "job"),
    ("pipeline_events", "pipeline"),
    ("wiki_page_events", "wiki_page"),
    ("deployment_events", "deployment"),
    ("releases_events", "release"),
    ("unknown_events", "unknown"),
])
def test_event_kinds(option: str, kind: str) -> None:
    assert gitlab_source_types.event_kind(option) == kind
    assert gitlab_source_types.event_type_option(kind) == (
        option if option != "unknown_events" else None)


def test_event_names() -> None:
    assert gitlab_source_types.EVENT_TYPE_PREFIX == "dev.knative.sources.gitlab."
    assert gitlab_source_types.event_type("push") == "dev.knative.sources.gitlab.push"
    assert gitlab_source_types.event_source(SPEC["projectUrl"]) == SPEC["projectUrl"]
    assert len(gitlab_source_types.EVENT_TYPES) == 14
    assert all(t.endswith("_events") for t in gitlab_source_types.EVENT_TYPES)
    assert gitlab_source_types.REGISTER_ANNOTATION == github_source_types.REGISTER_ANNOTATION


@pytest.mark.parametrize(("obj", "expected"), [
    (registering(accessToken=TOKEN), True),
    (registering(), False),
    (gl(accessToken=TOKEN), False),
    (make(annotations={REGISTER: "false"}, spec={**SPEC, "accessToken": TOKEN}), False),
])
def test_wants_registration(obj: dict[str, Any], expected: bool) -> None:
    assert gitlab_source_types.wants_registration(obj) is expected


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    gitlab_source.KIND.set_defaults(obj)
    return obj


@pytest.mark.parametrize(("given", "expected"), [
    pytest.param(make(), {"metadata": {"name": "gl", "namespace": "default"}, "spec": {}},
                 id="no-spec"),
    pytest.param(make({"sink": {"ref": {"kind": "Service", "name": "s"}}}, namespace="ns"),
                 {"metadata": {"name": "gl", "namespace": "ns"},
                  "spec": {"sink": {"ref": {"kind": "Service", "name": "s", "namespace": "ns"}}}},
                 id="sink-ref-namespace"),
    pytest.param(gl(), {"metadata": {"name": "gl", "namespace": "default"},
                        "spec": {**SPEC, "sink": {"ref": {**SINK["ref"], "namespace": "default"}}}},
                 id="nothing-else"),
])
def test_defaults(given: dict[str, Any], expected: dict[str, Any]) -> None:
    got = defaulted(given)
    assert {"metadata": got["metadata"], "spec": got["spec"]} == expected


@pytest.mark.parametrize("obj", [
    gl(),
    gl(projectUrl="https://gitlab.example.com"),  # upstream's sample has no project path
    gl(projectUrl="http://gitlab.internal:8080/group/sub/project"),
    gl(eventTypes=list(gitlab_source_types.EVENT_TYPES)),
    gl(accessToken=TOKEN, sslverify=True, serviceAccountName="sa",
       ceOverrides={"extensions": {"team": "x"}}),
    registering(accessToken=TOKEN),
])
def test_admitted(obj: dict[str, Any]) -> None:
    admitted = loading.admit(obj)
    assert {k: v for k, v in admitted["spec"].items() if k != "sink"} == {
        k: v for k, v in obj["spec"].items() if k != "sink"}


def refusal(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj, old)
    assert caught.value.status == 422
    return [(e.path, e.message) for e in caught.value.errors]


PU = "spec.projectUrl"
ET = "spec.eventTypes"


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    (make([1]), "spec", "must be a mapping, got a list"),
    (gl(sslVerify=True), "spec.sslVerify", ('unknown field "sslVerify"; the fields here are: '
                                            "projectUrl, eventTypes, accessToken, secretToken, "
                                            "sslverify")),
    (gl(projectUrl=None), PU, "required field is missing"),
    (gl(projectUrl=""), PU, "required field is missing"),
    (gl(projectUrl="gitlab.com/gitlab-org/gitlab"), PU,
     "must be an absolute http or https URL with a host"),
    (gl(projectUrl="git@gitlab.com:gitlab-org/gitlab.git"), PU, "absolute http or https URL"),
    (gl(projectUrl=3), PU, "must be a string, got an integer"),
    (gl(eventTypes=None), ET, "required field is missing"),
    (gl(eventTypes=[]), ET, ("must not be empty: give at least one GitLab webhook event option "
                             "(e.g. push_events)")),
    (gl(eventTypes={"push_events": True}), ET, "must be a list of GitLab webhook event options"),
    (gl(eventTypes=["push"]), f"{ET}[0]",
     'invalid value "push": expected a GitLab webhook event option, one of'),
    (gl(eventTypes=["push_events", "merge_request_events"]), f"{ET}[1]",
     'invalid value "merge_request_events"'),
    (gl(secretToken=None), "spec.secretToken", "required field is missing"),
    (gl(secretToken={"secretKeyRef": {"name": "s"}}), "spec.secretToken.secretKeyRef.key",
     "required field is missing"),
    (gl(accessToken={"secretKeyRef": {"name": "S", "key": "k"}}),
     "spec.accessToken.secretKeyRef.name", "RFC 1123 subdomain"),
    (registering(), "spec.accessToken", "required field is missing"),
    (make(annotations={REGISTER: ""}, spec=SPEC), f"metadata.annotations[{REGISTER}]",
     'invalid value ""'),
    (gl(sslverify="false"), "spec.sslverify", "must be a boolean"),
    (gl(sink={}), "spec.sink", "expected at least one of ref or uri, got neither"),
    (gl(ceOverrides={"extension": {}}), "spec.ceOverrides.extension", 'unknown field'),
])
def test_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


def test_every_error_is_reported_at_once() -> None:
    assert [p for p, _ in refusal(make({}))] == [PU, ET, "spec.secretToken", "spec.sink"]


@pytest.mark.parametrize("change", [
    {"projectUrl": "https://gitlab.com/other/project"},
    {"eventTypes": ["pipeline_events"]},
    {"sslverify": True},
])
def test_updates_may_change_any_spec_field(change: dict[str, Any]) -> None:
    loading.admit(gl(**change), loading.admit(gl()))


# Lifecycle

def condition(status: dict[str, Any], type_: str) -> tuple[str, str, str] | None:
    found = lifecycle.CONDITIONS.get(status, type_)
    return None if found is None else (found["status"], found["reason"], found["message"])


def ready_status() -> dict[str, Any]:
    status: dict[str, Any] = {}
    lifecycle.initialize(status, now=NOW)
    lifecycle.mark_sink(status, "http://display.default.svc", now=NOW)
    lifecycle.mark_deployed(status, now=NOW)
    lifecycle.mark_webhook_configured(status, URL, now=NOW)
    return status


def test_initialize_then_ready() -> None:
    status: dict[str, Any] = {}
    lifecycle.initialize(status, now=NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "Deployed", "Ready", "SinkProvided", "WebhookConfigured"]
    assert lifecycle.CONDITIONS.get(status, "SecretsProvided") is None
    status = ready_status()
    assert condition(status, "Ready") == ("True", "", "")
    assert (status["sinkUri"], status["webhookUrl"]) == ("http://display.default.svc", URL)
    assert "webhookID" not in status


@pytest.mark.parametrize(("mark", "args", "type_", "expected"), [
    (lifecycle.mark_no_sink, ("NotFound", "m"), "SinkProvided", ("False", "NotFound", "m")),
    (lifecycle.mark_not_deployed, ("SecretNotFound", "m"), "Deployed",
     ("False", "SecretNotFound", "m")),
    (lifecycle.mark_webhook_not_configured, ("WebhookNotRegistered", "m"), "WebhookConfigured",
     ("False", "WebhookNotRegistered", "m")),
])
def test_failures_make_ready_false(mark: Any, args: tuple[Any, ...], type_: str,
                                   expected: tuple[str, str, str]) -> None:
    status = ready_status()
    mark(status, *args, now=NOW + timedelta(seconds=1))
    assert condition(status, type_) == expected
    assert condition(status, "Ready") == expected


def test_not_deployed_then_deployed() -> None:
    status = ready_status()
    lifecycle.mark_not_deployed(status, "SecretNotFound", "m", now=NOW)
    lifecycle.mark_deployed(status, now=NOW + timedelta(seconds=1))
    assert condition(status, "Ready") == ("True", "", "")


@pytest.mark.parametrize(("hook_id", "stored"), [(42, 42), ("42", 42), ("hook-7", "hook-7")])
def test_registration_records_the_hook_id(hook_id: Any, stored: Any) -> None:
    status = ready_status()
    lifecycle.mark_webhook_configured(status, URL, now=NOW, hook_id=hook_id)
    assert status["webhookID"] == stored
    lifecycle.mark_webhook_not_configured(status, "RegistrationFailed", "403", now=NOW)
    assert (status["webhookUrl"], status["webhookID"]) == (URL, stored)


def test_is_ready() -> None:
    obj = {**gl(), "status": {**ready_status(), "observedGeneration": 3}}
    obj["metadata"]["generation"] = 3
    assert lifecycle.is_ready(obj) is True
    obj["metadata"]["generation"] = 4
    assert lifecycle.is_ready(obj) is False
    assert lifecycle.is_ready(gl()) is False
    assert lifecycle.webhook_url({"status": {"webhookUrl": URL}}) == URL
