"""Sequence validation (Knative's `sequence_validation.go`), run by `loading.admit`.

`validate` checks a whole Sequence: the metadata, `spec.steps` (at least one; each a
Destination plus an optional `delivery`), `spec.channelTemplate` (defaulted, so only a
malformed one fails) and `spec.reply`. Nothing is immutable, as upstream: the reconciler
rebuilds the channels and Subscriptions from the new spec.

Knative reports a broken step as one `invalid value` at `steps[i]`; Ripple names the
field inside it, such as `spec.steps[1].ref.kind`.
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck, fields, meta
from ripple.api.flows import sequence_types
from ripple.api.messaging import channel_validation
from ripple.errors import FieldError


def validate(sequence: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(sequence)
    if sequence.get("spec") is None:
        errs.append(FieldError("spec", f"{fields.MISSING}: a Sequence needs at least one step"))
        return errs
    spec = fields.mapping(sequence["spec"], "spec", errs)
    if spec is None:
        return errs
    fields.known_fields(spec, sequence_types.SPEC_FIELDS, "spec", errs)
    errs.extend(_validate_steps(spec.get("steps"), "spec.steps"))
    errs.extend(channel_validation.validate_channel_template(
        spec.get("channelTemplate"), "spec.channelTemplate"
    ))
    if fields.present(spec, "reply"):
        errs.extend(duck.validate_destination(spec["reply"], "spec.reply"))
    return errs


def _validate_steps(value: object, path: str) -> fields.Errors:
    if value is None or value == []:
        return [FieldError(path, (
            f"{fields.MISSING}: a Sequence needs at least one step, each a Destination with "
            "a ref (apiVersion, kind, name) and/or a uri"
        ))]
    if not isinstance(value, list):
        return [FieldError(path, fields.wrong_type("a list of steps", value))]
    errs: fields.Errors = []
    for i, item in enumerate(value):
        where = fields.index(path, i)
        step = fields.mapping(item, where, errs)
        if step is None:
            continue
        fields.known_fields(step, sequence_types.STEP_FIELDS, where, errs)
        destination = {k: v for k, v in step.items() if k in duck.DESTINATION_FIELDS}
        errs.extend(duck.validate_destination(destination, where))
        if fields.present(step, "delivery"):
            errs.extend(duck.validate_delivery(step["delivery"], fields.join(where, "delivery")))
    return errs
