"""Ripple's dead-letter store on a real Valkey: nothing that fails for good is dropped, the
store is bounded by count and age, and a redrive puts events back through the engine."""

from __future__ import annotations

import base64
import json
import logging
import time

import pytest

from channels import deadletters, locations
from channels.deliveries import Deliveries
from channels.dispatching import ReplyRefused, Target
from channels.policies import DeliveryPolicy
from channels.queues import Queues
from channels.sending import HttpSender
from ripple import cloudevents as ce
from ripple import metrics
from ripple.api.dead_letter_bounds import Bounds
from ripple.settings import DeliverySettings
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import until

pytestmark = pytest.mark.integration

FAST = DeliverySettings(schedule_poll=0.01, reclaim_idle=1.0, reclaim_margin=2.0)
BOUNDS = Bounds(max_entries=100, retention=3600.0)


def event(i: int) -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": f"e{i}", "source": "/t", "type": "t"}, b'{"i": %d}' % i)


def target(name: str, url: str | None, policy: DeliveryPolicy, bounds: Bounds = BOUNDS, **kw: object) -> Target:
    where = locations.of_trigger("ns", "b", name)
    return Target(key=where.key, stream=where.stream, schedule=where.schedule, namespace="ns",
                  subscriber_uri=url, policy=policy, labels=metrics.trigger_labels("ns", "b", name),
                  dead_letters=deadletters.of(where, bounds), **kw)  # type: ignore[arg-type]


def engine_of(client, settings: DeliverySettings = FAST) -> tuple[Deliveries, HttpSender]:
    sender = HttpSender()
    return Deliveries(Queues(client), sender, consumer="c1", settings=settings), sender


@pytest.fixture
async def engine(redis_client):
    deliveries, sender = engine_of(redis_client)
    yield deliveries
    await deliveries.close(drain_timeout=1)
    await sender.close()


async def stored(client, t: Target, count: int) -> list[tuple[bytes, dict]]:
    async def there() -> bool:
        return await client.xlen(t.dead_letters.stream) >= count
    await until(there, what=f"{count} entries in {t.dead_letters.stream}")
    return await client.xrange(t.dead_letters.stream)


async def test_retries_exhausted_without_a_sink_go_to_the_store(redis_client, engine) -> None:
    body = b'{"error": "down"}'
    with RecordingSink(lambda r, n: Answer(500, body)) as sub:
        t = target("no-sink", sub.url, DeliveryPolicy(retry=2))
        await redis_client.xadd(t.stream, ce.to_record(event(1), {"x-request-id": "r1"}))
        engine.sync([t])
        [(entry_id, fields)] = await stored(redis_client, t, 1)
        assert len(sub.received) == 3
        view = deadletters.view(entry_id, fields, "trigger:no-sink")
        assert view["event"]["id"] == "e1" and view["event"]["data"] == {"i": 1}
        assert view["event"]["knativeerrorcode"] == "500" and view["code"] == 500
        assert view["event"]["knativeerrordest"] == sub.url == view["destination"]
        assert base64.b64decode(view["event"]["knativeerrordata"]) == body
        assert view["attempts"] == 3 and view["reason"] == "HTTP 500"
        assert json.loads(fields[b"h"]) == {"x-request-id": "r1"}  # kept for a redrive
        assert await redis_client.xlen(t.stream) == 0  # moved, not copied
        last = json.loads(await redis_client.hget(t.dead_letters.failures, "no-sink"))
        assert last["code"] == 500 and last["destination"] == sub.url and last["message"] == "HTTP 500"


async def test_a_failing_dead_letter_sink_leaves_the_original_in_the_store(redis_client, engine) -> None:
    with RecordingSink(lambda r, n: Answer(503)) as sub, RecordingSink(lambda r, n: Answer(500)) as dls:
        t = target("sink-down", sub.url, DeliveryPolicy(retry=1, dead_letter_uri=dls.url))
        await redis_client.xadd(t.stream, ce.to_record(event(2)))
        engine.sync([t])
        [(entry_id, fields)] = await stored(redis_client, t, 1)
        assert len(dls.received) == 2 and dls.received[0].ce["knativeerrorcode"] == "503"
        # the event itself, without the attributes the sink was sent; what it was told is kept
        assert "knativeerrorcode" not in json.loads(fields[b"a"])
        view = deadletters.view(entry_id, fields, "trigger:sink-down")
        assert view["code"] == 503 and view["destination"] == sub.url
        assert view["reason"] == f"the dead-letter sink {dls.url} failed too: HTTP 500"


async def test_a_reply_out_of_hops_goes_to_the_store(redis_client, engine) -> None:
    async def out_of_hops(reply, original, headers) -> None:
        raise ReplyRefused("http://127.0.0.1:8080/ns/b", 400, b"no hops left")

    reply = {"ce-specversion": "1.0", "ce-id": "r", "ce-source": "/s", "ce-type": "reply"}
    with RecordingSink(lambda r, n: Answer(200, b"x", reply)) as sub:
        t = target("hops", sub.url, DeliveryPolicy(retry=3), reply=out_of_hops)
        await redis_client.xadd(t.stream, ce.to_record(event(3)))
        engine.sync([t])
        [(entry_id, fields)] = await stored(redis_client, t, 1)
        view = deadletters.view(entry_id, fields, "trigger:hops")
        assert view["event"]["id"] == "e3" and view["code"] == 400
        assert view["destination"] == "http://127.0.0.1:8080/ns/b"


async def test_the_store_keeps_the_newest_entries_up_to_its_count(redis_client, engine) -> None:
    with RecordingSink(lambda r, n: Answer(400)) as sub:
        t = target("bounded", sub.url, DeliveryPolicy(), Bounds(max_entries=3, retention=3600))
        for i in range(6):
            await redis_client.xadd(t.stream, ce.to_record(event(i)))
        engine.sync([t])
        await until(lambda: len(sub.received) == 6)

        async def settled() -> bool:
            return await redis_client.xlen(t.stream) == 0
        await until(settled)
        ids = [json.loads(f[b"a"])["id"] for _, f in await redis_client.xrange(t.dead_letters.stream)]
        assert len(ids) == 3 and set(ids) <= {f"e{i}" for i in range(6)}


async def test_entries_past_their_retention_are_trimmed_on_read(redis_client, engine) -> None:
    with RecordingSink(lambda r, n: Answer(400)) as sub:
        t = target("aged", sub.url, DeliveryPolicy(), Bounds(max_entries=100, retention=60))
        await redis_client.xadd(t.stream, ce.to_record(event(1)))
        engine.sync([t])
        await stored(redis_client, t, 1)
        store = deadletters.Store(redis_client)
        where = locations.of_trigger("ns", "b", "aged")
        assert len(await store.entries(where, t.dead_letters.bounds)) == 1
        later = time.time() + 61
        assert await store.entries(where, t.dead_letters.bounds, now=later) == []
        assert await redis_client.xlen(t.dead_letters.stream) == 0


async def test_a_redrive_delivers_again_and_empties_the_store(redis_client, engine) -> None:
    healthy = False
    with RecordingSink(lambda r, n: Answer(202 if healthy else 500)) as sub:
        t = target("redrive", sub.url, DeliveryPolicy(retry=1))
        for i in range(3):
            await redis_client.xadd(t.stream, ce.to_record(event(i), {"x-request-id": f"r{i}"}))
        engine.sync([t])
        entries = await stored(redis_client, t, 3)
        healthy = True
        store = deadletters.Store(redis_client)
        where = locations.of_trigger("ns", "b", "redrive")
        moved = await store.redrive(where, [i.decode() for i, _ in entries] + ["1-0"])
        assert sorted(moved) == sorted(i.decode() for i, _ in entries)  # an unknown id is skipped
        assert await redis_client.xlen(t.dead_letters.stream) == 0
        await until(lambda: sum(r.headers.get("ce-id", "").startswith("e") for r in sub.received) == 9)
        redriven = sub.received[6:]
        assert sorted(r.ce["id"] for r in redriven) == ["e0", "e1", "e2"]
        assert all("ce-knativeerrorcode" not in r.headers for r in redriven)
        assert sorted(r.headers["x-request-id"] for r in redriven) == ["r0", "r1", "r2"]

        async def delivered() -> bool:
            return await redis_client.xlen(t.stream) == 0
        await until(delivered)
        assert await redis_client.xlen(t.dead_letters.stream) == 0


async def test_a_redrive_to_another_sink(redis_client, engine) -> None:
    with RecordingSink(lambda r, n: Answer(500)) as sub, RecordingSink() as other:
        t = target("elsewhere", sub.url, DeliveryPolicy())
        await redis_client.xadd(t.stream, ce.to_record(event(1)))
        engine.sync([t])
        [(entry_id, _)] = await stored(redis_client, t, 1)
        store = deadletters.Store(redis_client)
        await store.redrive(locations.of_trigger("ns", "b", "elsewhere"), [entry_id.decode()],
                            other.url + "/fixed")
        got = (await other.until(1))[0]
        assert got.ce["id"] == "e1" and got.path == "/fixed" and len(sub.received) == 1


async def test_a_redriven_event_that_fails_again_comes_back(redis_client, engine) -> None:
    with RecordingSink(lambda r, n: Answer(500)) as sub:
        t = target("again", sub.url, DeliveryPolicy())
        await redis_client.xadd(t.stream, ce.to_record(event(1)))
        engine.sync([t])
        [(first, _)] = await stored(redis_client, t, 1)
        where = locations.of_trigger("ns", "b", "again")
        assert await deadletters.Store(redis_client).redrive(where, [first.decode()]) == [first.decode()]

        async def back() -> bool:
            entries = await redis_client.xrange(t.dead_letters.stream)
            return len(entries) == 1 and entries[0][0] != first
        await until(back)
        assert len(sub.received) == 2


async def test_purge(redis_client, engine) -> None:
    with RecordingSink(lambda r, n: Answer(400)) as sub:
        t = target("purge", sub.url, DeliveryPolicy())
        for i in range(3):
            await redis_client.xadd(t.stream, ce.to_record(event(i)))
        engine.sync([t])
        entries = await stored(redis_client, t, 3)
        store, where = deadletters.Store(redis_client), locations.of_trigger("ns", "b", "purge")
        assert await store.purge(where, [entries[0][0].decode()]) == 1
        assert await store.purge(where) == 2
        assert await redis_client.xlen(t.dead_letters.stream) == 0


async def test_failed_attempts_are_logged_once_per_window(redis_client, caplog) -> None:
    settings = DeliverySettings(schedule_poll=0.01, failure_log_interval=3600)
    deliveries, sender = engine_of(redis_client, settings)
    caplog.set_level(logging.WARNING, logger="channels.dispatching")
    try:
        with RecordingSink(lambda r, n: Answer(500)) as sub:
            t = target("logged", sub.url, DeliveryPolicy(retry=3, backoff_policy="linear", backoff_delay=0.01))
            await redis_client.xadd(t.stream, ce.to_record(event(1)))
            deliveries.sync([t])
            await stored(redis_client, t, 1)
    finally:
        await deliveries.close(drain_timeout=1)
        await sender.close()
    lines = [r for r in caplog.records if r.getMessage().startswith("delivery attempt failed")]
    assert len(lines) == 1  # the first of four failed attempts; the rest held back
    first = lines[0]
    assert (first.code, first.destination, first.attempt) == (500, sub.url, "1/4")
    assert first.next.endswith("Z")  # the next retry's time


async def test_every_failed_attempt_is_logged_at_debug(redis_client, caplog) -> None:
    deliveries, sender = engine_of(redis_client)
    caplog.set_level(logging.DEBUG, logger="channels.dispatching")
    try:
        with RecordingSink(lambda r, n: Answer(500)) as sub:
            t = target("debug", sub.url, DeliveryPolicy(retry=2))
            await redis_client.xadd(t.stream, ce.to_record(event(1)))
            deliveries.sync([t])
            await stored(redis_client, t, 1)
    finally:
        await deliveries.close(drain_timeout=1)
        await sender.close()
    lines = [r for r in caplog.records if r.getMessage().startswith("delivery attempt failed")]
    assert [r.attempt for r in lines] == ["1/3", "2/3", "3/3"]
    assert lines[-1].next == "dead-letter store" and all(r.levelno == logging.DEBUG for r in lines)


async def test_pages_walk_what_was_there_when_they_began(redis_client) -> None:
    where = locations.of_trigger("ns", "b", "paged")
    for i in range(7):
        await redis_client.xadd(where.dead_letters, {b"a": b"{}", b"i": str(i).encode()})
    store = deadletters.Store(redis_client)
    seen = []
    async for page in store.pages(where, BOUNDS, size=3):
        seen.append(len(page))
        await redis_client.xadd(where.dead_letters, {b"a": b"{}"})  # an event that came back
    assert seen == [3, 3, 1]
    assert [p async for p in store.pages(locations.of_trigger("ns", "b", "empty"), BOUNDS)] == []


async def test_a_redrive_of_more_than_a_page_moves_everything_once(redis_client) -> None:
    with RecordingSink(lambda r, n: Answer(400)) as sub:
        t = target("many", sub.url, DeliveryPolicy())
        where = locations.of_trigger("ns", "b", "many")
        for i in range(deadletters.PAGE + 5):
            await redis_client.xadd(t.dead_letters.stream, deadletters.entry(
                ce.to_record(event(i)), errors={"knativeerrorcode": "400"}, reason="HTTP 400",
                attempts=1, target=t.key))
        store = deadletters.Store(redis_client)
        moved = 0
        async for page in store.pages(where, Bounds(max_entries=deadletters.PAGE + 5, retention=3600)):
            moved += len(await store.redrive(where, [i.decode() for i, _ in page]))
        assert moved == deadletters.PAGE + 5 and await redis_client.xlen(t.stream) == moved


async def test_a_deleted_targets_store_and_last_error_are_discarded(redis_client) -> None:
    from channels import queues

    gone, kept = locations.of_trigger("ns", "b", "gone"), locations.of_trigger("ns", "b", "kept")
    for where in (gone, kept):
        await redis_client.xadd(where.dead_letters, {b"a": b"{}"})
        await redis_client.hset(where.failures, where.key.name, b"{}")
    queues.discard(redis_client, [gone.dead_letters], [(gone.failures, gone.key.name)])

    async def discarded() -> bool:
        return not await redis_client.exists(gone.dead_letters) and not await redis_client.hexists(
            gone.failures, "gone")
    await until(discarded)
    assert await redis_client.xlen(kept.dead_letters) == 1 and await redis_client.hexists(kept.failures, "kept")


async def test_an_event_bound_for_a_sink_that_was_removed_is_kept(redis_client, engine) -> None:
    t = target("sink-removed", "http://127.0.0.1:9/", DeliveryPolicy())  # no dead-letter sink now
    dead = ce.to_record(ce.CloudEvent({**event(5).attributes, "knativeerrorcode": "503",
                                       "knativeerrordest": "http://sub/"}, b"x"))
    dead[b"p"] = b"dl"  # it was on its way to the sink when the sink was removed
    await redis_client.xadd(t.stream, dead)
    engine.sync([t])
    [(entry_id, fields)] = await stored(redis_client, t, 1)
    view = deadletters.view(entry_id, fields, "trigger:sink-removed")
    assert view["reason"] == "no dead-letter sink left"
    assert (view["code"], view["destination"]) == (503, "http://sub/")  # the subscriber's failure
    last = json.loads(await redis_client.hget(t.dead_letters.failures, "sink-removed"))
    assert last["message"] == "no dead-letter sink left" and last["destination"] == ""
