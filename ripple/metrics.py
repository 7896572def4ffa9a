"""Prometheus metrics, named after OpenTelemetry's and Knative's semantic conventions, in seconds.

Defined once here; the ingress and the delivery engine record into them, and the local
platform serves them at `/metrics`. Label names follow Knative's OTel migration
(`kn_broker_name`, `kn_trigger_name`, `cloudevents_type`, `http_response_status_code`).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

INGRESS_LABELS = ("kn_namespace_name", "kn_broker_name", "cloudevents_type", "http_response_status_code")
DISPATCH_LABELS = (
    "kn_namespace_name",
    "kn_broker_name",
    "kn_trigger_name",
    "cloudevents_type",
    "http_response_status_code",
)

ingress_events = Counter(
    "kn_eventing_ingress_events",
    "CloudEvents received by a broker or channel ingress, by response code.",
    INGRESS_LABELS,
)
dispatch_events = Counter(
    "kn_eventing_dispatch_events",
    "Delivery attempts to subscribers and dead-letter sinks, by response code.",
    DISPATCH_LABELS,
)
dispatch_duration = Histogram(
    "kn_eventing_dispatch_duration_seconds",
    "Duration of one delivery attempt, from send to response.",
    DISPATCH_LABELS,
    buckets=LATENCY_BUCKETS,
)
dead_lettered_events = Counter(
    "kn_eventing_dead_lettered_events",
    "Events sent on to a dead-letter sink after their last failed attempt.",
    ("kn_namespace_name", "kn_broker_name", "kn_trigger_name"),
)
dropped_events = Counter(
    "kn_eventing_dropped_events",
    "Events given up on: attempts exhausted with no dead-letter sink, or the sink failed too.",
    ("kn_namespace_name", "kn_broker_name", "kn_trigger_name"),
)

source_events = Counter(
    "kn_eventing_source_events",
    "Events a source (PingSource tick, webhook delivery, Kafka record) published.",
    ("kn_namespace_name", "kn_source_kind", "kn_source_name"),
)


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
