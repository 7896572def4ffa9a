"""Configuration validation (Knative's `configuration_validation.go`): metadata (no
autoscaling annotations on the Configuration itself), `spec.template`
(`revision_validation.validate_template`), and on update Knative's VerifyNameChange.
"""

from __future__ import annotations

from typing import Any

from ripple.api import fields, meta
from ripple.api.serving import (
    annotation_validation,
    configuration_types,
    revision_validation,
    route_validation,
)
from ripple.errors import FieldError


def validate(configuration: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(configuration, name_rule="label")
    errs.extend(route_validation.validate_service_label(configuration))
    errs.extend(annotation_validation.refuse_on_parent(
        meta.annotations_of(configuration), "metadata.annotations"))
    spec = configuration.get("spec")
    if spec is None:
        errs.append(FieldError("spec", f"{fields.MISSING}: a Configuration needs spec.template"))
        return errs
    found = fields.mapping(spec, "spec", errs)
    if found is None:
        return errs
    fields.known_fields(found, configuration_types.SPEC_FIELDS, "spec", errs)
    errs.extend(revision_validation.validate_template(found.get("template"), "spec.template",
                                                      configuration))
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    return revision_validation.verify_name_change(
        (old.get("spec") or {}).get("template"), (new.get("spec") or {}).get("template"),
        "spec.template")
