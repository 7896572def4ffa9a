"""Channel defaulting (Knative's `channel_defaults.go`), run by `loading.admit`.

Sets the namespace, the `messaging.knative.dev/subscribable: v1` annotation, the
`spec.channelTemplate` (InMemoryChannel, the cluster default) when absent, and the
namespace of every dead-letter sink ref. `default_channel_template` is shared with
Sequence and Parallel, which default their template the same way.
"""

from __future__ import annotations

import copy
from typing import Any

from ripple.api import meta
from ripple.api.messaging import channel_types, channelable


def set_defaults(channel: dict[str, Any]) -> None:
    meta.set_defaults(channel)
    meta.set_annotation_if_unset(
        channel, channel_types.SUBSCRIBABLE_ANNOTATION, channel_types.SUBSCRIBABLE_VERSION
    )
    namespace, _ = meta.key(channel)
    if channel.get("spec") is None:
        channel["spec"] = {}
    spec = channel["spec"]
    if not isinstance(spec, dict):
        return
    default_channel_template(spec)
    channelable.set_defaults(spec, namespace)


def default_channel_template(spec: dict[str, Any]) -> None:
    """Give a spec without `channelTemplate` (or with a null one) the cluster default."""
    if spec.get("channelTemplate") is None:
        spec["channelTemplate"] = copy.deepcopy(channel_types.DEFAULT_CHANNEL_TEMPLATE)
