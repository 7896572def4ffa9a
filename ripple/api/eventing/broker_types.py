"""Broker (`eventing.knative.dev/v1`): its names, constants and wire shapes.

Imported by the other `broker_*` modules, by reconcilers and by the broker data plane.
Upstream: `knative/eventing:pkg/apis/eventing/v1/broker_types.go`, and the cluster
defaults in `config/core/configmaps/default-broker.yaml` (`config-br-defaults`).
"""

from __future__ import annotations

from typing import Any, TypedDict

GROUP = "eventing.knative.dev"
VERSION = "v1"
KIND = "Broker"

CLASS_ANNOTATION = "eventing.knative.dev/broker.class"
# Knative's cluster default class, which Ripple's broker implements. A Broker of another
# class (e.g. `Kafka`) is admitted, so its manifest still applies, but Ripple leaves it to
# the implementation of that class: not Ready, and not served by Ripple's data plane.
DEFAULT_CLASS = "MTChannelBasedBroker"
CLASSES = (DEFAULT_CLASS,)


def broker_class(broker: dict[str, Any]) -> str:
    """The Broker's class annotation (defaulting sets it; an old object may lack it)."""
    annotations = (broker.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(CLASS_ANNOTATION) if isinstance(annotations, dict) else None
    return value if isinstance(value, str) and value else DEFAULT_CLASS

# `config-br-defaults`' clusterDefault delivery, applied only when a Broker has no
# `spec.delivery` at all; a Broker that sets any delivery field gets none of these.
DEFAULT_DELIVERY: dict[str, Any] = {
    "retry": 10,
    "backoffPolicy": "exponential",
    "backoffDelay": "PT0.2S",
}

SPEC_FIELDS = ("config", "delivery")


class KReference(TypedDict, total=False):
    apiVersion: str
    kind: str
    name: str
    namespace: str


class Destination(TypedDict, total=False):
    ref: KReference
    uri: str


class DeliverySpec(TypedDict, total=False):
    deadLetterSink: Destination
    retry: int
    timeout: str
    backoffPolicy: str
    backoffDelay: str
    retryAfterMax: str
    format: str


class BrokerSpec(TypedDict, total=False):
    config: KReference  # class-specific configuration; immutable
    delivery: DeliverySpec  # the default for the Broker's Triggers


class Address(TypedDict, total=False):
    name: str
    url: str


class BrokerStatus(TypedDict, total=False):
    conditions: list[dict[str, Any]]
    observedGeneration: int
    address: Address  # the ingress URL: http://<ingress>/<namespace>/<name>
    deadLetterSinkUri: str
