"""KafkaSource's adapter against a real Kafka protocol endpoint (librdkafka's mock cluster,
`tests.support.kafka`), a real HTTP sink and the real aiohttp sender: conversion, ordering,
commits after delivery, dead letters, consumer groups, backpressure, and a SIGKILL."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from channels.dispatching import Target
from channels.identities import Kind, TargetKey
from channels.policies import DeliveryPolicy
from ripple import metrics
from sources.kafka.adapter import KafkaAdapter, KafkaConfig
from tests.support.kafka import MockCluster, leader_syncs_last
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
_names = itertools.count()


@pytest.fixture
def topic(kafka) -> str:
    name = f"topic{next(_names)}"
    kafka.create_topic(name, 3)
    return name


def target(url: str | None, policy: DeliveryPolicy | None = None) -> Target:
    return Target(key=TargetKey(Kind.KAFKA_SOURCE, "ns", "src"), stream="", schedule="",
                  namespace="ns", subscriber_uri=url, policy=policy or DeliveryPolicy(),
                  labels=metrics.source_labels("ns", Kind.KAFKA_SOURCE, "src"))


def config(kafka: MockCluster, topic: str, group: str, **kw: object) -> KafkaConfig:
    options: dict[str, object] = {
        "namespace": "ns", "name": "src", "bootstrap_servers": (kafka.bootstrap,),
        "topics": (topic,), "group": group, "initial_offset": "earliest", "ordered": True,
        "key_type": "string", "extensions": {}, "session_timeout": 1.0,
        "heartbeat_interval": 0.2, "commit_interval": 0.1, "drain_timeout": 1.0}
    options.update(kw)
    return KafkaConfig(**options)  # type: ignore[arg-type]


async def start(adapters: list[KafkaAdapter], cfg: KafkaConfig, tgt: Target, sender) -> KafkaAdapter:
    adapter = KafkaAdapter(cfg, tgt, sender)
    adapters.append(adapter)
    await adapter.start()
    return adapter


def produce(kafka: MockCluster, topic: str, count: int, partitions: int = 3) -> list[str]:
    """`count` plain records spread round-robin; their event ids."""
    placed = kafka.produce_many(topic, [(b"%d" % i, None, None, i % partitions, None)
                                        for i in range(count)])
    return [f"partition:{p}/offset:{o}" for p, o in placed]


async def test_plain_records_are_wrapped(kafka, topic, sender, adapters) -> None:
    with RecordingSink() as sink:
        await start(adapters, config(kafka, topic, "wrap", extensions=(("team", "blue"),)),
                    target(sink.url), sender)
        kafka.produce(topic, b'{"n":1}', key=b"order-7", partition=1, timestamp=1_700_000_000_123,
                      headers=[("Content-Type", b"application/json"), ("X-Trace", b"t1")])
        [got] = await sink.until(1)
        assert got.ce == {"specversion": "1.0", "id": "partition:1/offset:0",
                          "source": f"/apis/v1/namespaces/ns/kafkasources/src#{topic}",
                          "type": "dev.knative.kafka.event", "subject": "partition:1#0",
                          "time": "2023-11-14T22:13:20.123Z", "key": "order-7",
                          "partitionkey": "order-7", "kafkaheaderxtrace": "t1", "team": "blue"}
        assert got.headers["content-type"] == "application/json" and got.body == b'{"n":1}'


async def test_binary_and_structured_cloudevents_pass_through(kafka, topic, sender, adapters) -> None:
    with RecordingSink() as sink:
        await start(adapters, config(kafka, topic, "pass"), target(sink.url), sender)
        kafka.produce(topic, b"hello", partition=0, headers=[
            ("ce_specversion", b"1.0"), ("ce_id", b"b1"), ("ce_source", b"/producer"),
            ("ce_type", b"com.example.binary"), ("content-type", b"text/plain")])
        structured = {"specversion": "1.0", "id": "s1", "source": "/producer",
                      "type": "com.example.structured", "datacontenttype": "application/json",
                      "data": {"a": 1}}
        kafka.produce(topic, json.dumps(structured).encode(), partition=0,
                      headers=[("content-type", b"application/cloudevents+json")])
        first, second = await sink.until(2)
        assert first.ce == {"specversion": "1.0", "id": "b1", "source": "/producer",
                            "type": "com.example.binary"}
        assert (first.headers["content-type"], first.body) == ("text/plain", b"hello")
        assert second.ce == {"specversion": "1.0", "id": "s1", "source": "/producer",
                             "type": "com.example.structured"}
        assert json.loads(second.body) == {"a": 1}


async def test_ordered_keeps_partition_order_across_a_retry(kafka, topic, sender, adapters) -> None:
    # The first attempt of partition 0's fourth record fails; its partition waits for the
    # retry (0.5 s), the other partitions go on meanwhile.
    def behaviour(request, _n):
        if request.ce["id"] == "partition:0/offset:3" and sink.ids().count("partition:0/offset:3") == 1:
            return Answer(503)
        return Answer(202)

    with RecordingSink(behaviour) as sink:
        ids = produce(kafka, topic, 30)
        policy = DeliveryPolicy(retry=3, backoff_policy="exponential", backoff_delay=0.5)
        await start(adapters, config(kafka, topic, "ordered"), target(sink.url, policy), sender)
        await sink.until(31)
        received = sink.ids()
        assert sorted(set(received)) == sorted(ids)
        for p in range(3):
            mine = [int(i.rsplit(":", 1)[1]) for i in received if i.startswith(f"partition:{p}/")]
            expected = list(range(10)) if p else [0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9]
            assert mine == expected, p
        retried = received.index("partition:0/offset:3", received.index("partition:0/offset:3") + 1)
        assert {"partition:1/offset:9", "partition:2/offset:9"} <= set(received[:retried])


async def test_unordered_delivers_all_concurrently(kafka, topic, sender, adapters) -> None:
    concurrent, peak, lock = [0], [0], threading.Lock()

    def behaviour(_r, _n):
        with lock:
            concurrent[0] += 1
            peak[0] = max(peak[0], concurrent[0])
        time.sleep(0.02)
        with lock:
            concurrent[0] -= 1
        return Answer(200)

    with RecordingSink(behaviour) as sink:
        ids = produce(kafka, topic, 60)
        await start(adapters, config(kafka, topic, "unordered", ordered=False), target(sink.url), sender)
        await sink.until(60)
        assert sorted(sink.ids()) == sorted(ids)
        assert peak[0] > 3


async def test_offsets_are_committed_only_after_delivery(kafka, topic, sender, adapters) -> None:
    accept = threading.Event()
    with RecordingSink(lambda _r, _n: Answer(200 if accept.is_set() else 503)) as sink:
        policy = DeliveryPolicy(retry=100, backoff_policy="linear", backoff_delay=0.05)
        first = await start(adapters, config(kafka, topic, "commit"), target(sink.url, policy), sender)
        accept.set()
        kafka.produce(topic, b"0", partition=0)
        await sink.until(1)
        accept.clear()
        kafka.produce(topic, b"1", partition=0)
        await sink.until(3)  # offset 1 is being retried
        await first.stop()
        assert kafka.committed("commit", topic, 3)[0] == 1  # offset 0 done, offset 1 not
        accept.set()
        seen = len(sink.received)
        await start(adapters, config(kafka, topic, "commit"), target(sink.url, policy), sender)
        await sink.until(seen + 1)
        assert sink.ids()[seen:] == ["partition:0/offset:1"]  # redelivered; offset 0 is not
        await until(lambda: kafka.committed("commit", topic, 3)[0] == 2)


async def test_dead_lettered_records_are_committed(kafka, topic, sender, adapters) -> None:
    with RecordingSink(lambda _r, _n: Answer(500, b"boom")) as sink, RecordingSink() as dls:
        policy = DeliveryPolicy(retry=2, dead_letter_uri=dls.url)
        adapter = await start(adapters, config(kafka, topic, "dls"), target(sink.url, policy), sender)
        kafka.produce(topic, b"x", partition=2)
        [dead] = await dls.until(1)
        assert len(sink.received) == 3  # the first attempt and two retries
        assert dead.ce["id"] == "partition:2/offset:0"
        assert dead.ce["knativeerrordest"] == sink.url and dead.ce["knativeerrorcode"] == "500"
        await until(lambda: kafka.committed("dls", topic, 3)[2] == 1)
        await adapter.stop()
        assert kafka.committed("dls", topic, 3) == [0, 0, 1]  # 0: the initial offsets


async def test_dropped_records_are_committed_too(kafka, topic, sender, adapters) -> None:
    with RecordingSink(lambda _r, _n: Answer(400)) as sink:
        await start(adapters, config(kafka, topic, "drop"), target(sink.url), sender)
        kafka.produce(topic, b"x", partition=0)
        await sink.until(1)
        await until(lambda: kafka.committed("drop", topic, 3)[0] == 1)


async def test_two_adapters_in_one_group_split_the_partitions(kafka, sender, adapters) -> None:
    topic = f"topic{next(_names)}"
    kafka.create_topic(topic, 4)
    with RecordingSink() as sink, leader_syncs_last():
        one = await start(adapters, config(kafka, topic, "split"), target(sink.url), sender)
        await until(lambda: len(one.assignment) == 4)
        two = await start(adapters, config(kafka, topic, "split"), target(sink.url), sender)
        await until(lambda: one.assignment and two.assignment
                         and len(one.assignment | two.assignment) == 4, timeout=15)
        assert not one.assignment & two.assignment
        ids = produce(kafka, topic, 40, partitions=4)
        await sink.until(40)
        assert sorted(set(sink.ids())) == sorted(ids)


async def test_a_slow_sink_keeps_what_is_held_bounded(kafka, topic, sender, adapters) -> None:
    with RecordingSink(lambda _r, _n: (time.sleep(0.03), Answer(200))[1]) as sink:
        ids = produce(kafka, topic, 90)
        cfg = config(kafka, topic, "slow", ordered=False, max_in_flight=5)
        adapter = await start(adapters, cfg, target(sink.url), sender)
        held = []

        def sample() -> bool:  # what is held, at every poll until all arrived
            held.append(adapter._offsets.window())
            return len(sink.received) >= 90
        await until(sample, timeout=30)
        assert max(held) <= 5 and max(held) >= 3
        assert sorted(sink.ids()) == sorted(ids)


async def test_a_new_target_applies_to_the_next_delivery(kafka, topic, sender, adapters) -> None:
    with RecordingSink() as old, RecordingSink() as new:
        adapter = await start(adapters, config(kafka, topic, "retarget"), target(None), sender)
        kafka.produce(topic, b"0", partition=0)
        # no sink yet: the consumer holds every partition it was given, so the record waits
        await until(lambda: adapter.report()["partitions"] and adapter._consumer is not None
                         and adapter._consumer.paused() == adapter._consumer.assignment())
        assert adapter.in_flight == 0 and old.received == []
        adapter.update_target(target(old.url))
        await old.until(1)
        adapter.update_target(target(new.url))
        kafka.produce(topic, b"1", partition=0)
        await new.until(1)
        assert old.ids() == ["partition:0/offset:0"] and new.ids() == ["partition:0/offset:1"]


async def test_an_unreachable_cluster_is_reported_and_retried(sender) -> None:
    cfg = KafkaConfig(namespace="ns", name="src", bootstrap_servers=("127.0.0.1:1",),
                      topics=("t",), group="g", initial_offset="latest", ordered=True,
                      key_type="string", extensions={})
    adapter = KafkaAdapter(cfg, target("http://127.0.0.1:1"), sender)
    await adapter.start()
    await until(lambda: adapter.last_error is not None)
    assert not adapter.connected and "KafkaConnectionError" in adapter.last_error
    started = time.monotonic()
    await adapter.stop()
    assert time.monotonic() - started < 1.0


async def test_a_stop_after_the_cluster_went_away_is_bounded(sender) -> None:
    """The cluster goes while a delivered record's offset waits for its commit: aiokafka
    would wait for a coordinator forever (`ripple up` ignored SIGTERM). The last commit gets
    `commit_timeout`, the offset stays uncommitted (its record comes again: at least once)."""
    with MockCluster() as cluster, RecordingSink() as sink:
        cluster.create_topic("gone", 1)
        cfg = config(cluster, "gone", "gone", commit_interval=3600.0, commit_timeout=1.0,
                     close_timeout=1.0)
        adapter = KafkaAdapter(cfg, target(sink.url), sender)
        await adapter.start()
        await until(lambda: adapter.connected)
        cluster.produce("gone", b"0", partition=0)
        await sink.until(1)
        await until(lambda: adapter.in_flight == 0)  # delivered, not committed (the interval)
        cluster.close()
        await asyncio.sleep(1.0)  # aiokafka notices: its coordinator is dead
        started = time.monotonic()
        await adapter.stop()
        took = time.monotonic() - started
    assert took < cfg.commit_timeout + cfg.close_timeout + 1.0, took
    assert sink.ids() == ["partition:0/offset:0"]


def spawn_child(kafka: MockCluster, topic: str, group: str, sink: str) -> subprocess.Popen[str]:
    options = {"bootstrap": kafka.bootstrap, "topic": topic, "group": group, "sink": sink}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "tests.support.kafka_consumer_child",
                             json.dumps(options)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


async def test_a_killed_consumer_loses_nothing(kafka, topic) -> None:
    with RecordingSink(lambda _r, _n: (time.sleep(0.002), Answer(200))[1]) as sink:
        ids = produce(kafka, topic, 600)
        first = spawn_child(kafka, topic, "sigkill", sink.url)
        try:
            await sink.until(150, timeout=20)
            first.kill()
            first.wait(5)
            halfway = len(set(sink.ids()))
            assert halfway < 600, "the first consumer must die mid-stream"
            second = spawn_child(kafka, topic, "sigkill", sink.url)
            try:
                await until(lambda: set(sink.ids()) >= set(ids), timeout=20)
            finally:
                second.terminate()
                second.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(5)


async def test_latest_starts_at_the_log_end_when_first_assigned(kafka, topic, sender, adapters) -> None:
    with RecordingSink() as sink:
        produce(kafka, topic, 6)  # before the source existed: never delivered
        adapter = await start(adapters, config(kafka, topic, "latest", initial_offset="latest"),
                              target(sink.url), sender)
        await until(lambda: adapter.report()["offsetsCommitted"])
        assert kafka.committed("latest", topic, 3) == [2, 2, 2]  # pinned, as Knative does
        report = adapter.report()
        assert report["connected"] and report["error"] is None and len(report["partitions"]) == 3
        kafka.produce(topic, b"new", partition=1)
        [got] = await sink.until(1)
        assert got.ce["id"] == "partition:1/offset:2"
