"""Broker (`eventing.knative.dev/v1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.eventing`, so importing `ripple.api` serves Brokers. The concerns
live next door, one module each, as in Knative's `pkg/apis/eventing/v1`: `broker_types`
(names and shapes), `broker_defaults`, `broker_validation` and `broker_lifecycle`
(conditions and the `mark_*` functions reconcilers call).
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.eventing import broker_defaults, broker_types, broker_validation

KIND = registry.register(registry.Kind(
    group=broker_types.GROUP,
    version=broker_types.VERSION,
    kind=broker_types.KIND,
    plural="brokers",
    singular="broker",
    addressable=True,
    set_defaults=broker_defaults.set_defaults,
    validate=broker_validation.validate,
    validate_update=broker_validation.validate_update,
))
