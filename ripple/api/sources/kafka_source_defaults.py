"""KafkaSource defaulting (eventing-kafka-broker's `sources/v1beta1/kafka_defaults.go`),
run by `loading.admit` before validation.

Sets the namespace, an empty spec when there is none, and, as upstream, each unset field:
`consumerGroup`, `consumers: 1`, `initialOffset: latest`, `ordering: ordered`, and the
namespace of the sink ref and of the dead-letter sink ref.

`consumerGroup`: Knative defaults it to `knative-kafka-source-<uuid>`, a fresh random id.
Ripple defaults it to `knative-kafka-source-<namespace>-<name>` instead, because
- Ripple's defaulting runs at admission, before the store gives the object a uid, and
  must be a pure function of what it is given;
- `ripple apply` replaces the whole object, so a manifest without a consumerGroup is
  defaulted again on every apply; a random default would differ each time and trip the
  field's immutability (`kafka_source_validation.validate_update`), where the
  deterministic one is the same each time.
The price: deleting a KafkaSource and creating one of the same name reuses the consumer
group and so resumes at its committed offsets, where Knative's would start afresh at
`initialOffset`. Give a `consumerGroup` to choose otherwise.

Knative's KEDA autoscaling annotations (`config-kafka-source-defaults`) are not set:
Ripple does not autoscale consumers.
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck, meta
from ripple.api.sources import kafka_source_types, source_spec


def set_defaults(source: dict[str, Any]) -> None:
    meta.set_defaults(source)
    namespace, name = meta.key(source)
    if source.get("spec") is None:
        source["spec"] = {}
    spec = source["spec"]
    if not isinstance(spec, dict):
        return
    if spec.get("consumerGroup") in (None, ""):
        spec["consumerGroup"] = kafka_source_types.default_consumer_group(namespace, name)
    if spec.get("consumers") is None:
        spec["consumers"] = kafka_source_types.DEFAULT_CONSUMERS
    if spec.get("initialOffset") in (None, ""):
        spec["initialOffset"] = kafka_source_types.DEFAULT_INITIAL_OFFSET
    if spec.get("ordering") is None:
        spec["ordering"] = kafka_source_types.DEFAULT_ORDERING
    source_spec.set_defaults(spec, namespace)
    duck.default_delivery(spec.get("delivery"), namespace)
