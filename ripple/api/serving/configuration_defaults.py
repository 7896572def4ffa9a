"""Configuration defaulting (Knative's `configuration_defaults.go`): the template's
RevisionSpec defaults (`revision_defaults`)."""

from __future__ import annotations

from typing import Any

from ripple.api import meta
from ripple.api.serving import revision_defaults


def set_defaults(configuration: dict[str, Any]) -> None:
    meta.set_defaults(configuration)
    spec = configuration.get("spec")
    if isinstance(spec, dict):
        revision_defaults.set_template_defaults(spec.get("template"))
