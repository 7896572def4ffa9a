"""GitHubSource: names, helpers, defaults, validation, updates and lifecycle
(ripple.api.sources.github_source*)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ripple import errors
from ripple.api import loading, registry
from ripple.api.sources import github_source, github_source_types
from ripple.api.sources import github_source_lifecycle as lifecycle

NOW = datetime(2024, 5, 1, tzinfo=UTC)
REGISTER = "ripple.dev/register-webhook"
SECRET = {"secretKeyRef": {"name": "githubsecret", "key": "secretToken"}}
TOKEN = {"secretKeyRef": {"name": "githubsecret", "key": "accessToken"}}
SINK = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "display"}}
SPEC: dict[str, Any] = {
    "ownerAndRepository": "knative/eventing", "eventTypes": ["push", "pull_request"],
    "secretToken": SECRET, "sink": SINK,
}


def make(spec: Any = None, **metadata: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "sources.knative.dev/v1alpha1", "kind": "GitHubSource",
        "metadata": {"name": "gh", **metadata},
    }
    if spec is not None:
        obj["spec"] = copy.deepcopy(spec)
    return obj


def gh(**changes: Any) -> dict[str, Any]:
    """The minimal valid source with `changes`; a None value drops the field."""
    spec = {**copy.deepcopy(SPEC), **changes}
    return make({k: v for k, v in spec.items() if v is not None})


def registering(**changes: Any) -> dict[str, Any]:
    obj = gh(**changes)
    obj["metadata"]["annotations"] = {REGISTER: "true"}
    return obj


@pytest.mark.parametrize("name", [
    "githubsource", "githubsources", "GitHubSource", "githubsources.sources.knative.dev",
])
def test_names(name: str) -> None:
    found = registry.by_name(name)
    assert found is github_source.KIND
    assert (found.api_version, found.plural, found.addressable) == (
        "sources.knative.dev/v1alpha1", "githubsources", False)
    assert registry.by_resource("sources.knative.dev", "v1alpha1", "githubsources") is found


def test_event_names() -> None:
    assert github_source_types.event_type("push") == "dev.knative.source.github.push"
    assert github_source_types.EVENT_TYPE_PREFIX == "dev.knative.source.github."
    assert github_source_types.event_source("knative/eventing") == (
        "https://github.com/knative/eventing")
    assert len(github_source_types.EVENT_TYPES) == 34
    assert {"push", "pull_request", "issues", "create", "release", "ping"} <= set(
        github_source_types.EVENT_TYPES)


@pytest.mark.parametrize(("value", "expected"), [
    ("knative/eventing", ("knative", "eventing")),
    ("knative", ("knative", "")),
])
def test_split_owner_and_repository(value: str, expected: tuple[str, str]) -> None:
    assert github_source_types.split_owner_and_repository(value) == expected


@pytest.mark.parametrize(("obj", "expected"), [
    (gh(), "https://api.github.com"),
    (gh(githubAPIURL="https://github.example.com/api/v3/"), "https://github.example.com/api/v3/"),
    (gh(githubAPIURL=""), "https://api.github.com"),
])
def test_api_url(obj: dict[str, Any], expected: str) -> None:
    assert github_source_types.api_url(obj) == expected


@pytest.mark.parametrize(("obj", "expected"), [
    (registering(accessToken=TOKEN), True),
    (registering(), False),  # nothing to register with
    (gh(accessToken=TOKEN), False),  # not asked
    (make(annotations={REGISTER: "false"}, spec={**SPEC, "accessToken": TOKEN}), False),
    (make(annotations={REGISTER: "True"}, spec={**SPEC, "accessToken": TOKEN}), False),
    (registering(accessToken={}), False),
    ({"metadata": {"annotations": {REGISTER: "true"}}, "spec": "x"}, False),
])
def test_wants_registration(obj: dict[str, Any], expected: bool) -> None:
    assert github_source_types.wants_registration(obj) is expected


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    github_source.KIND.set_defaults(obj)
    return obj


@pytest.mark.parametrize(("given", "expected"), [
    pytest.param(make(), {"metadata": {"name": "gh", "namespace": "default"}, "spec": {}},
                 id="no-spec"),
    pytest.param(make({"sink": {"ref": {"kind": "Service", "name": "s"}}}, namespace="ns"),
                 {"metadata": {"name": "gh", "namespace": "ns"},
                  "spec": {"sink": {"ref": {"kind": "Service", "name": "s", "namespace": "ns"}}}},
                 id="sink-ref-namespace"),
    pytest.param(make({"sink": {"ref": {"name": "s", "namespace": "other"}}}),
                 {"metadata": {"name": "gh", "namespace": "default"},
                  "spec": {"sink": {"ref": {"name": "s", "namespace": "other"}}}},
                 id="sink-ref-namespace-kept"),
])
def test_defaults(given: dict[str, Any], expected: dict[str, Any]) -> None:
    got = defaulted(given)
    assert {"metadata": got["metadata"], "spec": got["spec"]} == expected


def test_nothing_else_is_defaulted() -> None:
    got = defaulted(gh())
    assert set(got["spec"]) == set(SPEC)
    assert "githubAPIURL" not in got["spec"] and "secure" not in got["spec"]


def test_defaults_survive_a_malformed_spec() -> None:
    assert defaulted(make("spec"))["spec"] == "spec"


@pytest.mark.parametrize("obj", [
    gh(),
    gh(ownerAndRepository="my-org"),
    gh(ownerAndRepository="<your GitHub org>/<your GitHub repo>"),  # upstream's sample
    gh(eventTypes=list(github_source_types.EVENT_TYPES)),
    gh(accessToken=TOKEN, githubAPIURL="https://github.example.com/api/v3/", secure=True,
       serviceAccountName="sa", ceOverrides={"extensions": {"team": "eventing"}}),
    gh(secretToken={"secretKeyRef": {"name": "s", "key": "webhook.secret", "optional": False}}),
    gh(sink={"uri": "http://display.default.svc.cluster.local"}),
    registering(accessToken=TOKEN),
    make(annotations={REGISTER: "false"}, spec=SPEC),
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


OR = "spec.ownerAndRepository"
ET = "spec.eventTypes"
ST = "spec.secretToken"
REF = "spec.secretToken.secretKeyRef"


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    (make("spec"), "spec", "must be a mapping, got a string"),
    (gh(repository="x"), "spec.repository", ('unknown field "repository"; the fields here are: '
                                             "ownerAndRepository, eventTypes, accessToken")),
    # ownerAndRepository
    (gh(ownerAndRepository=None), OR, "required field is missing"),
    (gh(ownerAndRepository=""), OR, "required field is missing"),
    (gh(ownerAndRepository=["knative"]), OR, "must be a string, got a list"),
    (gh(ownerAndRepository="a/b/c"), OR,
     'invalid value "a/b/c": expected "owner/repository", or "owner" for an organization'),
    (gh(ownerAndRepository="/eventing"), OR, 'invalid value "/eventing"'),
    (gh(ownerAndRepository="knative/"), OR, 'invalid value "knative/"'),
    # eventTypes
    (gh(eventTypes=None), ET, "required field is missing"),
    (gh(eventTypes=[]), ET, "must not be empty: give at least one GitHub webhook event name (e.g. push)"),
    (gh(eventTypes="push"), ET, "must be a list of GitHub webhook event names, got a string"),
    (gh(eventTypes=["push", "pushes"]), f"{ET}[1]",
     'invalid value "pushes": expected a GitHub webhook event name, one of check_suite, '),
    (gh(eventTypes=["Push"]), f"{ET}[0]", 'invalid value "Push"'),
    (gh(eventTypes=[7]), f"{ET}[0]", "must be a string, got an integer"),
    # secretToken and accessToken
    (gh(secretToken=None), ST, "required field is missing"),
    (gh(secretToken="s3cret"), ST, "must be a mapping, got a string"),
    (gh(secretToken={}), REF, "required field is missing"),
    (gh(secretToken={"secretKeyRef": SECRET["secretKeyRef"], "value": "x"}), f"{ST}.value",
     'unknown field "value"; the fields here are: secretKeyRef'),
    (gh(secretToken={"secretKeyRef": "githubsecret"}), REF, "must be a mapping, got a string"),
    (gh(secretToken={"secretKeyRef": {"key": "k"}}), f"{REF}.name", "required field is missing"),
    (gh(secretToken={"secretKeyRef": {"name": "s"}}), f"{REF}.key", "required field is missing"),
    (gh(secretToken={"secretKeyRef": {"name": "GitHub", "key": "k"}}), f"{REF}.name",
     'invalid value "GitHub": a lowercase RFC 1123 subdomain'),
    (gh(secretToken={"secretKeyRef": {"name": "s", "key": "a/b"}}), f"{REF}.key",
     'invalid value "a/b": a valid key must consist of alphanumeric characters'),
    (gh(secretToken={"secretKeyRef": {"name": "s", "key": 1}}), f"{REF}.key", "must be a string"),
    (gh(secretToken={"secretKeyRef": {"name": "s", "key": "k", "optional": "no"}}),
     f"{REF}.optional", "must be a boolean"),
    (gh(secretToken={"secretKeyRef": {"name": "s", "key": "k", "namespace": "x"}}),
     f"{REF}.namespace", 'unknown field "namespace"; the fields here are: name, key, optional'),
    (gh(accessToken={"secretKeyRef": {"name": "s"}}), "spec.accessToken.secretKeyRef.key",
     "required field is missing"),
    (registering(), "spec.accessToken",
     'required field is missing: ripple.dev/register-webhook is "true"'),
    (make(annotations={REGISTER: "yes"}, spec=SPEC), f"metadata.annotations[{REGISTER}]",
     'invalid value "yes": must be "true"'),
    # the rest
    (gh(githubAPIURL="github.example.com/api/v3"), "spec.githubAPIURL",
     "must be an absolute http or https URL with a host"),
    (gh(githubAPIURL="ftp://github.example.com"), "spec.githubAPIURL", "absolute http or https"),
    (gh(githubAPIURL="https://[::1"), "spec.githubAPIURL", 'invalid value "https://[::1"'),
    (gh(githubAPIURL=""), "spec.githubAPIURL", "must not be empty"),
    (gh(secure="true"), "spec.secure", "must be a boolean (true or false), got a string"),
    (gh(serviceAccountName=5), "spec.serviceAccountName", "must be a string"),
    (gh(sink=None), "spec.sink", "required field is missing"),
    (gh(sink={"uri": "/relative"}), "spec.sink.uri", "without a ref the uri must be absolute"),
    (gh(ceOverrides={"extensions": {"Team": "x"}}), "spec.ceOverrides.extensions[Team]",
     "invalid extension name"),
    (make(name="GH", spec=SPEC), "metadata.name", "RFC 1123 subdomain"),
])
def test_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


def test_every_error_is_reported_at_once() -> None:
    assert [p for p, _ in refusal(make({}))] == [
        OR, ET, ST, "spec.sink"]


@pytest.mark.parametrize("change", [
    {"ownerAndRepository": "knative/serving"},
    {"eventTypes": ["issues"]},
    {"secretToken": {"secretKeyRef": {"name": "other", "key": "k"}}},
    {"sink": {"uri": "http://elsewhere"}},
])
def test_updates_may_change_any_spec_field(change: dict[str, Any]) -> None:
    old = loading.admit(gh())
    loading.admit(gh(**change), old)


def test_updates_keep_the_identity() -> None:
    old = loading.admit(gh())
    renamed = gh()
    renamed["metadata"]["name"] = "other"
    assert [p for p, _ in refusal(renamed, old)] == ["metadata.name"]


# Lifecycle

def condition(status: dict[str, Any], type_: str) -> tuple[str, str, str] | None:
    found = lifecycle.CONDITIONS.get(status, type_)
    return None if found is None else (found["status"], found["reason"], found["message"])


def ready_status() -> dict[str, Any]:
    status: dict[str, Any] = {}
    lifecycle.initialize(status, now=NOW)
    lifecycle.mark_secrets(status, now=NOW)
    lifecycle.mark_sink(status, "http://display.default.svc", now=NOW)
    lifecycle.mark_webhook_configured(status, "http://ripple/webhooks/github/default/gh",
                                      now=NOW)
    return status


def test_initialize_then_ready() -> None:
    status: dict[str, Any] = {}
    lifecycle.initialize(status, now=NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "Ready", "SecretsProvided", "SinkProvided", "WebhookConfigured"]
    assert condition(status, "Ready") == ("Unknown", "", "")
    status = ready_status()
    assert condition(status, "Ready") == ("True", "", "")
    assert status["sinkUri"] == "http://display.default.svc"
    assert status["webhookUrl"] == "http://ripple/webhooks/github/default/gh"
    assert "webhookIDKey" not in status


@pytest.mark.parametrize(("mark", "args", "type_", "expected", "ready"), [
    (lifecycle.mark_no_secrets, ("SecretNotFound", "m"), "SecretsProvided",
     ("False", "SecretNotFound", "m"), ("False", "SecretNotFound", "m")),
    (lifecycle.mark_no_sink, ("NotFound", "m"), "SinkProvided", ("False", "NotFound", "m"),
     ("False", "NotFound", "m")),
    (lifecycle.mark_webhook_not_configured, ("RegistrationFailed", "m"), "WebhookConfigured",
     ("False", "RegistrationFailed", "m"), ("False", "RegistrationFailed", "m")),
    (lifecycle.mark_secrets, (), "SecretsProvided", ("True", "", ""), ("True", "", "")),
])
def test_transitions(mark: Any, args: tuple[Any, ...], type_: str,
                     expected: tuple[str, str, str], ready: tuple[str, str, str]) -> None:
    status = ready_status()
    mark(status, *args, now=NOW + timedelta(seconds=1))
    assert condition(status, type_) == expected
    assert condition(status, "Ready") == ready


def test_a_failure_then_recovery() -> None:
    status = ready_status()
    later = NOW + timedelta(seconds=5)
    lifecycle.mark_no_sink(status, "NotFound", "gone", now=later)
    assert "sinkUri" not in status
    lifecycle.mark_sink(status, "http://back", now=later + timedelta(seconds=1))
    assert condition(status, "Ready") == ("True", "", "")
    assert status["sinkUri"] == "http://back"


def test_registration_records_the_hook_and_keeps_it_on_failure() -> None:
    status = ready_status()
    lifecycle.mark_webhook_configured(status, "https://r/webhooks/github/ns/gh", now=NOW,
                                      hook_id=12345)
    assert (status["webhookUrl"], status["webhookIDKey"]) == (
        "https://r/webhooks/github/ns/gh", "12345")
    lifecycle.mark_webhook_not_configured(status, "RegistrationFailed", "401", now=NOW)
    assert (status["webhookUrl"], status["webhookIDKey"]) == (
        "https://r/webhooks/github/ns/gh", "12345")
    lifecycle.mark_webhook_configured(status, "https://r/webhooks/github/ns/gh", now=NOW)
    assert status["webhookIDKey"] == "12345"  # no id given: the recorded one stays


@pytest.mark.parametrize(("generation", "observed", "ready", "expected"), [
    (2, 2, True, True),
    (2, 1, True, False),
    (2, 2, False, False),
])
def test_is_ready(generation: int, observed: int, ready: bool, expected: bool) -> None:
    status = ready_status() if ready else {}
    status["observedGeneration"] = observed
    obj = {**gh(), "status": status}
    obj["metadata"]["generation"] = generation
    assert lifecycle.is_ready(obj) is expected
    assert lifecycle.is_ready(gh()) is False


def test_webhook_url() -> None:
    assert lifecycle.webhook_url({**gh(), "status": ready_status()}) == (
        "http://ripple/webhooks/github/default/gh")
    assert lifecycle.webhook_url(gh()) is None
