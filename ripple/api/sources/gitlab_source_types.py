"""GitLabSource (`sources.knative.dev/v1alpha1`): its names and constants.

Imported by the other `gitlab_source_*` modules, by the sources reconciler, the webhook
registrar and the webhook receiver. Upstream: `knative-extensions/eventing-gitlab`
`pkg/apis/sources/v1alpha1/gitlabsource_types.go`, `gitlabsource_lifecyle.go` (the event
type names) and the CRD `config/300-gitlabsource.yaml` (the `eventTypes` enum).

`spec.eventTypes` names GitLab's project-hook options (`push_events`, ...). The CloudEvent
type is `dev.knative.sources.gitlab.<kind>` ("sources", plural), where the receiver
derives `<kind>` from the `X-Gitlab-Event` header as Knative's adapter does: `Merge
Request Hook` gives `merge_request`. `EVENT_KINDS` maps each option to the kind its
deliveries carry, so `status.ceAttributes` lists the types the receiver really emits
(upstream's `EventTypes()` says `build` for `job_events` and `issue` for confidential
issues, which its own adapter never sends).

As for GitHubSource, `accessToken` is required only when Ripple registers the hook
(`ripple.dev/register-webhook: "true"`); `serviceAccountName` is admitted and unused.
"""

from __future__ import annotations

from typing import Any

from ripple.api import meta
from ripple.api.sources import github_source_types, source_spec

GROUP = "sources.knative.dev"
VERSION = "v1alpha1"
KIND = "GitLabSource"

EVENT_TYPE_PREFIX = "dev.knative.sources.gitlab."
REGISTER_ANNOTATION = github_source_types.REGISTER_ANNOTATION  # "ripple.dev/register-webhook"

# The CRD's enum for `spec.eventTypes` (GitLab's project-hook options), each with the
# `X-Gitlab-Event` header of its deliveries minus " Hook", snake_cased.
EVENT_KINDS = {
    "confidential_issues_events": "confidential_issue",
    "confidential_note_events": "confidential_note",
    "deployment_events": "deployment",
    "feature_flag_events": "feature_flag",
    "issues_events": "issue",
    "job_events": "job",
    "merge_requests_events": "merge_request",
    "note_events": "note",
    "pipeline_events": "pipeline",
    "push_events": "push",
    "releases_events": "release",
    "tag_push_events": "tag_push",
    "wiki_page_events": "wiki_page",
    "resource_access_token_events": "resource_access_token",
}
EVENT_TYPES = tuple(EVENT_KINDS)
_OPTIONS = {kind: option for option, kind in EVENT_KINDS.items()}

# `projectUrl`: e.g. https://gitlab.com/gitlab-org/gitlab-foss, the events' source;
# `eventTypes`: names from EVENT_TYPES; `accessToken` (to register the hook) and
# `secretToken` (X-Gitlab-Token's value): SecretValueFromSources as GitHubSource's;
# `sslverify`: GitLab verifies the receiver's certificate. Status: the conditions,
# `sinkUri`, `ceAttributes`, Knative's `webhookID` (the id of the project hook registered
# with GitLab) and Ripple's `webhookUrl` (the receiver URL to paste into GitLab).
SPEC_FIELDS = (
    "projectUrl", "eventTypes", "accessToken", "secretToken", "sslverify",
    "serviceAccountName", *source_spec.SPEC_FIELDS,
)


def event_kind(option: str) -> str:
    """`merge_requests_events` -> `merge_request`: what its deliveries are typed."""
    return EVENT_KINDS.get(option, option.removesuffix("_events"))


def event_type_option(kind: str) -> str | None:
    """`merge_request` -> `merge_requests_events`; None for a kind no option sends."""
    return _OPTIONS.get(kind)


def event_type(kind: str) -> str:
    """`push` -> `dev.knative.sources.gitlab.push` (Knative's GitLabEventType)."""
    return EVENT_TYPE_PREFIX + kind


def event_source(project_url: str) -> str:
    """The events' `source`: the project URL itself (Knative's AsEventSource)."""
    return project_url


def wants_registration(obj: dict[str, Any]) -> bool:
    """Ripple registers the hook: annotated `ripple.dev/register-webhook: "true"`, with an
    `accessToken` to do it with."""
    if meta.annotations_of(obj).get(REGISTER_ANNOTATION) != "true":
        return False
    spec = obj.get("spec")
    token = spec.get("accessToken") if isinstance(spec, dict) else None
    return isinstance(token, dict) and isinstance(token.get("secretKeyRef"), dict)
