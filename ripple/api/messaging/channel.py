"""Channel (`messaging.knative.dev/v1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.messaging`, so importing `ripple.api` serves Channels (short name
`ch`, as Knative's CRD). The concerns live next door, one module each: `channel_types`,
`channel_defaults`, `channel_validation` and `channel_lifecycle`; the parts shared with
InMemoryChannel are in `channelable`.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.messaging import channel_defaults, channel_types, channel_validation

KIND = registry.register(registry.Kind(
    group=channel_types.GROUP,
    version=channel_types.VERSION,
    kind=channel_types.KIND,
    plural="channels",
    singular="channel",
    short_names=("ch",),
    addressable=True,
    set_defaults=channel_defaults.set_defaults,
    validate=channel_validation.validate,
    validate_update=channel_validation.validate_update,
))
