"""The coalescing appender on a real Valkey: one pipeline for concurrent appends, the
backlog bound, and a store outage surfacing as StoreUnavailable (503 + Retry-After)."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio

from channels.appending import Appender
from ripple import errors, redisclient
from tests.support.chaos import StoreProxy

pytestmark = pytest.mark.integration


async def test_concurrent_appends_all_land_in_order_of_arrival(redis_client) -> None:
    appender = Appender(redis_client, max_backlog=10_000)
    ids = await asyncio.gather(*(appender.append("s", {"i": str(i)}) for i in range(500)))
    assert len(set(ids)) == 500
    entries = await redis_client.xrange("s")
    assert [int(f[b"i"]) for _, f in entries] == list(range(500))
    assert appender.backlog("s") == 500


async def test_over_the_backlog_bound_appends_are_refused_until_drained(redis_client) -> None:
    appender = Appender(redis_client, max_backlog=5, retry_after=2.0)
    for i in range(5):
        await appender.append("s", {"i": str(i)})
    with pytest.raises(errors.StoreUnavailable) as refused:
        await appender.append("s", {"i": "6"})
    assert errors.retry_after(refused.value) == "2" and "bound" in str(refused.value)
    assert await redis_client.xlen("s") == 5  # nothing written past the bound
    await redis_client.xtrim("s", maxlen=0)
    appender.note_length("s", 0)  # what the fan-out's trim reports
    await appender.append("s", {"i": "7"})


async def test_an_unreachable_store_is_a_temporary_error() -> None:
    client = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    appender = Appender(client, max_backlog=10)
    with pytest.raises(errors.StoreUnavailable):
        await appender.append("s", {"i": "1"})
    await client.aclose()


async def test_each_stream_of_a_batch_gets_its_own_outcome(redis_client) -> None:
    """A batch spanning streams: one script per stream, so a stream Valkey refuses (here a
    key of the wrong type) fails only its own appends, as 503s."""
    await redis_client.set("bad", "not a stream")
    appender = Appender(redis_client, max_backlog=10_000)
    results = await asyncio.gather(
        *(appender.append(stream, {b"i": str(i), "s": stream})
          for i in range(30) for stream in ("a", "bad", "b")),
        return_exceptions=True)
    good = [r for r in results if isinstance(r, bytes)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(good) == 60 and len(refused) == 30
    assert all(isinstance(r, errors.StoreUnavailable) for r in refused)
    for stream in ("a", "b"):
        entries = await redis_client.xrange(stream)
        assert [int(f[b"i"]) for _, f in entries] == list(range(30))
        assert {f[b"s"] for _, f in entries} == {stream.encode()}
        assert appender.backlog(stream) == 30


async def test_appends_survive_a_flushed_script_cache(redis_client) -> None:
    """After a Valkey restart the script is gone: it is loaded again, nothing fails."""
    appender = Appender(redis_client, max_backlog=10_000)
    await appender.append("s", {"i": "1"})
    await redis_client.script_flush()
    await appender.append("s", {"i": "2"})
    assert await redis_client.xlen("s") == 2


async def test_a_store_that_stops_answering_is_a_503_within_the_write_timeout(valkey_url: str) -> None:
    """A partition (the proxy drops traffic) must not hold producers for the client's socket
    timeout: the stuck flush and the appends queued behind it fail once it is older than
    `write_timeout`, later appends fail at once, and appends work again once it ends."""
    port = int(valkey_url.rsplit(":", 1)[1].split("/")[0])
    with StoreProxy(port) as proxy:
        client = redisclient.connect(proxy.url, socket_timeout=4)
        appender = Appender(client, max_backlog=10_000, write_timeout=0.5)
        await appender.append("cut", {"i": "0"})
        proxy.blackhole()
        loop = asyncio.get_running_loop()
        started = loop.time()
        stuck = await asyncio.gather(*(appender.append("cut", {"i": str(i)}) for i in range(20)),
                                     return_exceptions=True)
        waited = loop.time() - started
        assert all(isinstance(r, errors.StoreUnavailable) for r in stuck), stuck
        assert waited < 2.0, waited  # the watchdog's tick past the timeout, not 4 s
        assert "not confirmed a write" in str(stuck[0]) and errors.retry_after(stuck[0])
        started = loop.time()
        with pytest.raises(errors.StoreUnavailable):
            await appender.append("cut", {"i": "late"})  # refused at once while still stuck
        assert loop.time() - started < 0.1
        proxy.restore()
        for _ in range(100):  # the stuck flush ends with the socket timeout
            try:
                await appender.append("cut", {"i": "after"})
                break
            except errors.StoreUnavailable:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("appends did not recover")
        await client.aclose()


# -- `submitted`: a request's appends that bring `eager_batch` pending go at once ----------

async def warmed(appender: Appender) -> Appender:
    """After one append, as in a running ingress: an idle connection to send on at once."""
    await appender.append("warm-up", {"i": "0"})
    return appender


def request(appender: Appender, stream: str, first: int, count: int) -> list[asyncio.Future[bytes]]:
    """What the ingress's fast path does for one request of `count` events."""
    futures = [appender.submit(stream, {"i": str(i)}) for i in range(first, first + count)]
    appender.submitted(stream)
    return futures


async def test_appends_go_at_once_once_a_request_brings_enough_pending(redis_client) -> None:
    """Below `eager_batch` pending, appends wait for the loop's turn to end; the request
    that brings them to it sends them before it returns, and the next requests' appends
    go in the turn's flush. Every append lands once, in order of arrival."""
    appender = await warmed(Appender(redis_client, max_backlog=10_000, eager_batch=8))
    first = request(appender, "s", 0, 5)
    assert appender._eager == []  # 5 pending: they wait for the turn's flush
    second = request(appender, "s", 5, 5)
    assert [item[2] for item in appender._eager] == first + second  # on the wire
    assert appender._pending == []
    third = request(appender, "s", 10, 10)  # one in flight: these wait for the turn
    assert [item[2] for item in appender._pending] == third
    ids = await asyncio.gather(*first, *second, *third)
    entries = await redis_client.xrange("s")
    assert [entry_id for entry_id, _ in entries] == ids
    assert [int(f[b"i"]) for _, f in entries] == list(range(20))
    assert appender.backlog("s") == 20


async def test_a_request_s_appends_are_never_split(redis_client) -> None:
    """The eager flush comes between requests: one request's events, however many, go in
    one script, contiguous in the log."""
    appender = await warmed(Appender(redis_client, max_backlog=10_000, eager_batch=4))
    futures = request(appender, "s", 0, 3) + request(appender, "s", 3, 30)
    await asyncio.gather(*futures)
    assert [int(f[b"i"]) for _, f in await redis_client.xrange("s")] == list(range(33))


async def test_only_the_request_s_log_goes_at_once(redis_client) -> None:
    appender = await warmed(Appender(redis_client, max_backlog=10_000, eager_batch=4))
    other = request(appender, "other", 0, 2)
    mine = request(appender, "s", 0, 3)
    assert [item[2] for item in appender._eager] == mine
    assert [item[2] for item in appender._pending] == other
    await asyncio.gather(*mine, *other)
    assert await redis_client.xlen("s") == 3 and await redis_client.xlen("other") == 2


async def test_an_eager_flush_the_store_has_no_script_for_is_sent_again(redis_client) -> None:
    """NOSCRIPT (a new or restarted server): nothing ran; the turn's flush loads the script
    and appends them."""
    appender = Appender(redis_client, max_backlog=10_000, eager_batch=4)
    await appender.append("s", {"i": "-1"})
    await redis_client.script_flush()
    futures = request(appender, "s", 0, 6)
    assert appender._eager  # sent, to be refused
    await asyncio.gather(*futures)
    assert [int(f[b"i"]) for _, f in await redis_client.xrange("s")] == list(range(-1, 6))


async def test_an_eager_flush_of_a_key_of_the_wrong_type_fails_its_appends(redis_client) -> None:
    await redis_client.set("bad", "not a stream")
    appender = await warmed(Appender(redis_client, max_backlog=10_000, eager_batch=4))
    futures = request(appender, "bad", 0, 5)
    assert appender._eager
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert all(isinstance(r, errors.StoreUnavailable) for r in results), results


async def test_an_unconfirmed_eager_flush_is_a_503_within_the_write_timeout(valkey_url: str) -> None:
    port = int(valkey_url.rsplit(":", 1)[1].split("/")[0])
    with StoreProxy(port) as proxy:
        client = redisclient.connect(proxy.url, socket_timeout=4)
        appender = Appender(client, max_backlog=10_000, write_timeout=0.5, eager_batch=4)
        await appender.append("cut", {"i": "0"})  # a connection to take at once
        proxy.blackhole()
        loop = asyncio.get_running_loop()
        started = loop.time()
        futures = request(appender, "cut", 1, 5)
        assert appender._eager
        stuck = await asyncio.gather(*futures, return_exceptions=True)
        assert all(isinstance(r, errors.StoreUnavailable) for r in stuck), stuck
        assert loop.time() - started < 2.0
        with pytest.raises(errors.StoreUnavailable):
            appender.submit("cut", {"i": "late"})  # refused at once while still stuck
        proxy.restore()
        await client.aclose()


async def test_a_client_without_a_lean_path_waits_for_the_turn(valkey_url: str) -> None:
    client = redisclient.connect(valkey_url, lean=False)
    appender = await warmed(Appender(client, max_backlog=10_000, eager_batch=2))
    futures = request(appender, "s", 0, 5)
    assert appender._eager == [] and len(appender._pending) == 5
    await asyncio.gather(*futures)
    assert await client.xlen("s") == 5
    await client.aclose()


async def test_every_confirmed_append_survives_a_sigkill_of_the_store_under_load(tmp_path) -> None:
    """32 producers, one event per request, closed loop: appends go both at once and at the
    turn's end. The store is SIGKILLed and restarted on its AOF (`appendfsync always`)
    midway; every append whose future got an entry id is in the log with that id."""
    from ripple import embedded
    from tests.support.chaos import kill_store

    store = embedded.EmbeddedValkey(tmp_path / "store", appendfsync="always").start()
    client = redisclient.connect(store.url, socket_timeout=2, socket_connect_timeout=1)
    try:
        appender = await warmed(Appender(client, max_backlog=10**6, eager_batch=4,
                                         write_timeout=1.0, retry_after=0.05))
        sent_now = 0
        send_now = appender._send_now
        assert send_now is not None

        def counting(*args: object) -> asyncio.Future[object] | None:
            nonlocal sent_now
            sent_now += 1
            return send_now(*args)
        appender._send_now = counting
        confirmed: dict[str, bytes] = {}
        refused = 0
        stop = asyncio.Event()

        async def producer(k: int) -> None:
            nonlocal refused
            n = 0
            while not stop.is_set():
                event = f"{k}-{n}"
                n += 1
                try:
                    future = appender.submit("s", {"i": event})
                    appender.submitted("s")
                    confirmed[event] = await future
                except errors.StoreUnavailable:
                    refused += 1
                    await asyncio.sleep(0.05)

        producers = [asyncio.create_task(producer(k)) for k in range(32)]
        await asyncio.sleep(1.0)
        before = len(confirmed)
        await asyncio.to_thread(kill_store, store)
        await asyncio.sleep(0.5)
        store = embedded.EmbeddedValkey(store.data_dir, appendfsync="always", port=store.port)
        await asyncio.to_thread(store.start)
        await asyncio.sleep(1.5)
        stop.set()
        await asyncio.gather(*producers)
        assert before > 100 and len(confirmed) > before and refused > 0
        assert sent_now > 10  # the eager path was taken, before the kill and after
        logged = {fields[b"i"].decode(): entry_id for entry_id, fields in await client.xrange("s")}
        lost = {event for event, entry_id in confirmed.items() if logged.get(event) != entry_id}
        assert not lost, f"{len(lost)} confirmed appends are not in the log: {sorted(lost)[:5]}"
    finally:
        await client.aclose()
        store.stop()
