"""Broker (`eventing.knative.dev/v1`): its names and constants.

Imported by the other `broker_*` modules, by reconcilers and by the broker data plane.
Upstream: `knative/eventing:pkg/apis/eventing/v1/broker_types.go`, and the cluster
defaults in `config/core/configmaps/default-broker.yaml` (`config-br-defaults`).
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck

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
DEFAULT_DELIVERY: duck.DeliverySpec = {
    "retry": 10,
    "backoffPolicy": "exponential",
    "backoffDelay": "PT0.2S",
}

# `config`: a KReference to class-specific configuration, immutable; `delivery`: a
# DeliverySpec, the default of the Broker's Triggers. Status: the conditions,
# `address.url` (http://<ingress>/<namespace>/<name>) and `deadLetterSinkUri`.
SPEC_FIELDS = ("config", "delivery")

