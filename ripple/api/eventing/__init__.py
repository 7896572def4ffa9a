"""The `eventing.knative.dev` API group: Broker and Trigger.

Imported by `ripple.api`; importing the kind modules registers the kinds. Each kind is a
family of modules named as in Knative's `pkg/apis/eventing/v1`: `<kind>` (registration),
`<kind>_types`, `<kind>_defaults`, `<kind>_validation` and `<kind>_lifecycle`.
"""

from __future__ import annotations

from ripple.api.eventing import (
    broker,
    broker_lifecycle,
    broker_types,
    trigger,
    trigger_lifecycle,
    trigger_types,
)

__all__ = [
    "broker",
    "broker_lifecycle",
    "broker_types",
    "trigger",
    "trigger_lifecycle",
    "trigger_types",
]
