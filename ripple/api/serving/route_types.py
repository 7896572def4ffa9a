"""Route (`serving.knative.dev/v1`): names and the TrafficTarget shape.

Upstream: `pkg/apis/serving/v1/route_types.go`. Imported by the other `route_*` modules,
the Service modules, the serving reconcilers and the router.
"""

from __future__ import annotations

from ripple.api.serving.revision_types import API_VERSION, GROUP, VERSION

KIND = "Route"
SPEC_FIELDS = ("traffic",)
TRAFFIC_FIELDS = ("tag", "revisionName", "configurationName", "latestRevision", "percent", "url")

__all__ = ["API_VERSION", "GROUP", "KIND", "SPEC_FIELDS", "TRAFFIC_FIELDS", "VERSION"]
