"""The `messaging.knative.dev` API group: Channel, InMemoryChannel and Subscription.

Imported by `ripple.api`; importing the kind modules registers the kinds. Each kind is a
family of modules named as in Knative's `pkg/apis/messaging/v1`: `<kind>` (registration),
`<kind>_types`, `<kind>_defaults`, `<kind>_validation` and `<kind>_lifecycle`. Shared
parts: `channelable` (the Channelable duck both channels implement: `spec.subscribers`,
`spec.delivery`, `status.subscribers`) and `delivery_order` (Ripple's
`ripple.dev/delivery-order` annotation, also accepted on Triggers).
"""

from __future__ import annotations

from ripple.api.messaging import (
    channel,
    channel_lifecycle,
    channel_types,
    channelable,
    delivery_order,
    in_memory_channel,
    in_memory_channel_lifecycle,
    in_memory_channel_types,
    subscription,
    subscription_lifecycle,
    subscription_types,
)

__all__ = [
    "channel",
    "channel_lifecycle",
    "channel_types",
    "channelable",
    "delivery_order",
    "in_memory_channel",
    "in_memory_channel_lifecycle",
    "in_memory_channel_types",
    "subscription",
    "subscription_lifecycle",
    "subscription_types",
]
