"""Tables over `ripple.merging`: the object `ripple apply` and `ripple up -f` write over
an existing one, and kubectl's word for the result."""

from __future__ import annotations

from typing import Any

import pytest

from ripple import merging

CURRENT: dict[str, Any] = {
    "apiVersion": "eventing.knative.dev/v1",
    "kind": "Broker",
    "metadata": {
        "name": "b",
        "namespace": "default",
        "resourceVersion": "7",
        "uid": "u1",
        "generation": 2,
        "creationTimestamp": "2024-05-01T00:00:00Z",
        "annotations": {"eventing.knative.dev/broker.class": "MTChannelBasedBroker"},
    },
    "spec": {"delivery": {"retry": 3}},
    "status": {"conditions": [{"type": "Ready", "status": "True"}]},
}


def desired(spec: dict, **meta: object) -> dict:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "b", "namespace": "default", **meta},
        "spec": spec,
    }


@pytest.mark.parametrize(
    "want, spec, annotations, labels",
    [
        (
            desired({"delivery": {"retry": 5}}),
            {"delivery": {"retry": 5}},
            {"eventing.knative.dev/broker.class": "MTChannelBasedBroker"},
            None,
        ),
        (
            desired({}, labels={"team": "a"}),
            {},
            {"eventing.knative.dev/broker.class": "MTChannelBasedBroker"},
            {"team": "a"},
        ),
        (
            desired({}, annotations={"ripple.dev/x": "1"}),
            {},
            {"eventing.knative.dev/broker.class": "MTChannelBasedBroker", "ripple.dev/x": "1"},
            None,
        ),
        (
            desired({}, annotations={"eventing.knative.dev/broker.class": "Kafka"}),
            {},
            {"eventing.knative.dev/broker.class": "Kafka"},
            None,
        ),
    ],
)
def test_merge_for_update(want: dict, spec: dict, annotations: dict, labels: dict | None) -> None:
    merged = merging.merge_for_update(CURRENT, want)
    assert merged["spec"] == spec
    assert merged["metadata"]["annotations"] == annotations
    assert merged["metadata"].get("labels") == labels
    assert merged["metadata"]["resourceVersion"] == "7"  # optimistic concurrency kept
    assert merged["status"] == CURRENT["status"]


def test_merge_replaces_top_level_fields_like_a_secret_data() -> None:
    current = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"a": "YQ=="},
        "type": "Opaque",
    }
    want = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"b": "c"},
    }
    assert merging.merge_for_update(current, want) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"b": "c"},
    }


@pytest.mark.parametrize(
    "want, unchanged",
    [
        (desired({"delivery": {"retry": 3}}), True),
        (
            desired(
                {"delivery": {"retry": 3}},
                annotations={"eventing.knative.dev/broker.class": "MTChannelBasedBroker"},
            ),
            True,
        ),
        (desired({"delivery": {"retry": 4}}), False),
        (desired({"delivery": {"retry": 3}}, labels={"a": "b"}), False),
    ],
)
def test_comparable_decides_unchanged(want: dict, unchanged: bool) -> None:
    merged = merging.merge_for_update(CURRENT, want)
    assert (merging.comparable(merged) == merging.comparable(CURRENT)) is unchanged


def test_another_served_version_is_the_same_object() -> None:
    # A KafkaSource applied as v1beta1 is stored as v1: not a change.
    older = {**CURRENT, "apiVersion": "eventing.knative.dev/v1beta1"}
    assert merging.unchanged(CURRENT, merging.merge_for_update(CURRENT, older))


@pytest.mark.parametrize("stored, word", [
    (CURRENT, "unchanged"),
    # The server defaulted what the manifest left out, and nothing else: unchanged.
    ({**CURRENT, "metadata": {**CURRENT["metadata"], "resourceVersion": "8", "generation": 3}},
     "unchanged"),
    ({**CURRENT, "spec": {"delivery": {"retry": 4}}}, "configured"),
])
def test_outcome(stored: dict, word: str) -> None:
    assert merging.outcome(CURRENT, stored) == word
