"""The label caches of the hot paths: the same child every time, and a bounded type label."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter

from ripple import metrics


def _recording() -> tuple[metrics.LabelCache[tuple[str, ...]], list[tuple[str, ...]]]:
    made: list[tuple[str, ...]] = []

    def make(values: tuple[str, ...]) -> tuple[str, ...]:
        made.append(values)
        return values

    return metrics.LabelCache(make, type_index=1, type_limit=2, cache_limit=100), made


def test_a_child_is_made_once_per_label_values() -> None:
    cache, made = _recording()
    assert cache.child("ns", "t1", "202") == ("ns", "t1", "202")
    assert cache.child("ns", "t1", "202") == ("ns", "t1", "202")
    assert cache.child("ns", "t1", "500") == ("ns", "t1", "500")
    assert made == [("ns", "t1", "202"), ("ns", "t1", "500")]


def test_types_past_the_limit_are_recorded_as_other() -> None:
    cache, made = _recording()
    cache.child("ns", "t1", "202")
    cache.child("ns", "t2", "202")
    assert cache.child("ns", "t3", "202") == ("ns", metrics.OTHER_TYPE, "202")
    assert cache.child("ns", "t4", "500") == ("ns", metrics.OTHER_TYPE, "500")
    assert cache.child("ns", "t3", "202") == ("ns", metrics.OTHER_TYPE, "202")
    # types admitted before the limit keep their own children
    assert cache.child("ns", "t2", "500") == ("ns", "t2", "500")
    assert [v[1] for v in made] == ["t1", "t2", "other", "other", "t2"]


def test_a_flood_of_types_makes_a_bounded_number_of_children() -> None:
    cache, made = _recording()
    for i in range(10_000):
        cache.child("ns", f"type-{i}", "202")
    assert len(made) == 3  # t-0, t-1, other


def test_the_cache_starts_over_at_its_limit() -> None:
    made: list[tuple[str, ...]] = []
    cache = metrics.LabelCache(lambda v: made.append(v) or v, type_index=0, cache_limit=2)
    for name in ("a", "b", "c", "a"):
        cache.child("t", name)
    assert made == [("t", "a"), ("t", "b"), ("t", "c"), ("t", "a")]


def test_children_are_the_metrics_own() -> None:
    counter = Counter("test_cached", "doc", ("kn_broker_name", "cloudevents_type"),
                      registry=CollectorRegistry())
    cache = metrics.LabelCache(lambda v: counter.labels(*v), type_index=1)
    cache.child("b", "t").inc()
    cache.child("b", "t").inc(2)
    assert counter.labels("b", "t")._value.get() == 3


def test_the_hot_path_caches_cover_every_label() -> None:
    values = metrics.target_values(metrics.trigger_labels("ns", "b", "t"))
    count, duration = metrics.dispatch_children.child(*values, "test.type", "200")
    assert count is metrics.dispatch_events.labels(*values, "test.type", "200")
    assert duration is metrics.dispatch_duration.labels(*values, "test.type", "200")
    child = metrics.ingress_children.child("ns", "b", "", "test.type", "202")
    assert child is metrics.ingress_events.labels("ns", "b", "", "test.type", "202")


@pytest.mark.parametrize("labels, wanted", [
    # Knative's names per kind (eventing pkg/observability/attributes.go): only a Trigger
    # fills kn_trigger_name; nothing else borrows the broker's or trigger's place.
    (metrics.trigger_labels("ns", "default", "t1"),
     {"kn_namespace_name": "ns", "kn_broker_name": "default", "kn_trigger_name": "t1"}),
    (metrics.subscription_labels("ns", "orders", "s1"),
     {"kn_namespace_name": "ns", "kn_channel_name": "orders", "kn_subscription_name": "s1"}),
    (metrics.source_labels("ns", "PingSource", "tick"),
     {"kn_namespace_name": "ns", "kn_source_name": "tick",
      "kn_source_resourcegroup": "pingsources.sources.knative.dev"}),
    (metrics.source_labels("ns", "KafkaSource", "k"),
     {"kn_namespace_name": "ns", "kn_source_name": "k",
      "kn_source_resourcegroup": "kafkasources.sources.knative.dev"}),
])
def test_each_kind_of_target_sets_only_its_own_labels(labels, wanted) -> None:
    assert labels == wanted
    values = dict(zip(metrics.TARGET_LABELS, metrics.target_values(labels)))
    assert {k: v for k, v in values.items() if v} == wanted
