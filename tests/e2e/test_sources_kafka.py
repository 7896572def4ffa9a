"""KafkaSource end to end: `ripple up` as a process consuming librdkafka's mock cluster over
the real Kafka protocol, through a Broker and a Trigger to a real HTTP sink.

The example in manifests/examples/06-kafka-source is applied as written, with only its
bootstrap server pointed at the mock cluster. Its Trigger comes before its KafkaSource: the
records produced before the source exists are delivered as soon as the Broker has an
address, and a Broker hands an event only to the Triggers that exist when it arrives. In
the other order the CLI's request for the Trigger raced the first deliveries, and lost on a
loaded machine (9 of 11 records: the first record of each partition went to no Trigger).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ripple.api import loading
from tests.support.kafka import MockCluster
from tests.support.mesh import Mesh
from tests.support.sinks import RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "manifests" / "examples" / "06-kafka-source" / "kafka-source.yaml"
SOURCE = "/apis/sources.knative.dev/v1/namespaces/default/kafkasources/orders"


@pytest.fixture(scope="module")
def cluster() -> Iterator[MockCluster]:
    with MockCluster() as mock:
        mock.create_topic("orders", partitions=2)
        yield mock


def example(bootstrap: str, sink_url: str) -> str:
    docs = loading.load_documents(EXAMPLE.read_text())
    kinds = [doc["kind"] for doc in docs]
    assert kinds.index("Trigger") < kinds.index("KafkaSource"), "the Trigger must exist first"
    for doc in docs:
        if doc["kind"] == "KafkaSource":
            doc["spec"]["bootstrapServers"] = [bootstrap]
        if doc["kind"] == "Trigger":
            doc["spec"]["subscriber"] = {"uri": sink_url}
    return "\n---\n".join(json.dumps(d) for d in docs)


def test_the_kafka_example_delivers_records_through_a_broker(cluster: MockCluster, mesh: Mesh) -> None:
    for i in range(10):  # produced before the source exists: `initialOffset: earliest`
        cluster.produce("orders", json.dumps({"order": i}).encode(), key=f"k{i}".encode(), partition=i % 2)
    with RecordingSink() as sink:
        mesh.apply(example(cluster.bootstrap, sink.url))
        source = mesh.wait_ready(SOURCE, timeout=30)
        conditions = {c["type"]: c["status"] for c in source["status"]["conditions"]}
        assert conditions["ConnectionEstablished"] == "True"
        assert conditions["InitialOffsetsCommitted"] == "True"
        cluster.produce("orders", b'{"already": "an event"}', partition=0, headers=[
            ("ce_specversion", b"1.0"), ("ce_id", b"evt-1"), ("ce_source", b"/shop"),
            ("ce_type", b"dev.example.order"), ("content-type", b"application/json")])
        cluster.produce("orders", b'{"order": 10}', key=b"k10", partition=1)
        got = sink.wait_for(11, timeout=30)
    wrapped = [r for r in got if r.ce["type"] == "dev.knative.kafka.event"]
    assert sorted(json.loads(r.body)["order"] for r in wrapped) == list(range(11))
    first = next(r for r in wrapped if json.loads(r.body)["order"] == 0)
    assert first.ce["source"] == "/apis/v1/namespaces/default/kafkasources/orders#orders"
    assert first.ce["subject"] == "partition:0#0" and first.ce["id"] == "partition:0/offset:0"
    assert first.ce["key"] == "k0"
    # a record that already was a CloudEvent is not wrapped (and a Trigger on the Kafka type
    # does not see it)
    assert all(r.ce["id"] != "evt-1" for r in got)
    # offsets are committed in batches, about every second
    wait_until(lambda: cluster.committed("ripple-orders", "orders", 2) == [6, 6],
               what="offsets [6, 6] committed")
