"""Service defaulting (Knative's `service_defaults.go`): the template's RevisionSpec
defaults, and the traffic defaults with a default configuration (an empty `traffic` is
`[{percent: 100, latestRevision: true}]`: all of it to the latest ready Revision)."""

from __future__ import annotations

from typing import Any

from ripple.api import meta
from ripple.api.serving import revision_defaults, route_defaults


def set_defaults(service: dict[str, Any]) -> None:
    meta.set_defaults(service)
    if service.get("spec") is None:
        # `spec:` with only comments under it is YAML null; validation asks for a template.
        return
    spec = service["spec"]
    if not isinstance(spec, dict):
        return
    revision_defaults.set_template_defaults(spec.get("template"))
    route_defaults.set_traffic_defaults(spec, in_service=True)
