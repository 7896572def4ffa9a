"""Subscription defaulting (Knative's `subscription_defaults.go`), run by `loading.admit`.

Sets the namespace, and the namespace of the refs of `spec.subscriber`, `spec.reply` and
the dead-letter sink. `spec.channel` is left as written: Knative refuses a namespace there
(a Subscription subscribes to a channel of its own namespace), so
`subscription_types.channel_ref` fills it in for readers instead.
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck, meta


def set_defaults(subscription: dict[str, Any]) -> None:
    meta.set_defaults(subscription)
    namespace, _ = meta.key(subscription)
    spec = subscription.get("spec")
    if not isinstance(spec, dict):
        return
    duck.default_destination(spec.get("subscriber"), namespace)
    duck.default_destination(spec.get("reply"), namespace)
    duck.default_delivery(spec.get("delivery"), namespace)
