"""Trigger validation (Knative's `trigger_validation.go`), run by `loading.admit`.

`validate` checks a whole Trigger: the metadata, `spec.broker` (required),
`spec.subscriber` (a required Destination), `spec.filter` and `spec.filters` (in
`trigger_filters`), `spec.delivery`, the `knative.dev/dependency` and
`eventing.knative.dev/injection` annotations, and Ripple's `ripple.dev/delivery-order`
(`ordered` or `unordered`, in `ripple.api.messaging.delivery_order`). `validate_update`
refuses a change of `spec.broker`, the one immutable field.

`spec.brokerRef` (Knative's alpha cross-namespace link) is refused: Ripple's Triggers
name a Broker in their own namespace.
"""

from __future__ import annotations

from typing import Any

from ripple.api import dead_letter_bounds, duck, fields, meta
from ripple.api.eventing import trigger_filters, trigger_types
from ripple.api.messaging import delivery_order
from ripple.errors import FieldError

DEPENDENCY_PATH = fields.key("metadata.annotations", trigger_types.DEPENDENCY_ANNOTATION)
INJECTION_PATH = fields.key("metadata.annotations", trigger_types.INJECTION_ANNOTATION)


def validate(trigger: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(trigger)
    errs.extend(_validate_annotations(trigger))
    errs.extend(delivery_order.validate(trigger))
    errs.extend(dead_letter_bounds.validate(trigger))
    if trigger.get("spec") is None:
        errs.append(FieldError(
            "spec", f"{fields.MISSING}: a Trigger needs a broker and a subscriber"
        ))
        return errs
    spec = fields.mapping(trigger["spec"], "spec", errs)
    if spec is None:
        return errs
    fields.known_fields(spec, trigger_types.SPEC_FIELDS, "spec", errs)
    if fields.present(spec, "brokerRef"):
        errs.append(FieldError("spec.brokerRef", (
            "not supported: Ripple Triggers name a Broker of their own namespace in spec.broker"
        )))
    broker = fields.required(spec, "broker", "spec", errs)
    if broker is not None:
        fields.string(broker, "spec.broker", errs)
    if fields.present(spec, "filter"):
        errs.extend(trigger_filters.validate_filter(spec["filter"], "spec.filter"))
    if fields.present(spec, "filters"):
        errs.extend(trigger_filters.validate_filters(spec["filters"], "spec.filters"))
    if fields.present(spec, "subscriber"):
        errs.extend(duck.validate_destination(spec["subscriber"], "spec.subscriber"))
    else:
        errs.append(FieldError("spec.subscriber", (
            f"{fields.MISSING}: a Destination with a ref (apiVersion, kind, name) and/or a uri"
        )))
    if fields.present(spec, "delivery"):
        errs.extend(duck.validate_delivery(spec["delivery"], "spec.delivery"))
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    before, after = trigger_types.broker_name(old), trigger_types.broker_name(new)
    if before != after:
        return [FieldError("spec.broker", (
            f'field is immutable: was "{before}", now "{after}"; delete and recreate the '
            "Trigger to move it to another Broker"
        ))]
    return []


def _validate_annotations(trigger: dict[str, Any]) -> fields.Errors:
    errs: fields.Errors = []
    found = meta.annotations_of(trigger)
    namespace, _ = meta.key(trigger)
    text = found.get(trigger_types.DEPENDENCY_ANNOTATION)
    if isinstance(text, str):
        errs.extend(_validate_dependency(text, namespace))
    injection = found.get(trigger_types.INJECTION_ANNOTATION)
    if isinstance(injection, str):
        if injection not in ("enabled", "disabled"):
            errs.append(FieldError(INJECTION_PATH, (
                f'invalid value "{injection}": must be "enabled" or "disabled"'
            )))
        elif trigger_types.broker_name(trigger) != "default":
            errs.append(FieldError(INJECTION_PATH, (
                "only used with the Broker named default, but spec.broker is "
                f'"{trigger_types.broker_name(trigger)}"'
            )))
    return errs


def _validate_dependency(text: str, namespace: str) -> fields.Errors:
    try:
        ref = trigger_types.parse_dependency(text)
    except ValueError as error:
        return [FieldError(DEPENDENCY_PATH, f"not an object reference: {error}")]
    errs: fields.Errors = []
    for name in ("apiVersion", "kind", "name"):
        value = fields.required(ref, name, DEPENDENCY_PATH, errs)
        if value is not None:
            fields.string(value, fields.join(DEPENDENCY_PATH, name), errs)
    other = ref.get("namespace")
    if other not in (None, "", namespace):
        errs.append(FieldError(fields.join(DEPENDENCY_PATH, "namespace"), (
            f'invalid value "{other}": must be empty or the Trigger\'s namespace "{namespace}"'
        )))
    return errs
