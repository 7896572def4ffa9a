"""ripple.pooling on a real Valkey: both pools of `redisclient.connect`'s client give back
the connections a burst opened once they are idle, keep a few, and never close one in use
(the server's CLIENT LIST is the judge)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from ripple import pooling, redisclient
from tests.support.waiting import until

pytestmark = pytest.mark.integration

IDLE = 0.3
KEEP = 2
BURST = 12


@pytest.fixture
async def observer(valkey_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A plain client that counts the server's connections (its own is one of them)."""
    client = redis.asyncio.Redis.from_url(valkey_url, single_connection_client=True)
    try:
        yield client
    finally:
        await client.aclose()


async def connections(observer: redis.asyncio.Redis) -> int:
    return len(await observer.client_list(_type="normal"))


@contextlib.asynccontextmanager
async def swept_client(valkey_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redisclient.connect(valkey_url, idle_timeout=IDLE, keep_idle=KEEP)
    try:
        yield client
    finally:
        await client.aclose()


async def test_redis_pys_pool_closes_what_a_burst_opened(valkey_url: str, observer) -> None:
    before = await connections(observer)
    async with swept_client(valkey_url) as client:
        pool = client.connection_pool
        assert isinstance(pool, pooling.SweptConnectionPool)
        # BLPOP is not a lean command: each concurrent one takes a redis-py connection
        await asyncio.gather(*(client.blpop([f"nothing-{i}"], timeout=0.1) for i in range(BURST)))
        assert await connections(observer) == before + BURST
        await until(lambda: _count_is(observer, before + KEEP), timeout=10,
                    what=f"the burst's connections closed down to {KEEP}")
        assert pool.idle == KEEP and pool.swept == BURST - KEEP
        assert await client.ping()  # a kept connection serves at once
    await until(lambda: _count_is(observer, before), what="every connection closed with the client")


async def test_the_lean_pool_closes_what_a_burst_opened(valkey_url: str, observer) -> None:
    before = await connections(observer)
    async with swept_client(valkey_url) as client:
        lean = client.lean
        assert lean is not None
        await client.xgroup_create("s", "g", id="0", mkstream=True)  # on redis-py's pool
        # XREADGROUP is a lean command: each concurrent blocking one takes a lean link
        await asyncio.gather(*(client.xreadgroup("g", f"c{i}", {"s": ">"}, block=100)
                               for i in range(BURST)))
        assert lean.size == BURST
        await until(lambda: lean.size == KEEP, timeout=10, what=f"lean links closed down to {KEEP}")
        # what the server sees: the lean links kept, and redis-py's one connection
        await until(lambda: _count_is(observer, before + KEEP + 1), what="the server's count")


async def test_a_connection_in_use_longer_than_the_timeout_is_never_closed(valkey_url: str,
                                                                            observer) -> None:
    async with swept_client(valkey_url) as client:
        await asyncio.gather(*(client.blpop([f"nothing-{i}"], timeout=0.1) for i in range(BURST)))
        # blocks for several sweeps; it gets its element, so its connection was never closed
        waiting = asyncio.ensure_future(client.blpop(["wanted"], timeout=5))
        # the sweep-down takes longer than IDLE: the read has been in use longer than that
        await until(lambda: client.connection_pool.idle == KEEP, timeout=10,
                    what="the idle ones swept while the read blocks")
        assert not waiting.done()
        await observer.rpush("wanted", b"x")
        assert await waiting == (b"wanted", b"x")


async def _count_is(observer: redis.asyncio.Redis, count: int) -> bool:
    return await connections(observer) == count
