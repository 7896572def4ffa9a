"""Sequence (`flows.knative.dev/v1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.flows`, so importing `ripple.api` serves Sequences. The concerns
live next door: `sequence_types`, `sequence_defaults`, `sequence_validation` and
`sequence_lifecycle`. Knative's CRD gives Sequence no short name, and neither does Ripple.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.flows import sequence_defaults, sequence_types, sequence_validation

KIND = registry.register(registry.Kind(
    group=sequence_types.GROUP,
    version=sequence_types.VERSION,
    kind=sequence_types.KIND,
    plural="sequences",
    singular="sequence",
    addressable=True,
    set_defaults=sequence_defaults.set_defaults,
    validate=sequence_validation.validate,
))
