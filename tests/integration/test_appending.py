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
