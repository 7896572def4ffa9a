"""The operations behind `ripple describe`, `ripple dlq` and the console, on a real Valkey:
delivery stats read from the store, and the dead-letter store found by scope."""

from __future__ import annotations

import json
import threading
import time

import pytest

from channels import deadletters, locations
from channels.dispatching import Target
from channels.policies import DeliveryPolicy
from channels.queues import GROUP, Queues
from controllers.platforms.local.operations import Operations
from ripple import cloudevents as ce
from ripple import errors, metrics, queued, resp
from ripple.api import dead_letter_bounds, registry
from ripple.settings import DeadLetterSettings
from tests.integration.test_dead_letter_store import BOUNDS, engine, event, stored, target  # noqa: F401
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import until

pytestmark = pytest.mark.integration


def trigger(name: str, broker: str = "b", **annotations: str) -> dict:
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
            "metadata": {"name": name, "namespace": "ns", "annotations": annotations},
            "spec": {"broker": broker, "subscriber": {"uri": "http://127.0.0.1:9/"}}}


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


class RoundTrips:
    """Counts the requests a client sends to the store: one per command, one per pipeline,
    on redis-py's connections and on the lean ones (`ripple.resp`) alike."""

    def __init__(self, client, monkeypatch) -> None:
        self.count = 0
        cls = client.connection_pool.connection_class
        send = cls.send_packed_command

        async def counted(conn, command, check_health=True):
            self.count += 1
            return await send(conn, command, check_health)
        monkeypatch.setattr(cls, "send_packed_command", counted)
        for name in ("execute", "execute_many"):
            monkeypatch.setattr(resp.Pool, name, self._counting(getattr(resp.Pool, name)))

    def _counting(self, method):
        async def counted(pool, *args):
            self.count += 1
            return await method(pool, *args)
        return counted

    def since(self, before: int) -> int:
        return self.count - before


async def bury(redis_client, name: str, n: int) -> None:
    """`n` dead letters in Trigger `name`'s store, through the engine's own burying
    transaction (`Queues.bury`, which counts them in the failures hash)."""
    where = locations.of_trigger("ns", "b", name)
    queues = Queues(redis_client)
    for i in range(n):
        entry_id = await redis_client.xadd(where.stream, ce.to_record(event(i)))
        record = deadletters.entry(ce.to_record(event(i)), errors={"knativeerrorcode": "400"},
                                   reason="refused", attempts=1, target=where.key)
        await queues.bury(where.stream, entry_id, deadletters.of(where, BOUNDS), record,
                          last_error=b'{"code":400}', now=time.time())


@pytest.mark.parametrize("triggers, holding", [(5, 1), (300, 40)])
async def test_listing_many_targets_takes_a_bounded_number_of_round_trips(
        redis_client, ops, monkeypatch, triggers, holding) -> None:
    """However many Triggers and dead-letter stores, `ripple dlq list` (the store's
    listing), the console's (the cache's) and the console's choice of targets each take the
    same few round trips."""
    for i in range(triggers):
        await ops.store.create(trigger(f"t{i}"))
    for i in range(holding):
        await bury(redis_client, f"t{i}", 2)
    cache = Operations(redis_client, ops.store, DeadLetterSettings(),
                       cache=lambda kind, ns: listed[kind], generation=lambda: 1)
    listed = {k: await ops.store.list(registry.by_name(k), "ns")
              for k in map(str, queued.KINDS)}
    trips = RoundTrips(redis_client, monkeypatch)

    before = trips.count
    items = await ops.entries("ns", None)
    assert len(items) == 2 * holding
    assert trips.since(before) == len(listed) + 2  # the target kinds listed from the store; counters; stores

    before = trips.count
    every = await cache.targets("ns", None, cached=True)  # as the console asks
    page, total = await cache.entries_page("ns", None, limit=10, offset=0, given=every)
    assert (len(page), total) == (min(10, 2 * holding), 2 * holding)
    assert [i["id"] for i in page] == [i["id"] for i in items[:10]]  # the same order as the CLI's
    assert trips.since(before) == 2
    last, _ = await cache.entries_page("ns", None, limit=3, newest=True, given=every)
    assert [i["id"] for i in last] == [i["id"] for i in items[-3:]]  # a resource page's recent ones

    before = trips.count
    assert await cache.held("ns", cached=True) == sorted(f"trigger:t{i}" for i in range(holding))
    assert trips.since(before) == 1

    def names(found):
        return sorted(f.location.key.name for f in found)
    assert names(await cache.targets("ns", "broker:b", cached=True)) == names(await ops.targets("ns", "broker:b"))

    before = trips.count
    wanted = [f"trigger:t{i}" for i in range(0, triggers, 3)]
    figures = await cache.edge_stats("ns", None, wanted)
    assert [f["target"] for f in figures] == wanted
    assert trips.since(before) == 1  # one pipeline of every shown target's figures


async def test_a_store_emptied_stays_a_candidate_and_lists_nothing(redis_client, ops) -> None:
    assert await ops.entries_page("ns", "broker:b") == ([], 0)  # no targets at all
    assert await ops.held("ns") == []
    await ops.store.create(trigger("t"))
    await bury(redis_client, "t", 1)
    assert await ops.held("ns") == ["trigger:t"]
    assert await ops.purge("ns", "trigger:t", None) == 1
    assert await ops.held("ns") == ["trigger:t"]  # held some once: still offered
    assert await ops.entries_page("ns", None) == ([], 0)


async def test_the_apis_list_and_show_take_the_targets_from_the_cache(redis_client, ops, monkeypatch) -> None:
    """`GET .../deadletters` and `GET .../deadletters/{id}` (`ripple dlq list`, `dlq show`)
    list no resources from the store: the informer's cache names the targets."""
    from controllers.platforms.local import apiserver
    from controllers.platforms.local.operations import router
    from tests.unit.test_apiserver import call

    for name in ("t1", "t2"):
        await ops.store.create(trigger(name))
        await bury(redis_client, name, 2)
    listed = {k: await ops.store.list(registry.by_name(k), "ns")
              for k in map(str, queued.KINDS)}
    asked: list[str] = []

    def cache(kind: str, namespace: str | None) -> list[dict]:
        asked.append(kind)
        return listed[kind]

    async def no_listing(*_a, **_k):
        raise AssertionError("a resource listing from the store")
    cached = Operations(redis_client, ops.store, DeadLetterSettings(), cache=cache, generation=lambda: 1)
    app = apiserver.make_api(ops.store, operations=router(cached))
    monkeypatch.setattr(ops.store, "list", no_listing)
    base = "/apis/ripple.dev/v1/namespaces/ns/deadletters"
    items = json.loads((await call(app, "GET", base)).body)["items"]
    assert sorted((i["target"], i["event"]["id"]) for i in items) == [
        ("trigger:t1", "e0"), ("trigger:t1", "e1"), ("trigger:t2", "e0"), ("trigger:t2", "e1")]
    assert "Trigger" in asked
    shown = json.loads((await call(app, "GET", base + "/e1")).body)["items"]
    assert [i["target"] for i in shown] == ["trigger:t1", "trigger:t2"]
    assert json.loads((await call(app, "GET", base + "/" + items[0]["id"] + "?target=trigger:t1")).body
                      )["items"][0]["event"]["id"] == "e0"
    assert (await call(app, "GET", base + "/nope")).status == 404
