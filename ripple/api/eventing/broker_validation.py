"""Broker validation (Knative's `broker_validation.go`), run by `loading.admit`.

`validate` checks a whole Broker; `validate_update` adds what may not change: `spec.config`
and the class annotation (only `spec.delivery` is mutable, as upstream). The class is any
non-empty string.
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck, fields, meta
from ripple.api.eventing import broker_types, retention
from ripple.errors import FieldError

CLASS_PATH = fields.key("metadata.annotations", broker_types.CLASS_ANNOTATION)


def validate(broker: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(broker)
    if not meta.annotations_of(broker).get(broker_types.CLASS_ANNOTATION):
        errs.append(FieldError(CLASS_PATH, f"{fields.MISSING}: the broker class, e.g. "
                                           f"{broker_types.DEFAULT_CLASS}"))
    errs.extend(retention.validate(broker))
    spec = broker.get("spec")
    if spec is None:
        return errs
    found = fields.mapping(spec, "spec", errs)
    if found is None:
        return errs
    fields.known_fields(found, broker_types.SPEC_FIELDS, "spec", errs)
    if fields.present(found, "config"):
        errs.extend(duck.validate_kreference(found["config"], "spec.config"))
    if fields.present(found, "delivery"):
        errs.extend(duck.validate_delivery(found["delivery"], "spec.delivery"))
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    errs: fields.Errors = []
    old_config = _spec(old).get("config")
    new_config = _spec(new).get("config")
    if old_config != new_config:
        errs.append(FieldError("spec.config", (
            f"field is immutable: was {old_config}, now {new_config}; only spec.delivery may "
            "change, so delete and recreate the Broker to change its config"
        )))
    old_class = meta.annotations_of(old).get(broker_types.CLASS_ANNOTATION)
    new_class = meta.annotations_of(new).get(broker_types.CLASS_ANNOTATION)
    if old_class != new_class:
        errs.append(FieldError(CLASS_PATH, (
            f'annotation is immutable: was "{old_class}", now "{new_class}"; delete and '
            "recreate the Broker to change its class"
        )))
    return errs


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}
