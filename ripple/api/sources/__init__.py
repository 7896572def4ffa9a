"""The `sources.knative.dev` API group: PingSource, GitHubSource, GitLabSource, KafkaSource.

Imported by `ripple.api`; importing the kind modules registers the kinds. Each kind is a
family of modules named as in Knative's `pkg/apis/sources`: `<kind>` (registration),
`<kind>_types`, `<kind>_defaults`, `<kind>_validation` and `<kind>_lifecycle`. Shared:
`source_spec` (SourceSpec: `sink`, `ceOverrides`; SourceStatus: `sinkUri`).
"""

from __future__ import annotations

from ripple.api.sources import source_spec

__all__ = ["source_spec"]
