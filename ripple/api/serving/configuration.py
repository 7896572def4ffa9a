"""Configuration (`serving.knative.dev/v1`, short names `config`, `cfg`): registers the kind.

Imported by `ripple.api.serving`. Concerns next door: `configuration_types`,
`configuration_defaults`, `configuration_validation`, `configuration_lifecycle`.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.serving import configuration_defaults, configuration_types, configuration_validation

KIND = registry.register(registry.Kind(
    group=configuration_types.GROUP,
    version=configuration_types.VERSION,
    kind=configuration_types.KIND,
    plural="configurations",
    singular="configuration",
    short_names=("config", "cfg"),
    set_defaults=configuration_defaults.set_defaults,
    validate=configuration_validation.validate,
    validate_update=configuration_validation.validate_update,
))
