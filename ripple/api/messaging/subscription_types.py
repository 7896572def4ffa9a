"""Subscription (`messaging.knative.dev/v1`): names, constants, wire shapes and readers.

Imported by the other `subscription_*` modules, by the Subscription reconciler and by the
channel dispatch. Upstream: `knative/eventing:pkg/apis/messaging/v1/subscription_types.go`
and the CRD `config/core/resources/subscription.yaml`.
"""

from __future__ import annotations

from typing import Any, TypedDict

from ripple.api import meta

GROUP = "messaging.knative.dev"
VERSION = "v1"
KIND = "Subscription"

SPEC_FIELDS = ("channel", "subscriber", "reply", "delivery")
CHANNEL_REF_FIELDS = ("apiVersion", "kind", "name", "namespace")


class SubscriptionSpec(TypedDict, total=False):
    channel: dict[str, str]  # a KReference to any channel-like kind; required, immutable
    subscriber: dict[str, Any]  # a Destination; required
    reply: dict[str, Any]  # a Destination for the subscriber's replies
    delivery: dict[str, Any]  # a DeliverySpec; wins over the channel's


class PhysicalSubscription(TypedDict, total=False):
    subscriberUri: str
    replyUri: str
    deadLetterSinkUri: str


class SubscriptionStatus(TypedDict, total=False):
    conditions: list[dict[str, Any]]
    observedGeneration: int
    physicalSubscription: PhysicalSubscription


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


def physical_subscription(subscription: dict[str, Any]) -> dict[str, Any]:
    """The URIs the reconciler resolved: what the channel's dispatch delivers to."""
    status = subscription.get("status")
    found = status.get("physicalSubscription") if isinstance(status, dict) else None
    return found if isinstance(found, dict) else {}
