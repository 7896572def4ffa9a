"""KafkaSource (`sources.knative.dev/v1beta1`): its names and constants.

Imported by the other `kafka_source_*` modules, by the sources reconciler and the sources
plane (`sources.plane`, which builds one consumer per source from `consumer_group`,
`bootstrap_servers` and `key_type`). Upstream: `knative-extensions/eventing-kafka-broker`
`control-plane/pkg/apis/sources/v1beta1/{kafka_types,order}.go`, the auth shapes of
`control-plane/pkg/apis/bindings/v1beta1/kafka_types.go`, and the CRD
`control-plane/config/eventing-kafka-broker/100-source/100-kafka-source.yaml`.

`net.sasl` and `net.tls` are admitted and their shape validated, but Ripple's consumer
does not use them yet: it connects in plaintext without authentication, and a source
that needs them fails to connect (`ConnectionEstablished`, see `kafka_source_lifecycle`).
"""

from __future__ import annotations

from typing import Any

from ripple.api import meta
from ripple.api.sources import source_spec

GROUP = "sources.knative.dev"
VERSION = "v1"
ALSO_SERVED = ("v1beta1",)  # the version the KafkaSource CRD served before v1; same schema
KIND = "KafkaSource"

# A record that is not already a CloudEvent becomes one of this type (the dispatcher's
# InvalidCloudEventInterceptor).
EVENT_TYPE = "dev.knative.kafka.event"

ORDERED = "ordered"  # per partition, one record at a time, in offset order
UNORDERED = "unordered"  # concurrent delivery; offsets still committed in order
ORDERINGS = (ORDERED, UNORDERED)
DEFAULT_ORDERING = ORDERED

EARLIEST = "earliest"
LATEST = "latest"
INITIAL_OFFSETS = (EARLIEST, LATEST)
DEFAULT_INITIAL_OFFSET = LATEST

DEFAULT_CONSUMERS = 1
CONSUMER_GROUP_PREFIX = "knative-kafka-source-"

# How the record key becomes the `key` and `partitionkey` extensions.
KEY_TYPE_LABEL = "kafkasources.sources.knative.dev/key-type"
KEY_TYPES = ("string", "int", "float", "byte-array")
DEFAULT_KEY_TYPE = "string"

# `bootstrapServers`: "host:port" items, each of which may list several, comma-separated;
# `consumerGroup`: immutable, defaulted to default_consumer_group(namespace, name);
# `initialOffset`: earliest | latest (default); `consumers`: Knative's consumer replicas,
# default 1; `delivery`: a DeliverySpec; `ordering`: ordered (default) | unordered. In
# `net`, `sasl.user`/`password`/`type` (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512) and
# `tls.cert`/`key`/`caCert` are SecretValueFromSources as GitHubSource's. Status: the
# conditions, `sinkUri`, `ceAttributes` (one per topic), Ripple's `deadLetterSinkUri`
# (`spec.delivery.deadLetterSink`, resolved), Knative's `consumers` (those running),
# `selector` and `claims`.
SPEC_FIELDS = (
    "bootstrapServers", "topics", "consumerGroup", "initialOffset", "consumers", "delivery",
    "ordering", "net", *source_spec.SPEC_FIELDS,
)
NET_FIELDS = ("sasl", "tls")
SASL_FIELDS = ("enable", "user", "password", "type")
TLS_FIELDS = ("enable", "cert", "key", "caCert")

def event_source(namespace: str, name: str, topic: str) -> str:
    """Knative's KafkaEventSource: `/apis/v1/namespaces/<ns>/kafkasources/<name>#<topic>`."""
    return f"/apis/v1/namespaces/{namespace}/kafkasources/{name}#{topic}"


def default_consumer_group(namespace: str, name: str) -> str:
    """`knative-kafka-source-<namespace>-<name>`: see `kafka_source_defaults` for why."""
    return f"{CONSUMER_GROUP_PREFIX}{namespace}-{name}"


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def consumer_group(obj: dict[str, Any]) -> str:
    """The Kafka consumer group id: `spec.consumerGroup`, else the default."""
    found = _spec(obj).get("consumerGroup")
    if isinstance(found, str) and found:
        return found
    return default_consumer_group(*meta.key(obj))


def bootstrap_servers(obj: dict[str, Any]) -> list[str]:
    """Every `host:port` of `spec.bootstrapServers`, comma-separated items split, as
    Knative joins the list with commas into Kafka's `bootstrap.servers`."""
    found = _spec(obj).get("bootstrapServers")
    items = found if isinstance(found, list) else []
    return [part.strip() for item in items if isinstance(item, str)
            for part in item.split(",") if part.strip()]


def key_type(obj: dict[str, Any]) -> str:
    """The `kafkasources.sources.knative.dev/key-type` label: string (default), int,
    float or byte-array."""
    found = meta.labels_of(obj).get(KEY_TYPE_LABEL)
    return found if found in KEY_TYPES else DEFAULT_KEY_TYPE
