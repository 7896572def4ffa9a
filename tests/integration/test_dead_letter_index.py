"""The dead-letter store's index of event ids on a real Valkey: every script that adds to,
trims, redrives or purges a store keeps its index in step (the index's members are exactly
the store's entries, plus the marker of a complete index), and `ripple dlq show`, redrive
and purge by event id read the index, in a bounded number of round trips, instead of
walking the stores."""

from __future__ import annotations

import time

import pytest
import redis.exceptions

from channels import deadletter_scripts as scripts
from channels import deadletters, locations
from channels.locations import Location
from channels.policies import DeliveryPolicy
from channels.queues import GROUP, Queues
from controllers.platforms.local.operations import Operations
from ripple import cloudevents as ce
from ripple import queued, redisclient
from ripple.api.dead_letter_bounds import Bounds
from ripple.api import registry
from ripple.cloudevents import records
from ripple.settings import DeadLetterSettings
from tests.integration.test_dead_letter_store import engine, target  # noqa: F401
from tests.integration.test_operations import RoundTrips, trigger
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import until

pytestmark = pytest.mark.integration

BOUNDS = Bounds(max_entries=100, retention=3600.0)


def event(event_id: str) -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": event_id, "source": "/t", "type": "t"}, b"{}")


def entry(where: Location, event_id: str) -> records.Fields:
    return deadletters.entry(ce.to_record(event(event_id)), errors={"knativeerrorcode": "400"},
                             reason="HTTP 400", attempts=1, target=where.key)


async def bury(client, where: Location, event_ids: list[str], bounds: Bounds = BOUNDS, *,
               now: float | None = None) -> None:
    """Each event through the engine's own move: queue entry -> store (`Queues.bury`)."""
    queues = Queues(client)
    await queues.ensure_group(where.stream)
    for event_id in event_ids:
        await client.xadd(where.stream, ce.to_record(event(event_id)))
        [(entry_id, _)] = await queues.read(where.stream, "c1", count=1, block_ms=None)
        await queues.bury(where.stream, entry_id, deadletters.of(where, bounds), entry(where, event_id),
                          last_error=b"{}", now=time.time() if now is None else now)


async def later_than(client, ms: int) -> bool:
    seconds, micros = await client.time()
    return seconds * 1000 + micros // 1000 > ms


async def assert_in_step(client, where: Location) -> list[tuple[str, str]]:
    """The index holds exactly the store's entries, and is marked complete; returns the
    (event id, store id) of each entry, oldest first. (A test may read a whole store.)"""
    held = [(deadletters.event_id(fields), entry_id.decode())
            for entry_id, fields in await client.xrange(where.dead_letters)]
    members = set(await client.zrange(where.dead_letter_index, 0, -1))
    assert members == {scripts.COMPLETE} | {scripts.index_member(e.encode(), s.encode()) for e, s in held}
    return held


async def test_the_engines_move_indexes_the_entry_and_empties_the_queue(redis_client) -> None:
    where = locations.of_trigger("ns", "b", "moved")
    await bury(redis_client, where, ["e1", "e2"])
    assert [e for e, _ in await assert_in_step(redis_client, where)] == ["e1", "e2"]
    assert await redis_client.xlen(where.stream) == 0
    assert (await redis_client.xpending(where.stream, GROUP))["pending"] == 0
    assert await redis_client.hget(where.failures, deadletters.total_field("moved")) == b"2"


async def test_trimming_by_count_keeps_the_index_in_step(redis_client) -> None:
    where = locations.of_trigger("ns", "b", "counted")
    await bury(redis_client, where, [f"e{i}" for i in range(6)], Bounds(3, 3600.0))
    assert [e for e, _ in await assert_in_step(redis_client, where)] == ["e3", "e4", "e5"]


async def test_trimming_by_age_on_add_and_on_read_keeps_the_index_in_step(redis_client) -> None:
    where = locations.of_trigger("ns", "b", "aged")
    bounds = Bounds(100, 60.0)
    old = f"{int((time.time() - 120) * 1000)}-0".encode()  # dead-lettered two minutes ago
    await redis_client.xadd(where.dead_letters, entry(where, "old"), id=old)
    await redis_client.zadd(where.dead_letter_index, {scripts.COMPLETE: 0, scripts.index_member(b"old", old): 0})
    await bury(redis_client, where, ["new"], bounds)  # the add trims by age
    assert [e for e, _ in await assert_in_step(redis_client, where)] == ["new"]
    store = deadletters.Store(redis_client)
    assert len(await store.entries(where, bounds)) == 1
    assert await store.entries(where, bounds, now=time.time() + 61) == []  # and every read
    assert await assert_in_step(redis_client, where) == []


async def test_a_bound_lowered_far_is_trimmed_through_in_batches(redis_client) -> None:
    where = locations.of_trigger("ns", "b", "lowered")
    store = deadletters.Store(redis_client)
    many = scripts.TRIM_BATCH + 200
    async with redis_client.pipeline(transaction=False) as pipe:
        for i in range(many):
            pipe.execute_command(*deadletters.adding(deadletters.of(where, Bounds(10_000, 3600.0)),
                                                     entry(where, f"e{i}"), last_error=b"{}", now=time.time()))
        await pipe.execute()
    [(length, first)] = await store.listing([(where, Bounds(10, 3600.0))])
    assert length == 10 and deadletters.event_id(first[0][1]) == f"e{many - 10}"
    assert len(await assert_in_step(redis_client, where)) == 10


async def test_find_by_event_id_or_store_id_across_stores(redis_client) -> None:
    a, b, empty = (locations.of_trigger("ns", "b", n) for n in ("a", "b2", "empty"))
    await bury(redis_client, a, ["dup", "x", "123-0"])
    [(_, x_id)] = [h for h in await assert_in_step(redis_client, a) if h[0] == "x"]
    # A store id is unique within its store only: b's entries, made in the same millisecond,
    # would take the same ids (x's is ms-1). Bury them once the store's clock has moved on.
    last_ms = max(int(store_id.split("-")[0]) for _, store_id in await assert_in_step(redis_client, a))
    await until(lambda: later_than(redis_client, last_ms), what="the store's next millisecond")
    await bury(redis_client, b, ["dup", "dup", "y"])
    store = deadletters.Store(redis_client)
    stores = [(a, BOUNDS), (b, BOUNDS), (empty, BOUNDS)]

    def ids(found):
        return [[deadletters.event_id(fields) for _, fields in entries] for entries in found]

    assert ids(await store.find(stores, ["dup"])) == [["dup"], ["dup", "dup"], []]
    assert ids(await store.find(stores, [x_id])) == [["x"], [], []]  # a store id names one entry
    assert ids(await store.find(stores, ["123-0"])) == [["123-0"], [], []]  # an event id shaped like one
    assert ids(await store.find(stores, ["y", "x", "nope", "123"])) == [["x"], ["y"], []]
    assert ids(await store.find(stores, ["d"])) == [[], [], []]  # not a prefix match


async def test_a_store_written_before_its_index_is_indexed_on_first_look_up(redis_client) -> None:
    where = locations.of_trigger("ns", "b", "older")
    for i in range(5):  # as an older Ripple wrote them: no index
        await redis_client.xadd(where.dead_letters, entry(where, f"e{i}"))
    store = deadletters.Store(redis_client)
    await bury(redis_client, where, ["e5"])  # the index now holds the newest only, unmarked
    assert not await redis_client.zscore(where.dead_letter_index, scripts.COMPLETE)
    [found] = await store.find([(where, BOUNDS)], ["e1"])
    assert [deadletters.event_id(f) for _, f in found] == ["e1"]
    assert len(await assert_in_step(redis_client, where)) == 6


async def test_store_and_index_survive_a_server_that_lost_its_scripts(redis_client) -> None:
    where = locations.of_trigger("ns", "b", "flushed")
    await bury(redis_client, where, ["e1"])
    store = deadletters.Store(redis_client)
    await redis_client.script_flush()  # a restarted or failed-over server
    [(length, _)] = await store.listing([(where, BOUNDS)])
    [found] = await store.find([(where, BOUNDS)], ["e1"])
    assert length == 1 and len(found) == 1
    await redis_client.script_flush()
    await bury(redis_client, where, ["e2"])  # the move is an EVAL: no NOSCRIPT inside MULTI
    assert [e for e, _ in await assert_in_step(redis_client, where)] == ["e1", "e2"]


async def test_the_move_is_an_eval_in_a_lean_transaction(redis_client, monkeypatch) -> None:
    """EVAL (and EVALSHA) go through `LeanPipeline`'s own path, not redis-py's."""
    assert {"EVAL", "EVALSHA"} <= redisclient.PIPELINED

    async def refused(*_a, **_k):
        raise AssertionError("redis-py's pipeline path was taken")
    where = locations.of_trigger("ns", "b", "lean")
    await redis_client.xadd(where.stream, ce.to_record(event("e1")))
    queues = Queues(redis_client)
    await queues.ensure_group(where.stream)  # coalesced XGROUP CREATEs: a redis-py pipeline
    [(entry_id, _)] = await queues.read(where.stream, "c1", count=1, block_ms=None)
    monkeypatch.setattr(redis.asyncio.client.Pipeline, "execute", refused)
    await queues.bury(where.stream, entry_id, deadletters.of(where, BOUNDS), entry(where, "e1"),
                      last_error=b"{}", now=time.time())
    async with redis_client.pipeline(transaction=True) as pipe:
        pipe.execute_command("EVAL", "return redis.call('XLEN', KEYS[1])", 1, where.dead_letters)
        pipe.execute_command("EVAL", "return redis.error_reply('refused')", 0)
        with pytest.raises(redis.exceptions.ResponseError, match="refused"):
            await pipe.execute()
    monkeypatch.undo()
    assert [e for e, _ in await assert_in_step(redis_client, where)] == ["e1"]


async def test_purge_by_store_id_and_all_leave_no_index_behind(redis_client) -> None:
    where = locations.of_trigger("ns", "b", "purged")
    await bury(redis_client, where, ["e1", "e2", "e3"])
    store = deadletters.Store(redis_client)
    first = (await assert_in_step(redis_client, where))[0][1]
    assert await store.purge(where, [first, "1-0", "not-an-id"]) == 1
    assert [e for e, _ in await assert_in_step(redis_client, where)] == ["e2", "e3"]
    assert await store.purge(where) == 2
    assert not await redis_client.exists(where.dead_letters, where.dead_letter_index)


async def test_redrive_by_event_id_delivers_it_once_and_unindexes_it(redis_client, ops, engine) -> None:
    healthy = False
    with RecordingSink(lambda r, n: Answer(202 if healthy else 400)) as sub:
        await ops.store.create(trigger("redriven"))
        t = target("redriven", sub.url, DeliveryPolicy())
        where = locations.of_trigger("ns", "b", "redriven")
        for event_id in ("keep-me", "send-me"):
            await redis_client.xadd(t.stream, ce.to_record(event(event_id)))
        engine.sync([t])

        async def both() -> bool:
            return await redis_client.xlen(where.dead_letters) == 2
        await until(both, what="two dead letters")
        [shown] = await ops.find("ns", None, "send-me")
        assert shown["target"] == "trigger:redriven" and shown["event"]["id"] == "send-me"
        healthy = True
        result = await ops.redrive("ns", None, ["send-me", "nope"], None)
        assert result == {"redriven": [{"id": shown["id"], "target": "trigger:redriven"}], "missing": ["nope"]}
        assert [e for e, _ in await assert_in_step(redis_client, where)] == ["keep-me"]
        await until(lambda: [r.ce["id"] for r in sub.received[2:]] == ["send-me"], what="the redrive")
        assert await ops.find("ns", None, "send-me") == []
        assert await ops.purge("ns", "trigger:redriven", ["keep-me"]) == 1
        assert await assert_in_step(redis_client, where) == []


@pytest.mark.parametrize("cached", [False, True])
async def test_find_by_event_id_takes_a_bounded_number_of_round_trips(
        redis_client, ops, monkeypatch, cached) -> None:
    for i in range(200):
        await ops.store.create(trigger(f"t{i}"))
    for i in range(30):
        await bury(redis_client, locations.of_trigger("ns", "b", f"t{i}"), [f"t{i}-a", f"t{i}-b"])
    listed = {k: await ops.store.list(registry.by_name(k), "ns")
              for k in map(str, queued.KINDS)}
    if cached:
        ops = Operations(redis_client, ops.store, DeadLetterSettings(),
                         cache=lambda kind, ns: listed[kind], generation=lambda: 1)
    await ops.find("ns", None, "warm", cached=cached)  # the scripts loaded once
    trips = RoundTrips(redis_client, monkeypatch)
    [found] = await ops.find("ns", None, "t17-b", cached=cached)
    assert found["target"] == "trigger:t17" and found["event"]["id"] == "t17-b"
    # the target kinds listed from the store (not with the cache); the counters; one FIND each
    assert trips.count == (0 if cached else len(listed)) + 2
