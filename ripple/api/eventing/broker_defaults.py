"""Broker defaulting (Knative's `broker_defaults.go`), run by `loading.admit` before validation.

Sets the namespace, the class annotation when it is absent, the cluster-default delivery
when `spec.delivery` is absent, and the namespace of every reference that lacks one.

Ripple does not default `spec.config` to Knative's `config-br-default-channel` ConfigMap:
Ripple has no channel-based broker configuration, and since `spec.config` is immutable, a
defaulted value would only pin a meaningless reference on every Broker.
"""

from __future__ import annotations

import copy
from typing import Any

from ripple.api import duck, meta
from ripple.api.eventing import broker_types


def set_defaults(broker: dict[str, Any]) -> None:
    meta.set_defaults(broker)
    meta.set_annotation_if_unset(broker, broker_types.CLASS_ANNOTATION, broker_types.DEFAULT_CLASS)
    namespace, _ = meta.key(broker)
    if broker.get("spec") is None:
        # `spec:` followed only by comments, as in Knative's docs, is YAML null.
        broker["spec"] = {}
    spec = broker["spec"]
    if not isinstance(spec, dict):
        return
    if spec.get("delivery") is None:
        spec["delivery"] = copy.deepcopy(broker_types.DEFAULT_DELIVERY)
    duck.default_kreference(spec.get("config"), namespace)
    duck.default_delivery(spec.get("delivery"), namespace)
