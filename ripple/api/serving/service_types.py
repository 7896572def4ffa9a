"""Service (`serving.knative.dev/v1`): names and fields.

Upstream: `pkg/apis/serving/v1/service_types.go`: the spec inlines a ConfigurationSpec
(`template`) and a RouteSpec (`traffic`); the status inlines both statuses.
"""

from __future__ import annotations

from ripple.api.serving.revision_types import API_VERSION, GROUP, VERSION

KIND = "Service"
SPEC_FIELDS = ("template", "traffic")

__all__ = ["API_VERSION", "GROUP", "KIND", "SPEC_FIELDS", "VERSION"]
