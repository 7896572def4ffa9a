"""The `ripple.dev/delivery-order` annotation: Ripple's extension on Subscriptions and Triggers.

Called by `subscription_validation` and `eventing.trigger_validation` (admission), and by
the delivery engine (`channels/`, through `of`) to pick how a delivery queue is drained:
- `unordered` (the default): several events are in flight to the subscriber at once, and
  a retried event does not hold back the ones behind it;
- `ordered`: one event at a time, in log order; the next waits until the previous one was
  acknowledged (answered 2xx, or dead-lettered after its retries).

The values are those of Knative's Kafka delivery annotation
(`kafka.eventing.knative.dev/delivery.order`), so users meet words they know; Ripple's own
key keeps it in the `ripple.dev/` extension space DESIGN.md reserves.
"""

from __future__ import annotations

from typing import Any

from ripple.api import fields, meta
from ripple.errors import FieldError

ANNOTATION = "ripple.dev/delivery-order"
ORDERED = "ordered"
UNORDERED = "unordered"
VALUES = (ORDERED, UNORDERED)
DEFAULT = UNORDERED

PATH = fields.key("metadata.annotations", ANNOTATION)


def validate(obj: dict[str, Any]) -> fields.Errors:
    """Refuse any value but `ordered` and `unordered` (case-sensitive, as Kubernetes enums)."""
    value = meta.annotations_of(obj).get(ANNOTATION)
    if not isinstance(value, str) or value in VALUES:
        return []  # absent, or not a string, which `meta.validate` reports
    return [FieldError(PATH, f'invalid value "{value}": must be one of {", ".join(VALUES)}')]


def of(obj: dict[str, Any]) -> str:
    """The delivery order an admitted Subscription or Trigger asks for."""
    value = meta.annotations_of(obj).get(ANNOTATION)
    return value if value in VALUES else DEFAULT
