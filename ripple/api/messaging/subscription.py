"""Subscription (`messaging.knative.dev/v1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.messaging`, so importing `ripple.api` serves Subscriptions (short
name `sub`, as Knative's CRD). The concerns live next door: `subscription_types`,
`subscription_defaults`, `subscription_validation` and `subscription_lifecycle`.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.messaging import (
    subscription_defaults,
    subscription_types,
    subscription_validation,
)

KIND = registry.register(registry.Kind(
    group=subscription_types.GROUP,
    version=subscription_types.VERSION,
    kind=subscription_types.KIND,
    plural="subscriptions",
    singular="subscription",
    short_names=("sub",),
    set_defaults=subscription_defaults.set_defaults,
    validate=subscription_validation.validate,
    validate_update=subscription_validation.validate_update,
))
