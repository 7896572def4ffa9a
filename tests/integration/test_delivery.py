"""The delivery engine on a real Valkey: retries on the persisted schedule, dead letters,
replies, isolation between queues, and takeover of a dead consumer's pending work."""

from __future__ import annotations

import asyncio
import base64
import threading

import pytest

from channels.deliveries import Deliveries
from channels.dispatching import ReplyRefused, Target
from channels.identities import Kind, TargetKey
from channels.policies import DeliveryPolicy
from channels.queues import GROUP, Queues
from channels.sending import HttpSender
from ripple import cloudevents as ce
from ripple import metrics
from ripple.settings import DeliverySettings
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import until

pytestmark = pytest.mark.integration

FAST = DeliverySettings(schedule_poll=0.01, reclaim_idle=1.0, reclaim_margin=2.0)


def event(i: int, **extra: object) -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": f"e{i}", "source": "/t", "type": "t", **extra},
                         b'{"i": %d}' % i)


def target(key: str, url: str | None, policy: DeliveryPolicy, **kw: object) -> Target:
    return Target(key=TargetKey(Kind.TRIGGER, "ns", key), stream=f"q:{{t}}:{key}",
                  schedule="q:{t}:schedule", namespace="ns", subscriber_uri=url, policy=policy,
                  labels=metrics.trigger_labels("ns", "b", key),
                  **kw)  # type: ignore[arg-type]


async def enqueue(client, stream: str, events: list[ce.CloudEvent]) -> None:
    for e in events:
        await client.xadd(stream, ce.to_record(e))


@pytest.fixture
async def engine(redis_client):
    sender = HttpSender()
    deliveries = Deliveries(Queues(redis_client), sender, consumer="c1", settings=FAST)
    yield deliveries
    await deliveries.close(drain_timeout=1)
    await sender.close()


async def test_delivers_and_acknowledges(redis_client, engine) -> None:
    with RecordingSink() as sink:
        t = target("ok", sink.url, DeliveryPolicy())
        await enqueue(redis_client, t.stream, [event(i) for i in range(20)])
        engine.sync([t])
        await until(lambda: len(sink.received) == 20)
        assert sorted(sink.ids()) == sorted(f"e{i}" for i in range(20))
        first = sink.received[0]
        assert first.headers["prefer"] == "reply" and first.headers["kn-namespace"] == "ns"
        async def emptied() -> bool:  # acknowledged entries are deleted
            return await redis_client.xlen(t.stream) == 0
        await until(emptied)


async def test_retries_follow_the_persisted_schedule_then_dead_letter(redis_client, engine) -> None:
    body = b'{ "message": "catastrophic failure" }'
    with RecordingSink(lambda r, n: Answer(503, body)) as sub, RecordingSink() as dls:
        policy = DeliveryPolicy(retry=3, backoff_policy="exponential", backoff_delay=0.05,
                                dead_letter_uri=dls.url)
        t = target("flaky", sub.url, policy)
        await enqueue(redis_client, t.stream, [event(1)])
        engine.sync([t])
        dead = (await dls.until(1))[0]
        assert len(sub.received) == 4  # retry + 1 attempts, exactly
        assert dead.ce["knativeerrordest"] == sub.url
        assert dead.ce["knativeerrorcode"] == "503"
        assert base64.b64decode(dead.ce["knativeerrordata"]) == body
        assert dead.ce["id"] == "e1" and dead.body == b'{"i": 1}'
        assert "prefer" not in dead.headers  # no reply is asked of a dead-letter sink


async def test_non_retryable_code_goes_straight_to_dead_letter(redis_client, engine) -> None:
    with RecordingSink(lambda r, n: Answer(422)) as sub, RecordingSink() as dls:
        t = target("bad", sub.url, DeliveryPolicy(retry=5, dead_letter_uri=dls.url))
        await enqueue(redis_client, t.stream, [event(1)])
        engine.sync([t])
        assert (await dls.until(1))[0].ce["knativeerrorcode"] == "422"
        assert len(sub.received) == 1


async def test_recovers_after_transient_failures(redis_client, engine) -> None:
    # Knative's "reply with a bad status code to the first n events"
    with RecordingSink(lambda r, n: Answer(500 if n < 3 else 202)) as sub:
        t = target("recover", sub.url, DeliveryPolicy(retry=5, backoff_policy="linear", backoff_delay=0.02))
        await enqueue(redis_client, t.stream, [event(1)])
        engine.sync([t])
        await sub.until(4)

        async def settled() -> bool:  # acknowledged and deleted: no attempt can follow
            return await redis_client.xlen(t.stream) == 0
        await until(settled)
        assert len(sub.received) == 4


async def test_reply_is_handed_to_the_reply_handler(redis_client, engine) -> None:
    replies: list[tuple[str, str, dict]] = []

    async def on_reply(reply: ce.CloudEvent, original: ce.CloudEvent, headers) -> None:
        replies.append((reply.type, original.id, dict(headers)))

    answer = Answer(200, b"pong", {**REPLY, "Knative-Hop": "1", "X-Other": "no"})
    with RecordingSink(lambda r, n: answer) as sub:
        t = target("reply", sub.url, DeliveryPolicy(), reply=on_reply)
        await enqueue(redis_client, t.stream, [event(7)])
        engine.sync([t])
        # the response's pass-through headers go with the reply (event_dispatcher.go)
        await until(lambda: replies == [("reply.type", "e7", {"knative-hop": "1"})])


REPLY = {"ce-specversion": "1.0", "ce-id": "r", "ce-source": "/s", "ce-type": "reply.type",
         "content-type": "text/plain"}


async def test_a_subscription_reply_is_retried_on_its_own(redis_client, engine) -> None:
    answer = Answer(200, b"pong", {**REPLY, "knative-from": "sub"})
    with RecordingSink(lambda r, n: answer) as sub, \
            RecordingSink(lambda r, n: Answer(503 if n < 2 else 202)) as replies:
        policy = DeliveryPolicy(retry=3, backoff_policy="linear", backoff_delay=0.05)
        t = target("sub-reply", sub.url, policy, reply_uri=replies.url + "/next")
        await enqueue(redis_client, t.stream, [event(1)])
        engine.sync([t])
        got = await replies.until(3)
        assert len(sub.received) == 1  # the subscriber is not called again
        assert [r.ce["id"] for r in got] == ["r"] * 3 and got[-1].body == b"pong"
        assert got[-1].path == "/next" and "prefer" not in got[-1].headers
        assert got[-1].headers["knative-from"] == "sub" and got[-1].headers["kn-namespace"] == "ns"
        await wait_until_empty(redis_client, t.stream)


async def wait_until_empty(client, stream: str, timeout: float = 10.0) -> None:
    async def empty() -> bool:
        return not await client.xlen(stream)

    await until(empty, timeout, what=f"{stream} holds no entries")


async def test_a_reply_that_fails_for_good_dead_letters_the_original(redis_client, engine) -> None:
    body = b'{"error": "reply sink down"}'
    answer = Answer(200, b"pong", REPLY)
    with RecordingSink(lambda r, n: answer) as sub, RecordingSink(lambda r, n: Answer(503, body)) as replies, \
            RecordingSink() as dls:
        policy = DeliveryPolicy(retry=2, dead_letter_uri=dls.url)
        t = target("reply-dls", sub.url, policy, reply_uri=replies.url)
        await enqueue(redis_client, t.stream, [event(1)])
        engine.sync([t])
        dead = (await dls.until(1))[0]
        assert len(sub.received) == 1 and len(replies.received) == 3
        # as upstream: the original event, naming the reply's URL and the reply's status
        assert dead.ce["id"] == "e1" and dead.body == b'{"i": 1}'
        assert dead.ce["knativeerrordest"] == replies.url
        assert dead.ce["knativeerrorcode"] == "503"
        assert base64.b64decode(dead.ce["knativeerrordata"]) == body
        await wait_until_empty(redis_client, t.stream)


async def test_a_pending_reply_survives_a_restart_without_calling_the_subscriber_again(redis_client) -> None:
    answer = Answer(200, b"pong", REPLY)
    policy = DeliveryPolicy(retry=100, backoff_policy="linear", backoff_delay=0.05)
    with RecordingSink(lambda r, n: answer) as sub, RecordingSink(lambda r, n: Answer(503)) as down, \
            RecordingSink(lambda r, n: Answer(202)) as up:
        first = target("restart", sub.url, policy, reply_uri=down.url)
        await enqueue(redis_client, first.stream, [event(1)])
        sender = HttpSender()
        engine = Deliveries(Queues(redis_client), sender, consumer="c1", settings=FAST)
        engine.sync([first])
        await down.until(2)
        await engine.close(drain_timeout=1)  # the process stops with the reply not delivered
        # the reply is stored, in its own phase, with the original beside it
        stored = [f for _, f in await redis_client.xrange(first.stream)]
        assert [f[b"p"] for f in stored] == [b"rp"] and b"oa" in stored[0]
        engine = Deliveries(Queues(redis_client), sender, consumer="c1", settings=FAST)
        engine.sync([target("restart", sub.url, policy, reply_uri=up.url)])
        got = await up.until(1)
        await engine.close(drain_timeout=1)
        await sender.close()
        assert got[0].ce["id"] == "r" and len(sub.received) == 1


async def test_an_ordered_subscription_delivers_its_reply_in_place(redis_client, engine) -> None:
    answer = Answer(200, b"pong", REPLY)
    with RecordingSink(lambda r, n: answer) as sub, \
            RecordingSink(lambda r, n: Answer(500 if n == 0 else 202)) as replies:
        policy = DeliveryPolicy(retry=2, backoff_policy="linear", backoff_delay=0.05)
        t = target("ordered-reply", sub.url, policy, reply_uri=replies.url, ordered=True)
        await enqueue(redis_client, t.stream, [event(1), event(2)])
        engine.sync([t])
        got = await replies.until(3)
        assert len(sub.received) == 2 and [r.ce["id"] for r in got] == ["r"] * 3
        assert [r.ce["id"] for r in sub.received] == ["e1", "e2"]
        await wait_until_empty(redis_client, t.stream)


async def test_pass_through_headers_reach_every_attempt_and_the_dead_letter_sink(redis_client, engine) -> None:
    stored = {"x-request-id": "req-1", "knative-custom": "v"}
    with RecordingSink(lambda r, n: Answer(503)) as sub, RecordingSink() as dls:
        t = target("headers", sub.url, DeliveryPolicy(retry=1, dead_letter_uri=dls.url))
        await redis_client.xadd(t.stream, ce.to_record(event(1), stored))
        engine.sync([t])
        dead = (await dls.until(1))[0]
        for got in [*sub.received, dead]:
            assert {k: got.headers.get(k) for k in stored} == stored
        assert len(sub.received) == 2


async def test_an_unreachable_subscriber_dead_letters_with_error_data(redis_client, engine) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with RecordingSink() as dls:
        url = f"http://user:secret@127.0.0.1:{port}/x"
        t = target("unreachable", url, DeliveryPolicy(dead_letter_uri=dls.url))
        await enqueue(redis_client, t.stream, [event(1)])
        engine.sync([t])
        dead = (await dls.until(1))[0]
        assert dead.ce["knativeerrordest"] == f"http://127.0.0.1:{port}/x"  # no credentials
        assert dead.ce["knativeerrorcode"] == "500"
        data = base64.b64decode(dead.ce["knativeerrordata"]).decode()
        assert data.startswith("dispatch error: ") and "secret" not in data


async def test_a_refused_trigger_reply_dead_letters_the_original_naming_the_broker(redis_client, engine) -> None:
    async def out_of_hops(reply: ce.CloudEvent, original: ce.CloudEvent, headers) -> None:
        raise ReplyRefused("http://127.0.0.1:8080/ns/b", 400, b"knativebrokerttl: no hops left")

    with RecordingSink(lambda r, n: Answer(200, b"pong", REPLY)) as sub, RecordingSink() as dls:
        t = target("ttl", sub.url, DeliveryPolicy(retry=3, dead_letter_uri=dls.url), reply=out_of_hops)
        await enqueue(redis_client, t.stream, [event(1)])
        engine.sync([t])
        dead = (await dls.until(1))[0]
        assert len(sub.received) == 1  # a refusal is final: nothing is retried
        assert dead.ce["id"] == "e1"
        assert dead.ce["knativeerrordest"] == "http://127.0.0.1:8080/ns/b"
        assert dead.ce["knativeerrorcode"] == "400"
        assert base64.b64decode(dead.ce["knativeerrordata"]) == b"knativebrokerttl: no hops left"


async def test_a_slow_subscriber_does_not_delay_another_queue(redis_client, engine) -> None:
    answered, release = [], threading.Event()

    def slow(_r, _n):  # hangs until the test is done with it, however long that takes
        release.wait(30)
        answered.append(1)
        return Answer(200)

    with RecordingSink(slow) as stuck, RecordingSink() as fast:
        slow_t = target("slow", stuck.url, DeliveryPolicy(timeout=10))
        fast_t = target("fast", fast.url, DeliveryPolicy())
        await enqueue(redis_client, slow_t.stream, [event(i) for i in range(100)])
        await enqueue(redis_client, fast_t.stream, [event(i) for i in range(100)])
        engine.sync([slow_t, fast_t])
        try:
            await fast.until(100)
            # every event of the fast queue arrived while the slow one had answered nothing,
            # and the slow queue holds no more than its own in-flight slots
            assert answered == []
            assert len(stuck.received) <= FAST.max_in_flight
        finally:
            release.set()


async def test_pending_work_of_a_dead_consumer_is_reclaimed(redis_client) -> None:
    queues = Queues(redis_client)
    with RecordingSink() as sink:
        t = target("orphan", sink.url, DeliveryPolicy(timeout=0.1))
        await enqueue(redis_client, t.stream, [event(i) for i in range(5)])
        await queues.ensure_group(t.stream)
        taken = await queues.read(t.stream, "dead-consumer", count=5, block_ms=None)  # then it "dies"
        assert len(taken) == 5
        sender = HttpSender()
        survivor = Deliveries(queues, sender, consumer="c2",
                              settings=DeliverySettings(reclaim_idle=0.5, reclaim_margin=0.0,
                                                                schedule_poll=0.01))
        try:  # its periodic reclaim takes them once they have been idle `reclaim_idle`
            survivor.sync([t])
            await sink.until(5, timeout=15)
            assert sorted(sink.ids()) == [f"e{i}" for i in range(5)]
        finally:
            await survivor.close(drain_timeout=1)
            await sender.close()


async def test_ordered_delivery_keeps_log_order_across_a_retry(redis_client, engine) -> None:
    # the third event fails twice; nothing behind it may overtake it
    def flaky(request, _n):
        if request.ce["id"] == "e2" and sum(r.ce["id"] == "e2" for r in sink.received) <= 2:
            return Answer(503)
        return Answer(202)

    with RecordingSink(flaky) as sink:
        policy = DeliveryPolicy(retry=5, backoff_policy="linear", backoff_delay=0.05)
        t = target("ordered", sink.url, policy, ordered=True)
        await enqueue(redis_client, t.stream, [event(i) for i in range(10)])
        engine.sync([t])
        await sink.until(12)
        assert sink.ids() == ["e0", "e1", "e2", "e2", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"]


async def test_unordered_delivery_lets_others_pass_a_retry(redis_client, engine) -> None:
    # e0 fails once, and then until e1..e4 have arrived: only a queue that lets them pass e0's
    # retries ever delivers e0, however slow the machine (no race with the backoff).
    others = {f"e{i}" for i in range(1, 5)}

    def e0_waits_for_the_others(request, _n):
        seen = [r.ce["id"] for r in sink.received]
        passed = others <= set(seen) and seen.count("e0") > 1
        return Answer(503 if request.ce["id"] == "e0" and not passed else 202)

    with RecordingSink(e0_waits_for_the_others) as sink:
        t = target("unordered", sink.url, DeliveryPolicy(retry=20, backoff_policy="linear",
                                                          backoff_delay=0.05))
        await enqueue(redis_client, t.stream, [event(i) for i in range(5)])
        engine.sync([t])

        def ids() -> list[str]:
            return [r.ce["id"] for r in sink.received]
        # The sink records a request before it answers: an e0 after all the others got a 202.
        await until(lambda: others <= set(ids()) and ids()[-1] == "e0" and ids().count("e0") > 1,
                    what="e0 after the others")
        seen = ids()
    assert seen.count("e0") >= 2 and set(seen) == others | {"e0"}  # failed, retried, came last


async def test_an_event_without_datacontenttype_arrives_without_content_type(redis_client, engine) -> None:
    with RecordingSink() as sink:
        t = target("plain", sink.url, DeliveryPolicy())
        bare = ce.CloudEvent({"specversion": "1.0", "id": "b", "source": "/t", "type": "t"}, b"\x00\x01")
        await enqueue(redis_client, t.stream, [bare, event(1, datacontenttype="application/json")])
        engine.sync([t])
        got = {r.ce["id"]: r for r in await sink.until(2)}
    assert "content-type" not in got["b"].headers and got["b"].body == b"\x00\x01"
    assert got["e1"].headers["content-type"] == "application/json"


async def test_retries_that_end_together_share_one_transaction(redis_client) -> None:
    # the burst of a hung subscriber's timeouts: one MULTI/EXEC, each entry moved whole
    queues = Queues(redis_client)
    stream, schedule = "q:{t}:burst", "q:{t}:schedule"
    await enqueue(redis_client, stream, [event(i) for i in range(64)])
    await queues.ensure_group(stream)
    taken = await queues.read(stream, "c1", count=64, block_ms=None)
    execs = (await redis_client.info("commandstats")).get("cmdstat_exec", {}).get("calls", 0)
    await asyncio.gather(*(queues.schedule_retry(stream, schedule, i, 1.0) for i, _ in taken))
    after = (await redis_client.info("commandstats"))["cmdstat_exec"]["calls"]
    assert after - execs <= 2  # the first alone, the other 63 together
    assert await redis_client.zcard(schedule) == 64
    assert (await redis_client.xpending(stream, GROUP))["pending"] == 0


async def test_a_burst_over_two_brokers_is_one_transaction_per_hash_tag(redis_client) -> None:
    """Each MULTI/EXEC stays within one hash tag, so it stays in one Redis Cluster slot."""
    queues = Queues(redis_client)
    taken = []
    for tag in ("a", "b"):
        stream = f"q:{{{tag}}}:burst"
        await enqueue(redis_client, stream, [event(i) for i in range(8)])
        await queues.ensure_group(stream)
        taken += [(stream, f"q:{{{tag}}}:schedule", i)
                  for i, _ in await queues.read(stream, "c1", count=8, block_ms=None)]
    await redis_client.config_resetstat()
    await asyncio.gather(*(queues.schedule_retry(s, z, i, 1.0) for s, z, i in taken))
    execs = (await redis_client.info("commandstats"))["cmdstat_exec"]["calls"]
    assert 2 <= execs <= 3  # the first alone, then one per tag
    for tag in ("a", "b"):
        assert await redis_client.zcard(f"q:{{{tag}}}:schedule") == 8


async def test_a_busy_queue_reuses_its_workers_and_an_idle_one_holds_none(redis_client, engine) -> None:
    with RecordingSink() as sink:
        t = target("workers", sink.url, DeliveryPolicy())
        await enqueue(redis_client, t.stream, [event(i) for i in range(200)])
        started: list[object] = []
        engine.sync([t])  # its task has not run yet: `_work` is counted from the start
        dispatcher = engine._dispatchers[t.key]
        dispatcher_start = dispatcher._work

        def counting(entry):  # every worker Task runs one `_work`
            started.append(entry[0])
            return dispatcher_start(entry)

        dispatcher._work = counting
        await until(lambda: len(sink.received) == 200)
        # each worker carried on from delivery to delivery: far fewer Tasks than events
        assert len(started) <= FAST.max_in_flight < 200
        # idle: parked in the idle reader, its workers ended
        await until(lambda: dispatcher._parked is not None and not dispatcher._workers)
        assert not dispatcher._in_flight and not dispatcher._waiting
        await enqueue(redis_client, t.stream, [event(1000)])
        await until(lambda: "e1000" in sink.ids())
