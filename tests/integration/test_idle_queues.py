"""Idle queues on a real Valkey: they park in one blocking XREADGROUP per hash slot
(`channels.idling`), and parked they still get their new entries, their retries, their
dead consumers' entries and, after a store error, their own pending ones."""

from __future__ import annotations

import dataclasses

import pytest
import redis.asyncio

from channels import idling
from channels.deliveries import Deliveries
from channels.dispatching import Target
from channels.identities import Kind, TargetKey
from channels.policies import DeliveryPolicy
from channels.queues import GROUP, Queues
from channels.sending import HttpSender
from ripple import cloudevents as ce
from ripple.settings import DeliverySettings
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import until

pytestmark = pytest.mark.integration

SETTINGS = DeliverySettings(schedule_poll=0.01)


def event(i: int) -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": f"e{i}", "source": "/t", "type": "t"}, b"{}")


def target(key: str, url: str, tag: str = "b", policy: DeliveryPolicy | None = None) -> Target:
    return Target(key=TargetKey(Kind.TRIGGER, "ns", f"{tag}-{key}"), stream=f"q:{{{tag}}}:{key}",
                  schedule=f"q:{{{tag}}}:schedule", namespace="ns", subscriber_uri=url,
                  policy=policy or DeliveryPolicy(timeout=1.0))


async def blocked_reads(client: redis.asyncio.Redis) -> int:
    return sum(1 for c in await client.client_list()
               if c["cmd"] == "xreadgroup" and "b" in c["flags"])


@pytest.fixture
async def sender():
    sender = HttpSender()
    yield sender
    await sender.close()


async def test_idle_queues_of_one_broker_share_one_blocking_read(redis_client, sender) -> None:
    deliveries = Deliveries(Queues(redis_client), sender, consumer="c1", settings=SETTINGS)
    with RecordingSink() as sink:
        targets = [target(f"t{i}", sink.url) for i in range(30)]
        try:
            deliveries.sync(targets)
            await until(lambda: deliveries.idle.parked() == 30, what="every queue parked")
            await until(lambda: _reads_are(redis_client, 1), what="one blocked read")
            # a parked queue wakes on its entry; the others stay parked
            await redis_client.xadd(targets[17].stream, ce.to_record(event(1)))
            await sink.until(1, timeout=5)
            assert deliveries.idle.parked() >= 29
            await until(lambda: deliveries.idle.parked() == 30, what="parked again once idle")
            for t in (targets[3], targets[29]):  # parked after the read blocked: unblocked
                await redis_client.xadd(t.stream, ce.to_record(event(int(t.stream[-1]) + 10)))
            await sink.until(3, timeout=5)
            assert sorted(sink.ids()) == ["e1", "e13", "e19"]
        finally:
            await deliveries.close(drain_timeout=1)


async def _reads_are(client: redis.asyncio.Redis, count: int) -> bool:
    return await blocked_reads(client) == count


async def test_queues_of_two_slots_park_in_two_reads(redis_client, sender) -> None:
    deliveries = Deliveries(Queues(redis_client), sender, consumer="c1", settings=SETTINGS)
    with RecordingSink() as sink:
        a = [target(f"t{i}", sink.url, tag="a") for i in range(3)]
        b = [target(f"t{i}", sink.url, tag="b") for i in range(3)]
        assert idling.slot_of(a[0].stream) != idling.slot_of(b[0].stream)
        try:
            deliveries.sync(a + b)
            await until(lambda: deliveries.idle.parked() == 6, what="every queue parked")
            await until(lambda: _reads_are(redis_client, 2), what="one blocked read per slot")
            await redis_client.xadd(b[1].stream, ce.to_record(event(1)))
            await redis_client.xadd(a[2].stream, ce.to_record(event(2)))
            await sink.until(2, timeout=5)
        finally:
            await deliveries.close(drain_timeout=1)


async def test_a_parked_queue_gets_its_retry(redis_client, sender) -> None:
    deliveries = Deliveries(Queues(redis_client), sender, consumer="c1", settings=SETTINGS)
    answers = iter([Answer(503), Answer(200)])
    with RecordingSink(lambda _r, _n: next(answers)) as sink:
        t = target("r", sink.url, policy=DeliveryPolicy(retry=1, backoff_delay=4.0, timeout=1.0))
        other = target("idle", sink.url)
        try:
            deliveries.sync([t, other])
            await until(lambda: deliveries.idle.parked() == 2, what="both queues parked")
            await redis_client.xadd(t.stream, ce.to_record(event(1)))
            await sink.until(1, timeout=5)
            # the retry is due after the queue went idle (its own 2 s read) and parked
            await until(lambda: deliveries.idle.parked() == 2, what="parked while its retry waits")
            await sink.until(2, timeout=10)
            assert sink.ids() == ["e1", "e1"]
            await until(lambda: _length_is(redis_client, t.stream, 0), what="acknowledged")
        finally:
            await deliveries.close(drain_timeout=1)


async def _length_is(client: redis.asyncio.Redis, stream: str, length: int) -> bool:
    return await client.xlen(stream) == length


async def test_a_parked_queue_reclaims_what_a_dead_consumer_held(redis_client, sender) -> None:
    queues = Queues(redis_client)
    settings = DeliverySettings(schedule_poll=0.01, reclaim_idle=0.5, reclaim_margin=0.0)
    deliveries = Deliveries(queues, sender, consumer="c2", settings=settings)
    with RecordingSink() as sink:
        t = target("orphan", sink.url, policy=DeliveryPolicy(timeout=1.0, retry=3))
        try:
            deliveries.sync([t])
            await until(lambda: deliveries.idle.parked() == 1, what="the queue parked")
            # Added and taken by another consumer in one transaction, so the parked read
            # never sees them as new: that consumer then "dies" holding them.
            async with redis_client.pipeline(transaction=True) as pipe:
                for i in range(3):
                    pipe.xadd(t.stream, ce.to_record(event(i)))
                pipe.xreadgroup(GROUP, "dead-consumer", {t.stream: ">"}, count=10)
                await pipe.execute()
            assert int((await redis_client.xpending(t.stream, GROUP))["pending"]) == 3
            # at least once: an attempt that timed out on a loaded machine is retried
            await until(lambda: set(sink.ids()) == {"e0", "e1", "e2"}, timeout=30,
                        what="every reclaimed entry delivered")
        finally:
            await deliveries.close(drain_timeout=1)


async def test_a_stopped_and_deleted_queue_leaves_the_others_parked_and_served(redis_client, sender) -> None:
    queues = Queues(redis_client)
    deliveries = Deliveries(queues, sender, consumer="c1", settings=SETTINGS)
    with RecordingSink() as sink:
        kept, gone = target("kept", sink.url), target("gone", sink.url)
        try:
            deliveries.sync([kept, gone])
            await until(lambda: deliveries.idle.parked() == 2, what="both queues parked")
            deliveries.sync([kept])
            await queues.delete([gone.stream])  # unblocks the shared read with an error
            await until(lambda: deliveries.idle.parked() == 1, what="the kept queue parked")
            await redis_client.xadd(kept.stream, ce.to_record(event(1)))
            await sink.until(1, timeout=5)
            assert await redis_client.exists(gone.stream) == 0
        finally:
            await deliveries.close(drain_timeout=1)


async def test_a_parked_queue_that_lost_its_subscriber_holds_its_entries(redis_client, sender) -> None:
    deliveries = Deliveries(Queues(redis_client), sender, consumer="c1", settings=SETTINGS)
    with RecordingSink() as sink:
        t = target("held", sink.url)
        try:
            deliveries.sync([t])
            await until(lambda: deliveries.idle.parked() == 1, what="the queue parked")
            deliveries.sync([dataclasses.replace(t, subscriber_uri=None)])  # swapped in place
            await redis_client.xadd(t.stream, ce.to_record(event(1)))
            await until(lambda: _pending_is(redis_client, t.stream, 1), what="read and held")
            deliveries.sync([t])  # the subscriber resolves again
            await sink.until(1, timeout=10)
            assert sink.ids() == ["e1"]
            await until(lambda: _length_is(redis_client, t.stream, 0), what="acknowledged")
        finally:
            await deliveries.close(drain_timeout=1)


async def _pending_is(client: redis.asyncio.Redis, stream: str, count: int) -> bool:
    return int((await client.xpending(stream, GROUP))["pending"]) == count


async def test_queues_starting_together_share_their_first_commands_and_connections(
        redis_client, valkey_url, sender) -> None:
    """Two hundred queues starting at once create their groups in one pipeline and have
    their pending entries read in one XREADGROUP, so they open a few connections, not one
    or two each (1,001 Triggers held 1,328); what their consumer held before is delivered."""
    observer = redis.asyncio.Redis.from_url(valkey_url, single_connection_client=True)
    deliveries = Deliveries(Queues(redis_client), sender, consumer="c1", settings=SETTINGS)
    with RecordingSink() as sink:
        targets = [target(f"t{i}", sink.url) for i in range(200)]
        for t in targets[::50]:  # held by this consumer when it was killed: pending under c1
            await redis_client.xgroup_create(t.stream, GROUP, id="0", mkstream=True)
            for i in range(2):
                await redis_client.xadd(t.stream, ce.to_record(event(int(t.stream.split("t")[-1]) * 10 + i)))
            await redis_client.xreadgroup(GROUP, "c1", {t.stream: ">"})
        before = len(await observer.client_list(_type="normal"))
        try:
            deliveries.sync(targets)
            await sink.until(8, timeout=10)
            assert sorted(sink.ids()) == sorted(f"e{n * 10 + i}" for n in (0, 50, 100, 150) for i in range(2))
            await until(lambda: deliveries.idle.parked() == 200, what="every queue parked")
            opened = len(await observer.client_list(_type="normal")) - before
            assert opened <= 8, f"{opened} connections opened by 200 queues starting"
        finally:
            await deliveries.close(drain_timeout=1)
            await observer.aclose()


async def test_one_script_reclaims_the_stale_entries_of_many_queues(redis_client) -> None:
    queues = Queues(redis_client)
    streams = [f"q:{{b}}:r{i}" for i in range(4)]
    for i, stream in enumerate(streams):
        await queues.ensure_group(stream)
        if i in (1, 3):  # a dead consumer holds two entries of these; the others hold none
            for n in range(2):
                await redis_client.xadd(stream, ce.to_record(event(i * 10 + n)))
            await redis_client.xreadgroup(GROUP, "dead", {stream: ">"})
    await redis_client.xadd(streams[2], ce.to_record(event(20)))  # new, never read: not pending
    claimed = await queues.reclaim_streams([(s, 0, 10) for s in streams], "c1")
    assert sorted(claimed) == [streams[1], streams[3]]
    assert [ce.from_record(f).id for _, f in claimed[streams[3]]] == ["e30", "e31"]
    pending = await redis_client.xpending_range(streams[1], GROUP, "-", "+", 10)
    assert {p["consumer"] for p in pending} == {b"c1"}
    # with a min idle time they have not reached, nothing moves
    assert await queues.reclaim_streams([(s, 60_000, 10) for s in streams], "c2") == {}
