"""Sequence defaulting (Knative's `sequence_defaults.go`), run by `loading.admit`.

Sets the namespace, `spec.channelTemplate` (InMemoryChannel, the cluster default) when
absent, and the namespace of the refs of every step, of every step's dead-letter sink,
and of `spec.reply`.
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck, meta
from ripple.api.messaging import channel_defaults


def set_defaults(sequence: dict[str, Any]) -> None:
    meta.set_defaults(sequence)
    namespace, _ = meta.key(sequence)
    spec = sequence.get("spec")
    if not isinstance(spec, dict):
        return
    channel_defaults.default_channel_template(spec)
    steps = spec.get("steps")
    for step in steps if isinstance(steps, list) else []:
        duck.default_destination(step, namespace)
        if isinstance(step, dict):
            duck.default_delivery(step.get("delivery"), namespace)
    duck.default_destination(spec.get("reply"), namespace)
