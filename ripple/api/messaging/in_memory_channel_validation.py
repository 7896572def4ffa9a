"""InMemoryChannel validation (Knative's `in_memory_channel_validation.go`), run by `loading.admit`.

`validate` checks the metadata, the `eventing.knative.dev/scope` annotation (`cluster` or
`namespace`), `spec.subscribers` and `spec.delivery` (in `channelable`). Nothing is
immutable. Knative lets only its controller's service account change `spec.subscribers`;
Ripple's API server has no service accounts, so that rule is not enforced here.
"""

from __future__ import annotations

from typing import Any

from ripple.api import fields, meta
from ripple.api.messaging import channelable, in_memory_channel_types
from ripple.errors import FieldError

SCOPE_PATH = fields.key("metadata.annotations", in_memory_channel_types.SCOPE_ANNOTATION)


def validate(imc: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(imc)
    scope = meta.annotations_of(imc).get(in_memory_channel_types.SCOPE_ANNOTATION)
    if isinstance(scope, str) and scope not in in_memory_channel_types.SCOPES:
        errs.append(FieldError(SCOPE_PATH, (
            f'invalid value "{scope}": expected either "cluster" or "namespace"'
        )))
    spec = fields.mapping(imc.get("spec"), "spec", errs)
    if spec is None:
        return errs
    fields.known_fields(spec, in_memory_channel_types.SPEC_FIELDS, "spec", errs)
    errs.extend(channelable.validate(spec, "spec"))
    return errs
