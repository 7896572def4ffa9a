"""GitHubSource (`sources.knative.dev/v1alpha1`): its names and constants.

Imported by the other `github_source_*` modules, by the sources reconciler, the webhook
registrar and the webhook receiver. Upstream: `knative-extensions/eventing-github`
`pkg/apis/sources/v1alpha1/githubsource_types.go` and the CRD
`config/core/300-githubsource.yaml` (the `eventTypes` enum, the required fields).

Ripple differs in one place: Knative's controller always registers the webhook with
GitHub, so its CRD requires `accessToken`. Ripple publishes the receiver URL in
`status.webhookUrl` for a user to paste into GitHub, and registers it itself only when
the source is annotated `ripple.dev/register-webhook: "true"`; `accessToken` is required
only then. `serviceAccountName` is admitted and unused (Ripple runs no per-source pods).
"""

from __future__ import annotations

from typing import Any

from ripple.api import meta
from ripple.api.sources import source_spec

GROUP = "sources.knative.dev"
VERSION = "v1alpha1"
KIND = "GitHubSource"

# CloudEvent type `dev.knative.source.github.<X-GitHub-Event>`: "source", singular.
EVENT_TYPE_PREFIX = "dev.knative.source.github."
EVENT_SOURCE_PREFIX = "https://github.com"
# Where the registrar talks to GitHub when `spec.githubAPIURL` is not set.
DEFAULT_API_URL = "https://api.github.com"

# Ripple's extension: "true" asks Ripple to register the webhook with `accessToken`.
REGISTER_ANNOTATION = "ripple.dev/register-webhook"
REGISTER_VALUES = ("true", "false")

# The CRD's enum for `spec.eventTypes`: GitHub's webhook event names, in upstream order.
EVENT_TYPES = (
    "check_suite", "commit_comment", "create", "delete", "deployment", "deployment_status",
    "fork", "gollum", "installation", "integration_installation", "issue_comment", "issues",
    "label", "member", "membership", "milestone", "organization", "org_block", "page_build",
    "ping", "project_card", "project_column", "project", "public", "pull_request",
    "pull_request_review", "pull_request_review_comment", "push", "release", "repository",
    "status", "team", "team_add", "watch",
)

# `ownerAndRepository`: "owner/repository", or "owner" for an organization; `eventTypes`:
# names from EVENT_TYPES; `accessToken` (a GitHub token, to register the webhook) and
# `secretToken` (the webhook secret that signs every delivery): each a
# SecretValueFromSource, `{secretKeyRef: {name, key, optional}}`; `githubAPIURL`: GitHub
# Enterprise's API, e.g. https://github.example.com/api/v3/; `secure`: register an https
# (true) or http (false) URL. Status: the conditions, `sinkUri`, `ceAttributes` (one
# {type, source} per event type), Knative's `webhookIDKey` (the id of the hook registered
# with GitHub) and Ripple's `webhookUrl` (the receiver URL to paste into GitHub).
SPEC_FIELDS = (
    "ownerAndRepository", "eventTypes", "accessToken", "secretToken", "githubAPIURL",
    "secure", "serviceAccountName", *source_spec.SPEC_FIELDS,
)


def event_type(github_event: str) -> str:
    """`push` -> `dev.knative.source.github.push` (Knative's GitHubEventType)."""
    return EVENT_TYPE_PREFIX + github_event


def event_source(owner_and_repository: str) -> str:
    """`knative/eventing` -> `https://github.com/knative/eventing` (GitHubEventSource)."""
    return f"{EVENT_SOURCE_PREFIX}/{owner_and_repository}"


def split_owner_and_repository(value: str) -> tuple[str, str]:
    """`owner/repo` -> ("owner", "repo"); `owner` -> ("owner", ""): an organization hook.

    Validation has already refused anything else (Knative's `parseOwnerRepoFrom`).
    """
    owner, _, repository = value.partition("/")
    return owner, repository


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def api_url(obj: dict[str, Any]) -> str:
    """The GitHub API the registrar calls: `spec.githubAPIURL`, else api.github.com."""
    found = _spec(obj).get("githubAPIURL")
    return found if isinstance(found, str) and found else DEFAULT_API_URL


def wants_registration(obj: dict[str, Any]) -> bool:
    """Ripple registers the webhook: annotated `ripple.dev/register-webhook: "true"`, with
    an `accessToken` to do it with."""
    if meta.annotations_of(obj).get(REGISTER_ANNOTATION) != "true":
        return False
    token = _spec(obj).get("accessToken")
    return isinstance(token, dict) and isinstance(token.get("secretKeyRef"), dict)
