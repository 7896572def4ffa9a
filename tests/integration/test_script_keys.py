"""The data plane's Lua scripts on a real Valkey: every key a script touches is one it
declares in KEYS (Redis Cluster routes a script by its KEYS and refuses undeclared ones in
strict setups), and the retry promoter moves each due entry once.

The keys a script touches are read from Valkey's MONITOR, which shows the commands a
script runs (`lua` clients) after the EVALSHA that declared its keys.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio

from channels import deadletter_scripts, deadletters, locations
from channels import fanout as fanouts
from channels.appending import Appender, Route
from channels.fanout import Fanout
from channels.queues import Queues
from ripple import cloudevents as ce
from ripple import cron, keys
from ripple.api.dead_letter_bounds import Bounds
from ripple.cloudevents import records
from sources.ping.scheduler import PingJob, PingScheduler
from sources.publishing import Publisher

pytestmark = pytest.mark.integration

SINGLE_KEY = {"XADD", "XDEL", "XRANGE", "XACK", "XLEN", "ZADD", "ZREM", "ZSCORE", "ZRANGEBYSCORE",
              "ZRANGEBYLEX", "SET", "GET", "HGET", "HSET", "HDEL", "HINCRBY", "PEXPIRE", "DEL"}
"""Commands the scripts run whose one key is their first argument."""
SUBCOMMAND_KEY = {"XINFO", "XGROUP"}
"""Commands the scripts run whose one key follows a subcommand (XINFO GROUPS, XGROUP SETID)."""

SCHEDULE = keys.broker_schedule("ns", "b")
QUEUE_1 = keys.broker_queue("ns", "b", "t1")
QUEUE_2 = keys.broker_queue("ns", "b", "t2")


def event(i: int) -> ce.CloudEvent:
    attributes = {"specversion": "1.0", "id": f"e{i}", "source": "/src", "type": "t"}
    return ce.CloudEvent(attributes, b"%d" % i)


async def script_accesses(client: redis.asyncio.Redis, action: Callable[[], Awaitable[object]]
                          ) -> list[tuple[set[str], str, str]]:
    """Run `action` under MONITOR; (declared KEYS, command, key) of every command a script ran."""
    marker = f"end-{uuid.uuid4()}"
    found: list[tuple[set[str], str, str]] = []
    async with client.monitor() as monitor:
        await action()
        await client.echo(marker)
        declared: set[str] = set()
        while True:
            seen = await monitor.next_command()
            words = seen["command"].split(" ")
            if seen["client_type"] == "lua":
                if words[0] in SUBCOMMAND_KEY:
                    found.append((declared, words[0], words[2]))
                    continue
                assert words[0] in SINGLE_KEY, f"a command these checks do not know: {words[0]}"
                found.append((declared, words[0], words[1]))
            elif words[0] in ("EVALSHA", "EVAL"):
                declared = set(words[3:3 + int(words[2])])
            elif words[:2] == ["ECHO", marker]:
                return found


def assert_declared(accesses: list[tuple[set[str], str, str]]) -> None:
    assert accesses, "no script ran"
    undeclared = [(command, key) for declared, command, key in accesses if key not in declared]
    assert undeclared == []


async def schedule_two_retries(queues: Queues, client: redis.asyncio.Redis) -> list[bytes]:
    ids = []
    for i, queue in enumerate((QUEUE_1, QUEUE_2)):
        await queues.ensure_group(queue)
        await client.xadd(queue, {**ce.to_record(event(i)), records.RETRIES: b"2"})
        [(entry_id, _)] = await queues.read(queue, "c1", count=10, block_ms=None)
        await queues.schedule_retry(queue, SCHEDULE, entry_id, due=time.time() - 1)
        ids.append(entry_id)
    return ids


async def test_promote_declares_the_streams_it_moves_entries_in(redis_client) -> None:
    queues = Queues(redis_client)
    old = await schedule_two_retries(queues, redis_client)
    moved: list[int] = []

    async def promote() -> None:
        moved.append(await queues.promote(SCHEDULE, time.time()))

    assert_declared(await script_accesses(redis_client, promote))
    assert moved == [2]
    assert await redis_client.zcard(SCHEDULE) == 0
    for queue, old_id in zip((QUEUE_1, QUEUE_2), old):
        [(new_id, fields)] = await redis_client.xrange(queue)
        assert new_id != old_id and fields[records.RETRIES] == b"3"
        assert ce.from_record(fields).data is not None


async def test_racing_promoters_move_each_entry_once(redis_client, valkey_url: str) -> None:
    others = [redis.asyncio.Redis.from_url(valkey_url) for _ in range(3)]
    try:
        await schedule_two_retries(Queues(redis_client), redis_client)
        now = time.time()
        moved = await asyncio.gather(*(Queues(c).promote(SCHEDULE, now) for c in others))
        assert sum(moved) == 2
        assert [await redis_client.xlen(q) for q in (QUEUE_1, QUEUE_2)] == [1, 1]
    finally:
        await asyncio.gather(*(c.aclose() for c in others))


async def test_an_entry_deleted_before_its_retry_is_unscheduled(redis_client) -> None:
    queues = Queues(redis_client)
    await schedule_two_retries(queues, redis_client)
    await redis_client.delete(QUEUE_1)  # its Trigger was deleted
    assert await queues.promote(SCHEDULE, time.time()) == 1
    assert await redis_client.exists(QUEUE_1) == 0 and await redis_client.zcard(SCHEDULE) == 0


async def test_the_appenders_script_declares_its_stream(redis_client) -> None:
    appender = Appender(redis_client, max_backlog=100)

    async def append() -> None:
        await asyncio.gather(*(appender.append(keys.broker_log("ns", n), ce.to_record(event(1)))
                               for n in ("b", "c")))

    assert_declared(await script_accesses(redis_client, append))


async def test_the_routed_append_declares_the_log_and_the_queues_in_one_slot(redis_client) -> None:
    log = keys.broker_log("ns", "b")
    fanout = Fanout(redis_client, log, lambda _a: [], lambda name: name, consumer="c1")
    await fanout._ensure_group()  # caught up: the script reads and moves the group
    appender = Appender(redis_client, max_backlog=100)
    appender.route({log: Route(lambda _a: ["t1", "t2"], lambda n: keys.broker_queue("ns", "b", n))},
                   owner=keys.BROKERS)

    async def append() -> None:
        await asyncio.gather(*(appender.append(log, ce.to_record(event(i))) for i in range(3)))

    accesses = await script_accesses(redis_client, append)
    assert_declared(accesses)
    assert {command for _, command, _ in accesses} >= {"XINFO", "XADD", "XGROUP", "XLEN"}
    assert {keys.hash_tag(key) for _, _, key in accesses} == {"ns/b"}
    assert [await redis_client.xlen(q) for q in (QUEUE_1, QUEUE_2)] == [3, 3]


async def test_the_fanouts_script_declares_the_log_and_the_queues(redis_client) -> None:
    log = keys.broker_log("ns", "b")
    fanout = Fanout(redis_client, log, lambda _a: ["t1", "t2"],
                    lambda name: keys.broker_queue("ns", "b", name), consumer="c1")
    await fanout._ensure_group()
    for i in range(3):
        await redis_client.xadd(log, ce.to_record(event(i)))

    async def fan_out() -> None:
        await fanout._round(chores=False)  # this consumer's pending entries: none
        await fanout._round(chores=False)  # the new ones

    assert_declared(await script_accesses(redis_client, fan_out))
    assert [await redis_client.xlen(q) for q in (QUEUE_1, QUEUE_2)] == [3, 3]
    assert (await redis_client.xpending(log, fanouts.GROUP))["pending"] == 0


async def test_the_webhook_publishers_script_declares_its_marker_and_stream(redis_client) -> None:
    publisher = Publisher(redis_client)
    stream = keys.source_queue("GitHubSource", "ns", "gh")
    marker = keys.webhook_delivery("GitHubSource", "ns", "gh", "d1")
    assert_declared(await script_accesses(
        redis_client, lambda: publisher.publish_once(stream, marker, event(1))))
    assert keys.hash_tag(stream) == keys.hash_tag(marker)


async def test_the_ping_claim_declares_its_tick_and_stream(redis_client) -> None:
    job = PingJob(namespace="ns", name="p", schedule=cron.parse("* * * * *"),
                  tick_key=keys.ping_tick("ns", "p"),
                  stream=keys.source_queue("PingSource", "ns", "p"),
                  attributes={"specversion": "1.0", "type": "t", "source": "/s"}, data=None)
    tick = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    scheduler = PingScheduler(redis_client)
    assert_declared(await script_accesses(redis_client, lambda: scheduler.fire(job, tick)))
    assert keys.hash_tag(job.tick_key) == keys.hash_tag(job.stream)


async def test_the_dead_letter_stores_scripts_declare_store_index_queue_and_hash(redis_client) -> None:
    """ADD (the engine's move), TRIM, FIND, INDEX, REDRIVE and PURGE touch only the keys they
    declare, all in the queue's hash tag. ADD runs as an EVAL inside a transaction, which
    MONITOR shows with its body: here it runs by its sha, the same script."""
    where = locations.of_trigger("ns", "b", "t1")
    store, bounds = deadletters.Store(redis_client), Bounds(2, 3600.0)
    queues = Queues(redis_client)
    await queues.ensure_group(where.stream)
    for i in range(3):
        await redis_client.xadd(where.stream, ce.to_record(event(i)))
    entries = await queues.read(where.stream, "c1", count=10, block_ms=None)
    sha = await redis_client.script_load(deadletter_scripts.ADD)

    async def add() -> None:
        for entry_id, fields in entries:
            assert fields is not None
            command = deadletters.adding(deadletters.of(where, bounds), fields, last_error=b"{}",
                                         now=time.time(), queue=(where.stream, entry_id))
            await redis_client.evalsha(sha, *command[2:])

    older = locations.of_trigger("ns", "b", "t2")  # written before the index: INDEX builds it
    await redis_client.xadd(older.dead_letters, ce.to_record(event(9)))

    async def the_rest() -> None:
        await store.find([(older, bounds)], ["e9"])
        [found] = await store.find([(where, bounds)], ["e2"])
        await store.redrive(where, [found[0][0].decode()])
        await store.purge(where, [(await redis_client.xrange(where.dead_letters))[0][0].decode()])
        await store.trim([(older, bounds)], now=time.time() + 7200)

    for action in (add, the_rest):
        accesses = await script_accesses(redis_client, action)
        assert_declared(accesses)
        assert {keys.hash_tag(key) for _, _, key in accesses} == {"ns/b"}
        assert {command for _, command, _ in accesses} >= ({"XADD", "ZADD", "XACK", "HINCRBY"} if action is add
                                                           else {"ZRANGEBYLEX", "XDEL", "ZREM"})
    assert [await redis_client.xlen(k) for k in (where.dead_letters, where.stream, older.dead_letters)] == [0, 1, 0]
