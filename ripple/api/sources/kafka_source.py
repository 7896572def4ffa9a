"""KafkaSource (`sources.knative.dev/v1beta1`): registers the kind with `ripple.api.registry`.

Imported by `ripple.api.sources`, so importing `ripple.api` serves KafkaSources. The
concerns live next door, as in eventing-kafka-broker's
`control-plane/pkg/apis/sources/v1beta1`: `kafka_source_types`, `_defaults`,
`_validation` (with `consumerGroup`'s immutability) and `_lifecycle`.
"""

from __future__ import annotations

from ripple.api import registry
from ripple.api.sources import (
    kafka_source_defaults,
    kafka_source_types,
    kafka_source_validation,
)

KIND = registry.register(registry.Kind(
    group=kafka_source_types.GROUP,
    version=kafka_source_types.VERSION,
    also_served=kafka_source_types.ALSO_SERVED,
    kind=kafka_source_types.KIND,
    plural="kafkasources",
    singular="kafkasource",
    set_defaults=kafka_source_defaults.set_defaults,
    validate=kafka_source_validation.validate,
    validate_update=kafka_source_validation.validate_update,
))
