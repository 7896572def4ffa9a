"""The GitHubSource condition set and the `mark_*` functions its reconciler calls.

Reconcilers call these and never edit `status.conditions` by hand. Upstream:
`knative-extensions/eventing-github:pkg/apis/sources/v1alpha1/githubsource_types.go`
(`gitHubSourceCondSet` and the `Mark*` methods); the set and its names are Knative's.

Ready is True when all three are, and Ripple reports them so:
- `SecretsProvided`: the Secret keys that `secretToken` and (when set) `accessToken` name
  exist; the receiver verifies every delivery with the first, the registrar registers the
  hook with the second;
- `SinkProvided`: `spec.sink` resolved into `status.sinkUri` (`source_spec.SinkMarks`);
- `WebhookConfigured`: the receiver URL is published in Ripple's `status.webhookUrl`
  and, when Ripple registers the hook (`github_source_types.wants_registration`), GitHub
  accepted it and its id is in Knative's `status.webhookIDKey`. Without registration the
  user pastes the URL into GitHub, which Ripple cannot observe, so publishing it is what
  makes the condition True. False while a registration is pending or was refused.

Knative's commented-out `Deployed` stays out: every Ripple process serves the receiver.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions, meta
from ripple.api.sources import source_spec

SECRETS_PROVIDED = "SecretsProvided"
SINK_PROVIDED = source_spec.SINK_PROVIDED
WEBHOOK_CONFIGURED = "WebhookConfigured"

CONDITIONS = conditions.ConditionSet(
    conditions.READY, (SECRETS_PROVIDED, SINK_PROVIDED, WEBHOOK_CONFIGURED)
)

Status = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


_SINK = source_spec.SinkMarks(CONDITIONS)
mark_sink = _SINK.sink
mark_no_sink = _SINK.no_sink


def mark_secrets(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, SECRETS_PROVIDED, now=now)


def mark_no_secrets(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, SECRETS_PROVIDED, reason, message, now=now)


def mark_webhook_configured(
    status: Status, url: str, *, now: datetime, hook_id: str | int | None = None
) -> None:
    """Publish the receiver URL and, when GitHub gave one, the registered hook's id."""
    status["webhookUrl"] = url
    if hook_id is not None and hook_id != "":
        status["webhookIDKey"] = str(hook_id)
    CONDITIONS.mark_true(status, WEBHOOK_CONFIGURED, now=now)


def mark_webhook_not_configured(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    """Keeps `webhookUrl` (the user may still paste it) and `webhookIDKey` (to delete)."""
    CONDITIONS.mark_false(status, WEBHOOK_CONFIGURED, reason, message, now=now)


def webhook_url(source: dict[str, Any]) -> str | None:
    """The receiver URL the reconciler published, if any."""
    status = source.get("status")
    url = status.get("webhookUrl") if isinstance(status, dict) else None
    return url if isinstance(url, str) and url else None


def is_ready(source: dict[str, Any]) -> bool:
    """Ready, and for the latest spec: Knative's `GitHubSourceStatus.IsReady`."""
    status = source.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(source).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
