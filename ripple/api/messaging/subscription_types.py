"""Subscription (`messaging.knative.dev/v1`): names, constants, its status shape and readers.

Imported by the other `subscription_*` modules, by the Subscription reconciler and by the
channel dispatch. Upstream: `knative/eventing:pkg/apis/messaging/v1/subscription_types.go`
and the CRD `config/core/resources/subscription.yaml`.
"""

from __future__ import annotations

from typing import Any, TypedDict, cast

from ripple.api import meta

GROUP = "messaging.knative.dev"
VERSION = "v1"
KIND = "Subscription"

# `channel`: a KReference to any channel-like kind, required and immutable; `subscriber`: a
# Destination, required; `reply`: a Destination for the subscriber's replies; `delivery`: a
# DeliverySpec that wins over the channel's.
SPEC_FIELDS = ("channel", "subscriber", "reply", "delivery")
CHANNEL_REF_FIELDS = ("apiVersion", "kind", "name", "namespace")


class PhysicalSubscription(TypedDict, total=False):
    """`status.physicalSubscription`: the Subscription's destinations, resolved."""

    subscriberUri: str
    replyUri: str
    deadLetterSinkUri: str


def channel_ref(subscription: dict[str, Any]) -> dict[str, Any] | None:
    """`spec.channel` with its namespace filled in (the Subscription's); None if absent.

    Admission keeps `spec.channel` as written (Knative refuses a namespace there unless
    cross-namespace links are on), so readers get the namespace from here.
    """
    spec = subscription.get("spec")
    ref = spec.get("channel") if isinstance(spec, dict) else None
    if not isinstance(ref, dict) or not ref:
        return None
    namespace, _ = meta.key(subscription)
    found = {k: ref[k] for k in CHANNEL_REF_FIELDS if k in ref}
    return {**found, "namespace": found.get("namespace") or namespace}


def physical_subscription(subscription: dict[str, Any]) -> PhysicalSubscription:
    """The URIs the reconciler resolved: what the channel's dispatch delivers to."""
    status = subscription.get("status")
    found = status.get("physicalSubscription") if isinstance(status, dict) else None
    # Strings: the reconciler writes them, and `statuses` refuses other types on /status.
    return cast(PhysicalSubscription, found) if isinstance(found, dict) else {}
