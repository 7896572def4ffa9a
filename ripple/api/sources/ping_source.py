"""PingSource (`sources.knative.dev/v1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.sources`, so importing `ripple.api` serves PingSources. The
concerns live next door, as in Knative's `pkg/apis/sources/v1`: `ping_source_types`,
`_defaults`, `_validation` and `_lifecycle`; the cron math is `ripple.cron`. Knative's CRD
gives no short names (its categories are all, knative and sources).
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.sources import (
    ping_source_defaults,
    ping_source_types,
    ping_source_validation,
)

KIND = registry.register(registry.Kind(
    group=ping_source_types.GROUP,
    version=ping_source_types.VERSION,
    kind=ping_source_types.KIND,
    plural="pingsources",
    singular="pingsource",
    set_defaults=ping_source_defaults.set_defaults,
    validate=ping_source_validation.validate,
))
