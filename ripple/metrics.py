"""Prometheus metrics, named after OpenTelemetry's and Knative's semantic conventions, in seconds.

Defined once here; the ingress and the delivery engine record into them, and the local
platform serves them at `/metrics`. Label names follow Knative's OTel migration
(`kn_broker_name`, `kn_trigger_name`, `cloudevents_type`, `http_response_status_code`).

The delivery metrics name what they deliver for with Knative's attributes of that kind
(knative.dev/eventing `pkg/observability/attributes.go`): a Trigger by `kn_broker_name` and
`kn_trigger_name`; a channel's Subscription by `kn_channel_name` and
`kn_subscription_name`; a source by `kn_source_name` and `kn_source_resourcegroup`
(`pingsources.sources.knative.dev`). One family carries every kind, so each series sets
only its kind's labels and leaves the others empty, which Prometheus treats as absent.
Build a target's labels with `trigger_labels`, `subscription_labels` or `source_labels`.

The hot paths record through `LabelCache`s (`ingress_children`, `dispatch_children`), not
`labels()`: prometheus_client's `labels()` validates and joins the values under a lock on
every call (about 2.6 µs, measured), a dict lookup is 0.1 µs. The caches also bound the one
label a producer controls, `cloudevents_type`: past `TYPE_LIMIT` distinct types in one
process, further types are recorded as `OTHER_TYPE`. Without that, a producer that invents
a type per event would grow the registry (and the process) without limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

T = TypeVar("T")

TYPE_LIMIT = 500
"""Distinct `cloudevents_type` values one process records per metric family."""
OTHER_TYPE = "other"
"""The `cloudevents_type` recorded for any type past `TYPE_LIMIT`."""
CACHE_LIMIT = 10_000
"""Children a `LabelCache` remembers before it starts over (the other labels are bounded by
the resources that exist, but a cache should not trust that)."""

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

INGRESS_LABELS = ("kn_namespace_name", "kn_broker_name", "kn_channel_name", "cloudevents_type",
                  "http_response_status_code")
"""A broker's ingress sets `kn_broker_name`, a channel's `kn_channel_name`."""
TARGET_LABELS = (
    "kn_namespace_name",
    "kn_broker_name",
    "kn_trigger_name",
    "kn_channel_name",
    "kn_subscription_name",
    "kn_source_name",
    "kn_source_resourcegroup",
)
"""What a delivery is for; see the module docstring."""
DISPATCH_LABELS = (*TARGET_LABELS, "cloudevents_type", "http_response_status_code")


def trigger_labels(namespace: str, broker: str, trigger: str) -> dict[str, str]:
    return {"kn_namespace_name": namespace, "kn_broker_name": broker, "kn_trigger_name": trigger}


def subscription_labels(namespace: str, channel: str, subscription: str) -> dict[str, str]:
    return {"kn_namespace_name": namespace, "kn_channel_name": channel,
            "kn_subscription_name": subscription}


def source_labels(namespace: str, kind: str, name: str) -> dict[str, str]:
    """A source's, named as Knative's adapters name it (`kn.source.*`); `kind` is its
    Knative kind, e.g. PingSource."""
    return {"kn_namespace_name": namespace, "kn_source_name": name,
            "kn_source_resourcegroup": f"{kind.lower()}s.sources.knative.dev"}


def target_values(labels: Mapping[str, str]) -> tuple[str, ...]:
    """`labels` as the values of `TARGET_LABELS`, in order; a label not given is empty."""
    return tuple(labels.get(name, "") for name in TARGET_LABELS)


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
    TARGET_LABELS,
)
dropped_events = Counter(
    "kn_eventing_dropped_events",
    "Events given up on: attempts exhausted with no dead-letter sink, or the sink failed too "
    "(each kept in Ripple's dead-letter store).",
    TARGET_LABELS,
)

source_events = Counter(
    "kn_eventing_source_events",
    "Events a source (PingSource tick, webhook delivery, Kafka record) published.",
    ("kn_namespace_name", "kn_source_kind", "kn_source_name"),
)


class LabelCache(Generic[T]):
    """`make(values)`, remembered per tuple of label values, with `cloudevents_type` (at
    `type_index`) capped at `type_limit` distinct values; see the module docstring."""

    def __init__(self, make: Callable[[tuple[str, ...]], T], *, type_index: int,
                 type_limit: int = TYPE_LIMIT, cache_limit: int = CACHE_LIMIT) -> None:
        self._make, self._type_index = make, type_index
        self._type_limit, self._cache_limit = type_limit, cache_limit
        self._children: dict[tuple[str, ...], T] = {}
        self._types: set[str] = set()

    def child(self, *values: str) -> T:
        found = self._children.get(values)
        return found if found is not None else self._add(values)

    def _add(self, values: tuple[str, ...]) -> T:
        kind = values[self._type_index]
        if kind not in self._types and kind != OTHER_TYPE:
            if len(self._types) >= self._type_limit:
                i = self._type_index
                # Not remembered under the original values: each new type would be a new key.
                return self.child(*values[:i], OTHER_TYPE, *values[i + 1:])
            self._types.add(kind)
        if len(self._children) >= self._cache_limit:
            self._children.clear()
        made = self._children[values] = self._make(values)
        return made


def _ingress_child(values: tuple[str, ...]) -> Counter:
    return ingress_events.labels(*values)


def _dispatch_children(values: tuple[str, ...]) -> tuple[Counter, Histogram]:
    return dispatch_events.labels(*values), dispatch_duration.labels(*values)


ingress_children = LabelCache(_ingress_child, type_index=INGRESS_LABELS.index("cloudevents_type"))
"""`ingress_events` by (namespace, broker, channel, type, status)."""
dispatch_children = LabelCache(_dispatch_children,
                               type_index=DISPATCH_LABELS.index("cloudevents_type"))
"""(`dispatch_events`, `dispatch_duration`) by (*`target_values`, type, status)."""


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
