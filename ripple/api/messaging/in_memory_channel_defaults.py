"""InMemoryChannel defaulting (Knative's `in_memory_channel_defaults.go`), run by `loading.admit`.

Sets the namespace, the `messaging.knative.dev/subscribable: v1` annotation, an empty
spec when there is none, and the namespace of every dead-letter sink ref.
"""

from __future__ import annotations

from typing import Any

from ripple.api import meta
from ripple.api.messaging import channel_types, channelable


def set_defaults(imc: dict[str, Any]) -> None:
    meta.set_defaults(imc)
    meta.set_annotation_if_unset(
        imc, channel_types.SUBSCRIBABLE_ANNOTATION, channel_types.SUBSCRIBABLE_VERSION
    )
    namespace, _ = meta.key(imc)
    if imc.get("spec") is None:
        imc["spec"] = {}
    channelable.set_defaults(imc["spec"], namespace)
