"""Nothing a KafkaSource takes is silently dropped: librdkafka's mock cluster (the real Kafka
protocol), real Valkey, real HTTP sinks. A record nobody took lands in the source's
dead-letter store before its offset is committed, the offset waits while the store is
down, and a redrive delivers it through the source's own queue."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest
import redis.asyncio

from channels import deadletters, locations, stats
from channels.deliveries import Deliveries
from channels.dispatching import Target
from channels.identities import Kind
from channels.policies import DeliveryPolicy
from channels.queues import Queues
from ripple import metrics
from ripple.api.dead_letter_bounds import Bounds
from ripple.settings import DeliverySettings
from sources.kafka.adapter import KafkaAdapter, KafkaConfig
from tests.support.kafka import MockCluster
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import until

pytestmark = pytest.mark.integration

WHERE = locations.of_source(Kind.KAFKA_SOURCE, "ns", "src")
_names = itertools.count()


@pytest.fixture
def topic(kafka) -> str:
    name = f"dlq{next(_names)}"
    kafka.create_topic(name, 1)
    return name


def target(url: str, policy: DeliveryPolicy) -> Target:
    """The KafkaSource's target as `sources.plane` builds it: queue, schedule and store."""
    return Target(key=WHERE.key, stream=WHERE.stream, schedule=WHERE.schedule, namespace="ns",
                  subscriber_uri=url, policy=policy,
                  labels=metrics.source_labels("ns", Kind.KAFKA_SOURCE, "src"),
                  dead_letters=deadletters.of(WHERE, Bounds(100, 3600.0)))


def config(kafka: MockCluster, topic: str, group: str) -> KafkaConfig:
    return KafkaConfig(namespace="ns", name="src", bootstrap_servers=(kafka.bootstrap,),
                       topics=(topic,), group=group, initial_offset="earliest", ordered=True,
                       key_type="string", extensions={}, session_timeout=1.0,
                       heartbeat_interval=0.2, commit_interval=0.1, drain_timeout=1.0)


async def start(adapters: list[KafkaAdapter], adapter: KafkaAdapter) -> KafkaAdapter:
    adapters.append(adapter)
    await adapter.start()
    return adapter


async def entries(client: redis.asyncio.Redis, count: int) -> list[dict]:
    async def there() -> bool:
        return await client.xlen(WHERE.dead_letters) >= count
    await until(there, what=f"{count} entries in the KafkaSource's store")
    return [deadletters.view(i, f, "kafkasource:src")
            for i, f in await client.xrange(WHERE.dead_letters)]


async def test_a_record_nobody_took_is_kept_then_committed(kafka, topic, sender, adapters,
                                                           redis_client) -> None:
    with RecordingSink(lambda _r, _n: Answer(500, b'{"error": "broken"}')) as sink:
        policy = DeliveryPolicy(retry=1, backoff_delay=0.01)
        await start(adapters, KafkaAdapter(config(kafka, topic, "kept"), target(sink.url, policy),
                                           sender, redis_client))
        kafka.produce(topic, b'{"order": 1}', key=b"k1", partition=0)
        [entry] = await entries(redis_client, 1)
        await until(lambda: kafka.committed("kept", topic) == [1], what="offset 1 committed")
    assert len(sink.received) == 2  # the first attempt and one retry, then kept
    event = entry["event"]
    assert event["id"] == "partition:0/offset:0" and event["key"] == "k1"
    assert event["type"] == "dev.knative.kafka.event" and event["data"] == {"order": 1}
    assert event["knativeerrorcode"] == "500" and event["knativeerrordest"] == sink.url
    assert "knativeerrordata" in event
    assert (entry["code"], entry["destination"], entry["attempts"]) == (500, sink.url, 2)
    assert entry["reason"] == "HTTP 500" and entry["time"].endswith("Z")
    [figures] = await stats.read(redis_client, [WHERE])
    assert (figures.dead_letters, figures.dead_lettered_total) == (1, 1)
    assert figures.last_error is not None and figures.last_error["code"] == 500


async def test_a_failing_dead_letter_sink_keeps_a_copy(kafka, topic, sender, adapters,
                                                       redis_client) -> None:
    with RecordingSink(lambda _r, _n: Answer(400)) as sink, \
            RecordingSink(lambda _r, _n: Answer(503)) as dls:
        policy = DeliveryPolicy(retry=1, backoff_delay=0.01, dead_letter_uri=dls.url)
        await start(adapters, KafkaAdapter(config(kafka, topic, "dls-fails"),
                                           target(sink.url, policy), sender, redis_client))
        kafka.produce(topic, b"x", partition=0)
        [entry] = await entries(redis_client, 1)
        await until(lambda: kafka.committed("dls-fails", topic) == [1], what="offset 1 committed")
    assert len(sink.received) == 1 and len(dls.received) == 2  # 400 is not retried; 503 is
    assert dls.received[0].ce["knativeerrorcode"] == "400"
    # what the sink would have been told of the subscriber's failure, and why it is here
    assert entry["code"] == 400 and entry["destination"] == sink.url
    assert entry["reason"] == f"the dead-letter sink {dls.url} failed too: HTTP 503"


async def test_the_offset_waits_while_the_store_is_down(kafka, topic, sender, adapters,
                                                        redis_client) -> None:
    # A store nobody answers on: the record failed for good and cannot be kept, so it is
    # neither finished nor committed, and the group's next consumer gets it again.
    down = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    with RecordingSink(lambda _r, _n: Answer(400)) as sink:
        policy = DeliveryPolicy(retry=0)
        first = await start(adapters, KafkaAdapter(config(kafka, topic, "waits"),
                                                   target(sink.url, policy), sender, down))
        kafka.produce(topic, b"x", partition=0)
        await sink.until(1)
        await until(lambda: first.in_flight == 1 and first.report()["offsetsCommitted"],
                    what="the record held, the initial offset committed")
        await first.stop()
        assert kafka.committed("waits", topic) == [0]  # the initial offset only
        await down.aclose()
        await start(adapters, KafkaAdapter(config(kafka, topic, "waits"),
                                           target(sink.url, policy), sender, redis_client))
        [entry] = await entries(redis_client, 1)
        await until(lambda: kafka.committed("waits", topic) == [1], what="offset 1 committed")
    assert entry["event"]["id"] == "partition:0/offset:0"
    assert len(sink.received) == 2  # once per consumer: at least once, never lost


async def test_a_redrive_goes_through_the_sources_queue(kafka, topic, sender, adapters,
                                                        redis_client) -> None:
    fixed = asyncio.Event()
    with RecordingSink(lambda _r, _n: Answer(202 if fixed.is_set() else 500)) as sink, \
            RecordingSink() as other:
        policy = DeliveryPolicy(retry=0)
        tgt = target(sink.url, policy)
        await start(adapters, KafkaAdapter(config(kafka, topic, "redrive"), tgt, sender, redis_client))
        kafka.produce_many(topic, [(b"%d" % i, None, None, 0, None) for i in range(2)])
        first, second = await entries(redis_client, 2)
        engine = Deliveries(Queues(redis_client), sender, consumer="c1",
                            settings=DeliverySettings(schedule_poll=0.01))
        try:
            engine.sync([tgt])  # what `sources.plane` serves beside the adapter
            fixed.set()
            store = deadletters.Store(redis_client)
            assert await store.redrive(WHERE, [first["id"]]) == [first["id"]]
            assert await store.redrive(WHERE, [second["id"]], other.url) == [second["id"]]
            *_, again = await sink.until(3)  # two failed attempts, then the redriven one
            [elsewhere] = await other.until(1)
        finally:
            await engine.close(drain_timeout=1)
    assert len(sink.received) == 3 and again.ce["id"] == "partition:0/offset:0"
    assert elsewhere.ce["id"] == "partition:0/offset:1"
    assert "knativeerrorcode" not in again.ce  # the event itself, not what a sink is told
    assert json.loads(elsewhere.body) == 1
    assert await redis_client.xlen(WHERE.dead_letters) == 0
