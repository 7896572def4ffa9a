"""The operations behind `ripple describe`, `ripple dlq` and the console, on a real Valkey:
delivery stats read from the store, and the dead-letter store found by scope."""

from __future__ import annotations

import threading

import pytest

from channels import deadletters, locations
from channels.dispatching import Target
from channels.policies import DeliveryPolicy
from channels.queues import GROUP
from controllers.platforms.local.operations import Operations
from ripple import cloudevents as ce
from ripple import errors, metrics
from ripple.api import dead_letter_bounds
from ripple.settings import DeadLetterSettings
from ripple.store import RedisResourceStore
from tests.integration.test_dead_letter_store import engine, event, stored, target  # noqa: F401
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import until

pytestmark = pytest.mark.integration


def trigger(name: str, broker: str = "b", **annotations: str) -> dict:
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
            "metadata": {"name": name, "namespace": "ns", "annotations": annotations},
            "spec": {"broker": broker, "subscriber": {"uri": "http://127.0.0.1:9/"}}}


@pytest.fixture
async def ops(redis_client):
    store = RedisResourceStore(redis_client)
    await store.create({"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                        "metadata": {"name": "b", "namespace": "ns"}, "spec": {}})
    return Operations(redis_client, store, DeadLetterSettings())


async def test_stats_of_a_queue_nobody_reads_yet(redis_client, ops) -> None:
    await ops.store.create(trigger("waiting"))
    where = locations.of_trigger("ns", "b", "waiting")
    for i in range(4):
        await redis_client.xadd(where.stream, ce.to_record(event(i)))
    [item] = await ops.stats("ns", "trigger:waiting")
    assert item == {"target": "trigger:waiting", "namespace": "ns", "backlog": 4, "inFlight": 0,
                    "retries": 0, "deadLetters": 0, "deadLetteredTotal": 0, "lastError": None}
    await redis_client.xgroup_create(where.stream, GROUP, id="0")
    [item] = await ops.stats("ns", "trigger:waiting")
    assert (item["backlog"], item["inFlight"]) == (4, 0)


async def test_stats_count_in_flight_retries_and_dead_letters(redis_client, ops, engine) -> None:
    release = threading.Event()

    def behaviour(request, n):
        if request.ce["id"] == "e0":
            release.wait(30)  # in flight until the test is done
            return Answer(202)
        return Answer(503 if request.ce["id"] == "e1" else 400)

    await ops.store.create(trigger("busy"))
    with RecordingSink(behaviour) as sub:
        policy = DeliveryPolicy(retry=5, backoff_policy="linear", backoff_delay=600)
        t: Target = target("busy", sub.url, policy)
        for i in range(3):  # e0 hangs, e1 waits for a retry in ten minutes, e2 is refused for good
            await redis_client.xadd(t.stream, ce.to_record(event(i)))
        engine.sync([t])
        await stored(redis_client, t, 1)

        async def settled() -> bool:
            [item] = await ops.stats("ns", "trigger:busy")
            return (item["inFlight"], item["retries"]) == (1, 1)
        await until(settled)
        [item] = await ops.stats("ns", "broker:b")
        assert (item["backlog"], item["deadLetters"], item["deadLetteredTotal"]) == (0, 1, 1)
        assert item["lastError"]["code"] == 400 and item["lastError"]["destination"] == sub.url
        release.set()


async def test_scopes(redis_client, ops) -> None:
    await ops.store.create(trigger("t1"))
    await ops.store.create(trigger("t2", broker="other"))
    assert {f.location.key.name for f in await ops.targets("ns", None)} == {"t1", "t2"}
    assert [f.location.key.name for f in await ops.targets("ns", "broker:b")] == ["t1"]
    assert [f.location.key.name for f in await ops.targets("ns", "Trigger:t2")] == ["t2"]
    with pytest.raises(errors.NotFound):
        await ops.targets("ns", "trigger:nope")
    with pytest.raises(errors.NotFound):
        await ops.targets("ns", "broker:nope")
    with pytest.raises(errors.Invalid, match="must be KIND:NAME"):
        await ops.targets("ns", "t1")
    with pytest.raises(errors.Invalid, match="the kind must be one of"):
        await ops.targets("ns", "service:t1")


async def test_a_resource_annotation_bounds_its_store(redis_client, ops) -> None:
    await ops.store.create(trigger("short", **{dead_letter_bounds.MAX_ENTRIES: "2",
                                               dead_letter_bounds.RETENTION: "1h"}))
    [found] = await ops.targets("ns", "trigger:short")
    assert found.bounds == dead_letter_bounds.Bounds(2, 3600.0)


async def test_list_show_redrive_purge_by_scope(redis_client, ops, engine) -> None:
    await ops.store.create(trigger("a"))
    await ops.store.create(trigger("b2"))
    with RecordingSink(lambda r, n: Answer(400)) as sub:
        ta, tb = target("a", sub.url, DeliveryPolicy()), target("b2", sub.url, DeliveryPolicy())
        await redis_client.xadd(ta.stream, ce.to_record(event(1)))
        await redis_client.xadd(tb.stream, ce.to_record(event(2)))
        engine.sync([ta, tb])
        await stored(redis_client, ta, 1)
        await stored(redis_client, tb, 1)
        items = await ops.entries("ns", None)
        assert sorted(i["target"] for i in items) == ["trigger:a", "trigger:b2"]
        assert [i["event"]["id"] for i in await ops.entries("ns", "trigger:a")] == ["e1"]
        [shown] = await ops.find("ns", None, "e2")  # by event id
        assert shown["target"] == "trigger:b2"
        result = await ops.redrive("ns", None, ["e1", "nope"], None)
        assert [r["target"] for r in result["redriven"]] == ["trigger:a"] and result["missing"] == ["nope"]
        await until(lambda: len(sub.received) == 3)
        await stored(redis_client, ta, 1)  # refused again: back in the store
        assert await ops.purge("ns", "broker:b", None) == 2
        assert await ops.entries("ns", None) == []


async def test_a_subscriptions_store_by_channel_scope(redis_client, ops, engine) -> None:
    store = ops.store
    await store.create({"apiVersion": "messaging.knative.dev/v1", "kind": "Channel",
                        "metadata": {"name": "ch", "namespace": "ns"}, "spec": {}})
    await store.create({"apiVersion": "messaging.knative.dev/v1", "kind": "Subscription",
                        "metadata": {"name": "sub", "namespace": "ns"},
                        "spec": {"channel": {"apiVersion": "messaging.knative.dev/v1", "kind": "Channel",
                                             "name": "ch"}, "subscriber": {"uri": "http://x/"}}})
    [found] = await ops.targets("ns", "channel:ch")
    assert found.location == locations.of_subscription("ns", "ns", "ch", "sub")
    with RecordingSink(lambda r, n: Answer(410)) as sub:
        where = found.location
        t = Target(key=where.key, stream=where.stream, schedule=where.schedule, namespace="ns",
              subscriber_uri=sub.url, policy=DeliveryPolicy(), labels=metrics.subscription_labels("ns", "ch", "sub"),
              dead_letters=deadletters.of(where, found.bounds))
        await redis_client.xadd(t.stream, ce.to_record(event(9)))
        engine.sync([t])
        await stored(redis_client, t, 1)
    [item] = await ops.entries("ns", "subscription:sub")
    assert item["target"] == "subscription:sub" and item["code"] == 410
    [figures] = await ops.stats("ns", "channel:ch")
    assert figures["deadLetters"] == 1 and figures["lastError"]["code"] == 410
