"""The GitLabSource condition set and the `mark_*` functions its reconciler calls.

Reconcilers call these and never edit `status.conditions` by hand. Upstream:
`knative-extensions/eventing-gitlab:pkg/apis/sources/v1alpha1/gitlabsource_lifecyle.go`;
the set and its names are Knative's. Unlike GitHubSource it has no `SecretsProvided`:
upstream reports missing credentials on the condition that needs them.

Ready is True when all three are, and Ripple reports them so:
- `SinkProvided`: `spec.sink` resolved into `status.sinkUri` (`source_spec.SinkMarks`);
- `Deployed`: the receive adapter can serve the source. Knative's is a per-source
  Knative Service; Ripple's receiver runs in every process, so what can fail is the
  `secretToken` it verifies each delivery with (and, when registering, `accessToken`);
- `WebhookConfigured`: the receiver URL is published in Ripple's `status.webhookUrl`
  and, when Ripple registers the hook (`gitlab_source_types.wants_registration`), GitLab
  accepted it and its id is in Knative's `status.webhookID`. Without registration the
  user pastes the URL into GitLab, which Ripple cannot observe, so publishing it is what
  makes the condition True. False while a registration is pending or was refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions, meta
from ripple.api.sources import source_spec, webhooks

SINK_PROVIDED = source_spec.SINK_PROVIDED
DEPLOYED = "Deployed"
WEBHOOK_CONFIGURED = webhooks.WEBHOOK_CONFIGURED

CONDITIONS = conditions.ConditionSet(
    conditions.READY, (SINK_PROVIDED, DEPLOYED, WEBHOOK_CONFIGURED)
)

Status = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


_SINK = source_spec.SinkMarks(CONDITIONS)
mark_sink = _SINK.sink
mark_no_sink = _SINK.no_sink


def mark_deployed(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, DEPLOYED, now=now)


def mark_not_deployed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, DEPLOYED, reason, message, now=now)


_WEBHOOK = webhooks.WebhookMarks(CONDITIONS, "webhookID", integer_ids=True)
mark_webhook_configured = _WEBHOOK.configured
mark_webhook_not_configured = _WEBHOOK.not_configured
webhook_url = webhooks.webhook_url


def is_ready(source: dict[str, Any]) -> bool:
    """Ready, and for the latest spec (Knative's generated `IsReady`)."""
    status = source.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(source).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
