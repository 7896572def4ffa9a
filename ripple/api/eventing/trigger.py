"""Trigger (`eventing.knative.dev/v1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.eventing`. The concerns live next door, one module each:
`trigger_types` (names, shapes, the dependency annotation), `trigger_defaults`,
`trigger_validation` with `trigger_filters`, and `trigger_lifecycle` (conditions and the
`mark_*` functions reconcilers call).
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.eventing import trigger_defaults, trigger_types, trigger_validation

KIND = registry.register(registry.Kind(
    group=trigger_types.GROUP,
    version=trigger_types.VERSION,
    kind=trigger_types.KIND,
    plural="triggers",
    singular="trigger",
    set_defaults=trigger_defaults.set_defaults,
    validate=trigger_validation.validate,
    validate_update=trigger_validation.validate_update,
))
