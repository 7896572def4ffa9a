"""Configuration (`serving.knative.dev/v1`): names and fields.

Upstream: `pkg/apis/serving/v1/configuration_types.go`: the "floating HEAD" of a linear
history of Revisions; `spec.template` is a RevisionTemplateSpec, and the status carries
`latestCreatedRevisionName` and `latestReadyRevisionName`.
"""

from __future__ import annotations

from ripple.api.serving.revision_types import API_VERSION, GROUP, VERSION

KIND = "Configuration"
SPEC_FIELDS = ("template",)

__all__ = ["API_VERSION", "GROUP", "KIND", "SPEC_FIELDS", "VERSION"]
