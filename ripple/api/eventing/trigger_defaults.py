"""Trigger defaulting (Knative's `trigger_defaults.go`), run by `loading.admit`.

Sets the namespace, `spec.filter` to the empty (pass-everything) filter when absent, the
namespace of the subscriber's and dead-letter sink's refs, and the label
`eventing.knative.dev/broker` to `spec.broker`, so Triggers can be listed by Broker.
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck, meta
from ripple.api.eventing import trigger_types


def set_defaults(trigger: dict[str, Any]) -> None:
    meta.set_defaults(trigger)
    namespace, _ = meta.key(trigger)
    spec = trigger.get("spec")
    if not isinstance(spec, dict):
        return
    if spec.get("filter") is None:
        spec["filter"] = {}
    duck.default_destination(spec.get("subscriber"), namespace)
    duck.default_delivery(spec.get("delivery"), namespace)
    broker = spec.get("broker")
    if isinstance(broker, str) and broker:
        meta.set_label(trigger, trigger_types.BROKER_LABEL, broker)
