"""The `sources.knative.dev` API group: PingSource, GitHubSource, GitLabSource, KafkaSource.

Imported by `ripple.api`; importing the kind modules registers the kinds. Each kind is a
family of modules named as in Knative's `pkg/apis/sources`: `<kind>` (registration),
`<kind>_types`, `<kind>_defaults`, `<kind>_validation` and `<kind>_lifecycle`. Shared:
`source_spec` (SourceSpec: `sink`, `ceOverrides`; SourceStatus: `sinkUri`) and
`webhooks` (the Git sources' `WebhookConfigured` and `status.webhookUrl`).
"""

from __future__ import annotations

from ripple.api.sources import (
    github_source,
    github_source_lifecycle,
    github_source_types,
    gitlab_source,
    gitlab_source_lifecycle,
    gitlab_source_types,
    kafka_source,
    kafka_source_lifecycle,
    kafka_source_types,
    ping_source,
    ping_source_lifecycle,
    ping_source_types,
    source_spec,
    webhooks,
)

__all__ = [
    "github_source",
    "github_source_lifecycle",
    "github_source_types",
    "gitlab_source",
    "gitlab_source_lifecycle",
    "gitlab_source_types",
    "kafka_source",
    "kafka_source_lifecycle",
    "kafka_source_types",
    "ping_source",
    "ping_source_lifecycle",
    "ping_source_types",
    "source_spec",
    "webhooks",
]
