"""KafkaSource end to end: `ripple up` as a process consuming librdkafka's mock cluster over
the real Kafka protocol, through a Broker and a Trigger to a real HTTP sink; and a record
nobody took, kept in the source's dead-letter store and sent again with `ripple dlq`.

The example in manifests/examples/06-kafka-source is applied as written, with only its
bootstrap server pointed at the mock cluster. Its Trigger comes before its KafkaSource: the
records produced before the source exists are delivered as soon as the Broker has an
address, and a Broker hands an event only to the Triggers that exist when it arrives. In
the other order the CLI's request for the Trigger raced the first deliveries, and lost on a
loaded machine (9 of 11 records: the first record of each partition went to no Trigger).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ripple.api import loading
from tests.support.kafka import MockCluster
from tests.e2e.test_dlq import Switch, dead_letters
from tests.support.mesh import Mesh
from tests.support.sinks import Answer, RecordingSink
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


FAILING = """
apiVersion: sources.knative.dev/v1beta1
kind: KafkaSource
metadata: {{name: payments, namespace: default}}
spec:
  bootstrapServers: ["{bootstrap}"]
  topics: [payments]
  initialOffset: earliest
  delivery:
    retry: 1
    backoffPolicy: linear
    backoffDelay: PT0.05S
    deadLetterSink: {{uri: "{dls}"}}
  sink: {{uri: "{sink}"}}
"""


def test_a_record_nobody_took_is_kept_then_redriven(cluster: MockCluster, mesh: Mesh) -> None:
    """Its subscriber and its dead-letter sink both fail for good: each record lands in the
    KafkaSource's dead-letter store and its offset is committed; `ripple dlq` shows, redrives
    (to the sink, or elsewhere with --to) and purges them."""
    cluster.create_topic("payments", partitions=1)
    fixed = Switch()
    with RecordingSink(fixed) as sink, RecordingSink(lambda r, n: Answer(503)) as dls, \
            RecordingSink() as other:
        mesh.apply(FAILING.format(bootstrap=cluster.bootstrap, dls=dls.url, sink=sink.url))
        mesh.wait_ready("/apis/sources.knative.dev/v1/namespaces/default/kafkasources/payments",
                        timeout=30)
        for i in range(3):
            cluster.produce("payments", json.dumps({"payment": i}).encode(), partition=0)
        wait_until(lambda: len(dead_letters(mesh, "kafkasource:payments")) == 3, timeout=30,
                   what="three records in the KafkaSource's store")
        wait_until(lambda: cluster.committed("knative-kafka-source-default-payments", "payments") == [3],
                   what="offset 3 committed once the records were kept")
        assert len(sink.received) == 6 and len(dls.received) == 6  # two attempts each, each
        entries = dead_letters(mesh, "kafkasource:payments")
        first = entries[0]
        assert [e["event"]["id"] for e in entries] == [f"partition:0/offset:{i}" for i in range(3)]
        assert first["target"] == "kafkasource:payments" and first["attempts"] == 2
        assert (first["code"], first["destination"]) == (500, sink.url)
        assert first["event"]["knativeerrorcode"] == "500"
        assert first["event"]["knativeerrordest"] == sink.url
        assert first["reason"] == f"the dead-letter sink {dls.url} failed too: HTTP 503"
        assert "kafkasource:payments" in mesh.cli("dlq", "list").stdout
        shown = mesh.cli("dlq", "show", "partition:0/offset:1").stdout  # by event id
        assert "Target:       kafkasource:payments" in shown
        described = mesh.cli("describe", "kafkasource", "payments").stdout
        assert "Dead letters: 3" in described and "Last error: 503 from " + dls.url in described

        fixed.fixed = True
        moved = mesh.cli("dlq", "redrive", "kafkasource:payments", entries[1]["id"], "--to", other.url)
        assert f"redriven kafkasource:payments {entries[1]['id']}" in moved.stdout
        [elsewhere] = other.wait_for(1)
        assert elsewhere.ce["id"] == "partition:0/offset:1" and json.loads(elsewhere.body) == {"payment": 1}
        mesh.cli("dlq", "redrive", "kafkasource:payments", entries[0]["id"])
        wait_until(lambda: len(sink.received) == 7, what="the redriven record delivered")
        assert sink.received[6].ce["id"] == "partition:0/offset:0"
        assert "knativeerrorcode" not in sink.received[6].ce
        assert "1 dead letter(s) purged" in mesh.cli("dlq", "purge", "kafkasource:payments", "--yes").stdout
        assert dead_letters(mesh, "kafkasource:payments") == []
        mesh.cli("delete", "kafkasource", "payments")
    assert len(sink.received) == 7 and len(other.received) == 1  # once each


LEDGER = """
apiVersion: sources.knative.dev/v1beta1
kind: KafkaSource
metadata: {{name: ledger, namespace: default}}
spec:
  bootstrapServers: ["{bootstrap}"]
  topics: [ledger]
  initialOffset: earliest
  delivery: {{retry: 0}}
  sink: {{uri: "{sink}"}}
"""


def test_a_kill_9_while_records_are_kept_loses_none(cluster: MockCluster, data_dir: Path) -> None:
    """Every record of a KafkaSource whose sink refuses them all is in its store after a
    `kill -9` in the middle and a restart: an offset is committed only once its record is
    kept, so the restarted consumer keeps again what was not committed (some twice)."""
    cluster.create_topic("ledger", partitions=2)
    ids = [f"partition:{i % 2}/offset:{i // 2}" for i in range(300)]
    with RecordingSink(lambda r, n: (time.sleep(0.01), Answer(500))[1]) as sink:
        mesh = Mesh(data_dir).start()
        try:
            mesh.apply(LEDGER.format(bootstrap=cluster.bootstrap, sink=sink.url))
            cluster.produce_many("ledger", [(b"%d" % i, None, None, i % 2, None) for i in range(300)])
            wait_until(lambda: len(dead_letters(mesh, "kafkasource:ledger")) >= 50, timeout=60,
                       what="records being kept")
            mesh.kill()
            before = len(set(sink.ids()))
            assert before < 300, "the mesh must die mid-stream"
            mesh.start()
            kept: list[str] = []

            def all_kept() -> bool:
                kept[:] = [e["event"]["id"] for e in dead_letters(mesh, "kafkasource:ledger")]
                return set(kept) >= set(ids)
            wait_until(all_kept, timeout=90, what="every record in the store")
            wait_until(lambda: cluster.committed("knative-kafka-source-default-ledger", "ledger", 2)
                       == [150, 150], what="offsets [150, 150] committed")
            print(f"\nkill -9 after {before} of 300 records attempted: {len(kept)} entries, "
                  f"{len(kept) - len(set(kept))} kept twice")
        finally:
            mesh.stop()
