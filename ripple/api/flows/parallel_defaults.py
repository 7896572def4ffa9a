"""Parallel defaulting (Knative's `parallel_defaults.go`), run by `loading.admit`.

Sets the namespace, `spec.channelTemplate` (InMemoryChannel, the cluster default) when
absent, and the namespace of the refs of every branch's filter, subscriber, reply and
dead-letter sink, and of `spec.reply`.
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck, meta
from ripple.api.messaging import channel_defaults


def set_defaults(parallel: dict[str, Any]) -> None:
    meta.set_defaults(parallel)
    namespace, _ = meta.key(parallel)
    spec = parallel.get("spec")
    if not isinstance(spec, dict):
        return
    channel_defaults.default_channel_template(spec)
    branches = spec.get("branches")
    for branch in branches if isinstance(branches, list) else []:
        if not isinstance(branch, dict):
            continue
        for name in ("filter", "subscriber", "reply"):
            duck.default_destination(branch.get(name), namespace)
        duck.default_delivery(branch.get("delivery"), namespace)
    duck.default_destination(spec.get("reply"), namespace)
