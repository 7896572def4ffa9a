"""Trace records and log retention on a real Valkey: the tracer's flush writes each hop to
its event's field in the minute's bucket, bounded and with a TTL, and the fan-out trims a log by age and count
behind itself, keeping the retention window for replay."""

from __future__ import annotations

import json
import time

import pytest

from ripple import cloudevents as ce
from ripple import keys
from ripple.cloudevents import records
from ripple.settings import TraceSettings

from channels import tracing
from channels.identities import Kind, TargetKey
from channels.fanout import GROUP, Fanout
from tests.support.waiting import until

pytestmark = pytest.mark.integration


def event(i: int) -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": f"e{i}", "source": "/src", "type": "t"}, b"{}")


async def test_hops_are_written_bounded_with_a_ttl(redis_client) -> None:
    tracer = tracing.Tracer(redis_client, TraceSettings(ttl=60.0, max_hops=3), worker="w0")
    for n in range(5):
        tracer.attempt(TargetKey(Kind.TRIGGER, "ns", "t"), event(1), "subscriber", "http://x/", n, 503, None, "retry",
                       0.1, None, time.time(), 0.01)
    tracer.accepted(keys.broker_log("ns", "b"), b"1-0", records.RecordAttributes(ce.to_record(event(2))),
                    ["t"])
    await until(lambda: tracing.read(redis_client, "e2"), what="the flush")
    hops = await tracing.read(redis_client, "e1")
    assert [h["attempt"] for h in hops] == [3, 4, 5]  # the newest max_hops
    assert hops[0]["worker"] == "w0" and hops[0]["delay"] == 0.1
    [bucket] = await redis_client.zrange(keys.trace_buckets(keys.trace_shard("e1")), 0, -1)
    assert 60_000 < await redis_client.pttl(bucket) <= 120_000  # the TTL past the bucket's minute
    tracer.attempt(TargetKey(Kind.TRIGGER, "ns", "t"), event(3), "subscriber", "http://u:p@x/", 0, None,
                   "refused\nline two", "retry", 0.2, None, time.time(), 0.01)
    await until(lambda: tracing.read(redis_client, "e3"), what="the flush")
    [failed] = await tracing.read(redis_client, "e3")
    assert failed["error"] == "refused\nline two" and failed["status"] is None
    assert failed["url"] == "http://x/"  # sanitised, as knativeerrordest
    [accepted] = await tracing.read(redis_client, "e2")
    assert accepted["log"] == "broker:ns/b" and accepted["matched"] == ["t"] and accepted["entry"] == "1-0"
    await tracer.close()


async def test_a_flush_loads_its_script_on_a_server_that_lost_it(redis_client) -> None:
    tracer = tracing.Tracer(redis_client, TraceSettings(), worker="w0")
    await redis_client.script_flush()
    for i in range(40):  # several shards, one EVALSHA each
        tracer.attempt(TargetKey(Kind.TRIGGER, "ns", "t"), event(i), "subscriber", "http://x/", 0, 200, None, "ack",
                       0.0, None, time.time(), 0.01)
    await tracer.flush()
    assert len({keys.trace_shard(f"e{i}") for i in range(40)}) > 1
    for i in range(40):
        [hop] = await tracing.read(redis_client, f"e{i}")
        assert hop["outcome"] == "delivered"
    await tracer.close()


def attempt(tracer: tracing.Tracer, event_id: str, n: int) -> None:
    tracer.attempt(TargetKey(Kind.TRIGGER, "ns", "t"),
                   ce.CloudEvent({"specversion": "1.0", "id": event_id, "source": "/s", "type": "t"}, b"{}"),
                   "subscriber", "http://x/", n, 503, None, "retry", 0.1, None, time.time(), 0.01)


@pytest.mark.parametrize("event_id", ["plain", "two\nlines", '"quoted"', "x\x1ey"])
async def test_hops_of_one_id_add_up_across_flushes_and_minutes(redis_client, monkeypatch, event_id) -> None:
    tracer = tracing.Tracer(redis_client, TraceSettings(ttl=600.0, max_hops=100), worker="w0")
    other = tracing.Tracer(redis_client, TraceSettings(ttl=600.0), worker="w1")
    attempt(tracer, event_id, 0)
    attempt(tracer, "neighbour", 0)
    await tracer.flush()
    attempt(other, event_id, 1)  # another process, the same minute: appended to the field
    await other.flush()
    minute = time.time()
    monkeypatch.setattr(tracing.time, "time", lambda: minute + keys.TRACE_BUCKET_SECONDS)
    attempt(tracer, event_id, 2)  # the next minute's bucket
    await tracer.flush()
    hops = await tracing.read(redis_client, event_id)
    assert [(h["attempt"], h["worker"], h["id"]) for h in hops] == [(1, "w0", event_id), (2, "w1", event_id),
                                                                    (3, "w0", event_id)]
    assert len(await redis_client.zrange(keys.trace_buckets(keys.trace_shard(event_id)), 0, -1)) >= 2
    [neighbour] = await tracing.read(redis_client, "neighbour")
    assert neighbour["id"] == "neighbour"


async def test_a_busy_id_keeps_its_newest_hops_within_a_bucket(redis_client) -> None:
    tracer = tracing.Tracer(redis_client, TraceSettings(max_hops=4))
    for flush in range(3):
        for n in range(3):
            attempt(tracer, "busy", flush * 3 + n)
        await tracer.flush()
    assert [h["attempt"] for h in await tracing.read(redis_client, "busy", limit=100)] == [6, 7, 8, 9]


async def test_expired_buckets_leave_the_index(redis_client, monkeypatch) -> None:
    tracer = tracing.Tracer(redis_client, TraceSettings(ttl=1.0))
    attempt(tracer, "old", 0)
    await tracer.flush()
    index = keys.trace_buckets(keys.trace_shard("old"))
    [old_bucket] = await redis_client.zrange(index, 0, -1)
    later = time.time() + 3 * keys.TRACE_BUCKET_SECONDS
    monkeypatch.setattr(tracing.time, "time", lambda: later)
    assert await tracing.read(redis_client, "old") == []  # its bucket expires by then
    attempt(tracer, "old", 1)  # the same shard, a new bucket: the index drops the old one
    await tracer.flush()
    assert old_bucket not in await redis_client.zrange(index, 0, -1)


async def test_a_disabled_tracer_writes_nothing(redis_client) -> None:
    tracer = tracing.Tracer(redis_client, TraceSettings(sample=0.0))
    assert not tracer.enabled
    await tracer.close()
    assert await redis_client.keys("ripple:trace*") == []


LOG = keys.broker_log("ns", "kept")


async def fan_out(client, retention: float, max_retained: int) -> None:
    fanout = Fanout(client, LOG, lambda _a: [], lambda n: n, consumer="c1", retention_s=retention,
                    max_retained=max_retained)
    await fanout._ensure_group()
    await fanout._round(chores=False)  # this consumer's pending entries: none
    await fanout._round(chores=True)  # the new ones, then the trim


async def test_the_log_keeps_its_retention_window_behind_the_fan_out(redis_client) -> None:
    now_ms = int(time.time() * 1000)
    old = [await redis_client.xadd(LOG, ce.to_record(event(i)), id=f"{now_ms - 7_200_000 + i}-0")
           for i in range(3)]  # two hours old
    recent = [await redis_client.xadd(LOG, ce.to_record(event(i))) for i in range(3, 10)]
    await fan_out(redis_client, retention=3600.0, max_retained=100)
    kept = [i for i, _ in await redis_client.xrange(LOG)]
    assert kept == recent and not set(old) & set(kept)  # by age: the window stays
    assert (await redis_client.xpending(LOG, GROUP))["pending"] == 0


async def test_the_count_bound_holds_whatever_the_window(redis_client) -> None:
    ids = [await redis_client.xadd(LOG, ce.to_record(event(i))) for i in range(10)]
    await fan_out(redis_client, retention=3600.0, max_retained=4)
    assert [i for i, _ in await redis_client.xrange(LOG)] == ids[-4:]


async def test_without_retention_only_the_tail_window_stays(redis_client) -> None:
    now_ms = int(time.time() * 1000)
    await redis_client.xadd(LOG, ce.to_record(event(0)), id=f"{now_ms - 60_000}-0")
    fresh = await redis_client.xadd(LOG, ce.to_record(event(1)))
    await fan_out(redis_client, retention=0.0, max_retained=100)
    assert [i for i, _ in await redis_client.xrange(LOG)] == [fresh]


async def test_an_unread_backlog_is_never_trimmed(redis_client) -> None:
    now_ms = int(time.time() * 1000)
    await redis_client.xgroup_create(LOG, GROUP, id="0", mkstream=True)
    ids = [await redis_client.xadd(LOG, ce.to_record(event(i)), id=f"{now_ms - 7_200_000 + i}-0")
           for i in range(5)]
    fanout = Fanout(redis_client, LOG, lambda _a: [], lambda n: n, consumer="c1", retention_s=60.0,
                    max_retained=1)
    await fanout._trim()  # nothing read yet: all of it is backlog
    assert [i for i, _ in await redis_client.xrange(LOG)] == ids
