"""InMemoryChannel (`messaging.knative.dev/v1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.messaging`, so importing `ripple.api` serves InMemoryChannels
(short name `imc`, as Knative's CRD: `ripple get imc`). The concerns live next door:
`in_memory_channel_types`, `_defaults`, `_validation` and `_lifecycle`; the parts shared
with Channel are in `channelable`.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.messaging import (
    in_memory_channel_defaults,
    in_memory_channel_types,
    in_memory_channel_validation,
)

KIND = registry.register(registry.Kind(
    group=in_memory_channel_types.GROUP,
    version=in_memory_channel_types.VERSION,
    kind=in_memory_channel_types.KIND,
    plural="inmemorychannels",
    singular="inmemorychannel",
    short_names=("imc",),
    addressable=True,
    set_defaults=in_memory_channel_defaults.set_defaults,
    validate=in_memory_channel_validation.validate,
))
