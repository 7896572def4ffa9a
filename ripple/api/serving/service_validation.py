"""Service validation (Knative's `service_validation.go`): metadata (no autoscaling
annotations on the Service itself), `spec.template` as a Configuration's, `spec.traffic`
as a Route's with the Service's own Configuration as the default, and on update
Knative's VerifyNameChange for the template.
"""

from __future__ import annotations

from typing import Any

from ripple.api import fields, meta
from ripple.api.serving import (
    annotation_validation,
    revision_validation,
    route_validation,
    service_types,
)
from ripple.errors import FieldError


def validate(service: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(service, name_rule="label")
    errs.extend(annotation_validation.refuse_on_parent(meta.annotations_of(service),
                                                       "metadata.annotations"))
    spec = service.get("spec")
    if spec is None:
        errs.append(FieldError("spec", (
            f"{fields.MISSING}: a Service needs spec.template.spec.containers")))
        return errs
    found = fields.mapping(spec, "spec", errs)
    if found is None:
        return errs
    fields.known_fields(found, service_types.SPEC_FIELDS, "spec", errs)
    errs.extend(revision_validation.validate_template(found.get("template"), "spec.template", service))
    errs.extend(route_validation.validate_traffic(found.get("traffic"), "spec.traffic", in_service=True))
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    return revision_validation.verify_name_change(
        (old.get("spec") or {}).get("template"), (new.get("spec") or {}).get("template"),
        "spec.template")
