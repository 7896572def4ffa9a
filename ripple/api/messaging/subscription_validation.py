"""Subscription validation (Knative's `subscription_validation.go`), run by `loading.admit`.

`validate` checks a whole Subscription: the metadata, the `ripple.dev/delivery-order`
annotation, `spec.channel` (a required KReference with apiVersion, kind and name, of any
channel-like kind), `spec.subscriber` (a required Destination), `spec.reply` and
`spec.delivery`. `validate_update` refuses a change of `spec.channel`, the one immutable
field (`subscriber`, `reply` and `delivery` may change, as upstream).

As Knative does, an empty `{}` channel or subscriber counts as missing, and an empty
reply as absent. Knative refuses any `spec.channel.namespace` while its cross-namespace
flag is off; Ripple also admits the Subscription's own namespace, which changes nothing.
"""

from __future__ import annotations

from typing import Any

from ripple.api import dead_letter_bounds, duck, fields, meta
from ripple.api.messaging import delivery_order, subscription_types
from ripple.errors import FieldError


def validate(subscription: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(subscription)
    errs.extend(delivery_order.validate(subscription))
    errs.extend(dead_letter_bounds.validate(subscription))
    if subscription.get("spec") is None:
        errs.append(FieldError(
            "spec", f"{fields.MISSING}: a Subscription needs a channel and a subscriber"
        ))
        return errs
    spec = fields.mapping(subscription["spec"], "spec", errs)
    if spec is None:
        return errs
    fields.known_fields(spec, subscription_types.SPEC_FIELDS, "spec", errs)
    if _empty(spec.get("channel")):
        errs.append(FieldError("spec.channel", (
            f"{fields.MISSING}: the Subscription must reference a channel "
            "(apiVersion, kind and name)"
        )))
    else:
        errs.extend(duck.validate_kreference(spec["channel"], "spec.channel"))
        errs.extend(_validate_channel_namespace(spec["channel"], subscription))
    if _empty(spec.get("subscriber")):
        errs.append(FieldError("spec.subscriber", (
            f"{fields.MISSING}: the Subscription must reference a subscriber, a Destination "
            "with a ref (apiVersion, kind, name) and/or a uri"
        )))
    else:
        errs.extend(duck.validate_destination(spec["subscriber"], "spec.subscriber"))
    if not _empty(spec.get("reply")):
        errs.extend(duck.validate_destination(spec["reply"], "spec.reply"))
    if fields.present(spec, "delivery"):
        errs.extend(duck.validate_delivery(spec["delivery"], "spec.delivery"))
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    before = subscription_types.channel_ref(old)
    after = subscription_types.channel_ref(new)
    if before != after:
        return [FieldError("spec.channel", (
            f"field is immutable: was {before}, now {after}; delete and recreate the "
            "Subscription to subscribe to another channel"
        ))]
    return []


def _empty(value: object) -> bool:
    return value is None or value == {}


def _validate_channel_namespace(ref: object, subscription: dict[str, Any]) -> fields.Errors:
    if not isinstance(ref, dict):
        return []
    other = ref.get("namespace")
    namespace, _ = meta.key(subscription)
    if not isinstance(other, str) or other in ("", namespace):
        return []
    return [FieldError("spec.channel.namespace", (
        f'invalid value "{other}": must be empty or the Subscription\'s namespace '
        f'"{namespace}"; a Subscription subscribes to a channel of its own namespace'
    ))]
