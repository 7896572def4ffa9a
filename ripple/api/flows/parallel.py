"""Parallel (`flows.knative.dev/v1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.flows`, so importing `ripple.api` serves Parallels. The concerns
live next door: `parallel_types`, `parallel_defaults`, `parallel_validation` and
`parallel_lifecycle`. Knative's CRD gives Parallel no short name, and neither does Ripple.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.flows import parallel_defaults, parallel_types, parallel_validation

KIND = registry.register(registry.Kind(
    group=parallel_types.GROUP,
    version=parallel_types.VERSION,
    kind=parallel_types.KIND,
    plural="parallels",
    singular="parallel",
    addressable=True,
    set_defaults=parallel_defaults.set_defaults,
    validate=parallel_validation.validate,
))
