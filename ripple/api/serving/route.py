"""Route (`serving.knative.dev/v1`, short name `rt`): registers the kind.

Imported by `ripple.api.serving`. Concerns next door: `route_types`, `route_defaults`,
`route_validation`, `route_lifecycle`; the URLs are `urls`.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.serving import route_defaults, route_types, route_validation

KIND = registry.register(registry.Kind(
    group=route_types.GROUP,
    version=route_types.VERSION,
    kind=route_types.KIND,
    plural="routes",
    singular="route",
    short_names=("rt",),
    addressable=True,
    set_defaults=route_defaults.set_defaults,
    validate=route_validation.validate,
))
