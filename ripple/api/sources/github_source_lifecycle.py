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
from ripple.api.sources import source_spec, webhooks

SECRETS_PROVIDED = "SecretsProvided"
SINK_PROVIDED = source_spec.SINK_PROVIDED
WEBHOOK_CONFIGURED = webhooks.WEBHOOK_CONFIGURED

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


_WEBHOOK = webhooks.WebhookMarks(CONDITIONS, "webhookIDKey")
mark_webhook_configured = _WEBHOOK.configured
mark_webhook_not_configured = _WEBHOOK.not_configured
webhook_url = webhooks.webhook_url


def is_ready(source: dict[str, Any]) -> bool:
    """Ready, and for the latest spec: Knative's `GitHubSourceStatus.IsReady`."""
    status = source.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(source).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
