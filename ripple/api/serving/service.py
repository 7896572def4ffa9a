"""Service (`serving.knative.dev/v1`, short names `ksvc`, `kservice`): registers the kind.

Imported by `ripple.api.serving`. Concerns next door: `service_types`, `service_defaults`,
`service_validation`, `service_lifecycle`. A Service owns a Configuration and a Route of
its name (`controllers.reconcilers.serving.service`).
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.serving import service_defaults, service_types, service_validation

KIND = registry.register(registry.Kind(
    group=service_types.GROUP,
    version=service_types.VERSION,
    kind=service_types.KIND,
    plural="services",
    singular="service",
    short_names=("ksvc", "kservice"),
    addressable=True,
    set_defaults=service_defaults.set_defaults,
    validate=service_validation.validate,
    validate_update=service_validation.validate_update,
))
