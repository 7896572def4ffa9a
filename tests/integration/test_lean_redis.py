"""ripple.redisclient on a real Valkey: the lean command path keeps redis-py's behaviour."""

from __future__ import annotations

import asyncio

import pytest
import redis.exceptions

from ripple import redisclient
from tests.support.waiting import until

pytestmark = pytest.mark.integration


async def test_replies_are_parsed_by_redis_pys_callbacks(redis_client) -> None:
    assert isinstance(redis_client, redisclient.LeanRedis)
    assert await redis_client.set("k", "v") is True
    await redis_client.xgroup_create("s", "g", id="0", mkstream=True)
    entry = await redis_client.xadd("s", {"f": "1"})
    assert await redis_client.xreadgroup("g", "c", {"s": ">"}, count=5) == [[b"s", [(entry, {b"f": b"1"})]]]
    assert (await redis_client.xinfo_groups("s"))[0]["pending"] == 1


async def test_an_error_reply_raises_and_the_connection_stays_usable(redis_client) -> None:
    await redis_client.set("k", "v")
    for _ in range(3):
        with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
            await redis_client.xadd("k", {"f": "1"})
    assert await redis_client.get("k") == b"v"
    pool = redis_client.connection_pool
    assert len(pool._in_use_connections) == 0  # every connection went back


async def test_a_script_not_yet_loaded_is_loaded_on_first_call(redis_client) -> None:
    await redis_client.script_flush()
    script = redis_client.register_script("return ARGV[1]")
    assert await script(args=["x"]) == b"x"


async def test_concurrent_commands_each_get_their_own_reply(redis_client) -> None:
    await asyncio.gather(*(redis_client.set(f"k{i}", i) for i in range(50)))
    values = await asyncio.gather(*(redis_client.get(f"k{i}") for i in range(50)))
    assert values == [str(i).encode() for i in range(50)]


async def test_a_cancelled_blocking_read_leaves_no_reply_behind(redis_client) -> None:
    """A cancel inside a blocking read must not leave its late reply on a pooled connection
    for the next command to read (redis-py's connection disconnects on any error)."""
    await redis_client.xgroup_create("b", "g", id="$", mkstream=True)
    read = asyncio.ensure_future(redis_client.xreadgroup("g", "c", {"b": ">"}, block=500))
    await until(lambda: blocked(redis_client, 1), what="the read blocks in the store")
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    await redis_client.xadd("b", {"f": "1"})
    # the store answered the read (the entry) or dropped its connection: any late reply is
    # written by now, where the next command would read it if the connection were reused
    await until(lambda: blocked(redis_client, 0), what="the cancelled read is no longer blocked")
    assert await redis_client.ping() is True
    assert await redis_client.get("missing") is None


async def blocked(client, count: int) -> bool:
    return int((await client.info("clients"))["blocked_clients"]) == count


async def test_a_refused_connection_is_a_connection_error_without_retries() -> None:
    client = redisclient.connect("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    with pytest.raises(redis.exceptions.ConnectionError):
        await client.ping()
    await client.aclose()


@pytest.mark.parametrize("lean", [True, False])
async def test_a_task_talking_to_the_store_can_always_be_cancelled(valkey_url: str, lean: bool) -> None:
    """Cancelled at every moment of a command loop, the task ends: redis-py sends through
    `asyncio.wait_for` with a socket timeout, which on Python 3.11 lost a cancellation that
    came in the turn the write finished (ripple.cancelling; before it, one of the first few
    hundred cancels here was lost and the task ran on)."""
    import random

    client = redisclient.connect(valkey_url, lean=lean, socket_timeout=10)
    chance = random.Random(7)
    try:
        for _ in range(300):
            async def loop() -> None:
                while True:
                    await client.hset("h", "f", "v")
                    await asyncio.sleep(0)
            task = asyncio.create_task(loop())
            await asyncio.sleep(chance.random() * 0.003)
            task.cancel()
            done, _ = await asyncio.wait([task], timeout=5)
            assert done, "the cancellation was lost: the task runs on"
            assert task.cancelled()
    finally:
        await client.aclose()
