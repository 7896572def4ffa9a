"""Parallel validation (Knative's `parallel_validation.go`), run by `loading.admit`.

`validate` checks a whole Parallel: the metadata, `spec.branches` (at least one; each
with a required `subscriber` and an optional `filter` and `reply`, all Destinations, and
an optional `delivery`), `spec.channelTemplate` (defaulted, so only a malformed one
fails) and `spec.reply`. Nothing is immutable, as upstream.

Knative reports a broken branch as one `invalid value` at `branches.subscriber[i]` and
does not check a branch's `delivery`; Ripple names the field inside the branch, such as
`spec.branches[0].subscriber.ref.name`, and checks `delivery` as everywhere else.
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck, fields, meta
from ripple.api.flows import parallel_types
from ripple.api.messaging import channel_validation
from ripple.errors import FieldError


def validate(parallel: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(parallel)
    if parallel.get("spec") is None:
        errs.append(FieldError(
            "spec", f"{fields.MISSING}: a Parallel needs at least one branch"
        ))
        return errs
    spec = fields.mapping(parallel["spec"], "spec", errs)
    if spec is None:
        return errs
    fields.known_fields(spec, parallel_types.SPEC_FIELDS, "spec", errs)
    errs.extend(_validate_branches(spec.get("branches"), "spec.branches"))
    errs.extend(channel_validation.validate_channel_template(
        spec.get("channelTemplate"), "spec.channelTemplate"
    ))
    if fields.present(spec, "reply"):
        errs.extend(duck.validate_destination(spec["reply"], "spec.reply"))
    return errs


def _validate_branches(value: object, path: str) -> fields.Errors:
    if value is None or value == []:
        return [FieldError(path, (
            f"{fields.MISSING}: a Parallel needs at least one branch, each with a subscriber"
        ))]
    if not isinstance(value, list):
        return [FieldError(path, fields.wrong_type("a list of branches", value))]
    errs: fields.Errors = []
    for i, item in enumerate(value):
        where = fields.index(path, i)
        branch = fields.mapping(item, where, errs)
        if branch is None:
            continue
        fields.known_fields(branch, parallel_types.BRANCH_FIELDS, where, errs)
        if fields.present(branch, "subscriber"):
            errs.extend(duck.validate_destination(
                branch["subscriber"], fields.join(where, "subscriber")
            ))
        else:
            errs.append(FieldError(fields.join(where, "subscriber"), (
                f"{fields.MISSING}: each branch needs a subscriber, a Destination with a ref "
                "(apiVersion, kind, name) and/or a uri"
            )))
        for name in ("filter", "reply"):
            if fields.present(branch, name):
                errs.extend(duck.validate_destination(branch[name], fields.join(where, name)))
        if fields.present(branch, "delivery"):
            errs.extend(duck.validate_delivery(branch["delivery"], fields.join(where, "delivery")))
    return errs
