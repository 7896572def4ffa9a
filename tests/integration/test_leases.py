"""Leases (`ripple.leases`) against a real Valkey: one holder at a time, released only by
its holder in one script, and safe through store outages (a partition from the store
proxy, and a stopped server): the holder takes an unconfirmed lease as lost before its TTL
ends, contends again through the errors, and gets it back once the store is back. The
leader loop of the local platform (`platform._lead`) is checked the same way: its
reconcilers stop while the lease is not held and run again after."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import redis.asyncio

from controllers.platforms.local import platform
from ripple import embedded, keys, leases, redisclient
from tests.support.chaos import StoreProxy

TTL = 0.6


async def test_one_holder_at_a_time_and_release_only_by_the_holder(redis_client: redis.asyncio.Redis) -> None:
    a = leases.Lease(redis_client, "l", "a", ttl=TTL)
    b = leases.Lease(redis_client, "l", "b", ttl=TTL)
    await a.acquire()
    contending = asyncio.create_task(b.acquire())
    await b.release()  # not b's: the compare-and-delete leaves it
    assert await redis_client.get(keys.lease("l")) == b"a"
    assert not contending.done()
    await a.release()
    await asyncio.wait_for(contending, 5)  # b takes it once a let go
    assert await redis_client.get(keys.lease("l")) == b"b"


async def test_reacquiring_a_held_lease_extends_it(redis_client: redis.asyncio.Redis) -> None:
    a = leases.Lease(redis_client, "l", "a", ttl=TTL)
    await a.acquire()
    await redis_client.pexpire(keys.lease("l"), 50)
    await a.acquire()  # after a store blip, the holder that still has it gets a full TTL
    assert await redis_client.pttl(keys.lease("l")) > 300


async def test_keep_returns_when_another_holder_took_the_lease(redis_client: redis.asyncio.Redis) -> None:
    a = leases.Lease(redis_client, "l", "a", ttl=TTL)
    await a.acquire()
    keeping = asyncio.create_task(a.keep())
    await redis_client.set(keys.lease("l"), "b")
    await asyncio.wait_for(keeping, 5)
    assert a.expires == 0.0


async def test_a_partition_loses_the_lease_before_its_ttl_and_it_is_won_back(
        valkey_url: str, caplog: pytest.LogCaptureFixture) -> None:
    port = int(valkey_url.rsplit(":", 1)[1].split("/")[0])
    with StoreProxy(port) as proxy:
        client = redisclient.connect(proxy.url)
        try:
            lease = leases.Lease(client, "partition", "a", ttl=TTL)
            await lease.acquire()
            keeping = asyncio.create_task(lease.keep())
            acquired = lease.expires
            assert await _until(lambda: lease.expires > acquired)  # a renewal went through
            expires = lease.expires
            proxy.blackhole()
            await asyncio.wait_for(keeping, 5)
            assert time.monotonic() <= expires  # gone before the lease could lapse
            contending = asyncio.create_task(lease.acquire())
            assert await _until(lambda: _logged(caplog, "lease store unavailable; contending again"))
            proxy.restore()
            await asyncio.wait_for(contending, 10)
            assert lease.expires > time.monotonic()
        finally:
            await client.aclose()


@pytest.fixture
def own_store(tmp_path: Path):
    store = embedded.EmbeddedValkey(tmp_path / "store", persist=False).start()
    try:
        yield store
    finally:
        store.stop()


async def test_a_stopped_server_loses_the_lease_and_it_is_won_back_after_a_restart(
        own_store: embedded.EmbeddedValkey, caplog: pytest.LogCaptureFixture) -> None:
    client = redisclient.connect(own_store.url, socket_timeout=2)
    try:
        lease = leases.Lease(client, "stopped", "a", ttl=TTL)
        await lease.acquire()
        keeping = asyncio.create_task(lease.keep())
        own_store.stop()
        await asyncio.wait_for(keeping, 5)
        contending = asyncio.create_task(lease.acquire())
        assert await _until(lambda: _logged(caplog, "lease store unavailable; contending again"))
        own_store.start()  # same port and dir
        await asyncio.wait_for(contending, 10)
        assert await client.get(keys.lease("stopped")) == b"a"
    finally:
        await client.aclose()


async def test_the_leader_stops_reconciling_while_the_store_is_away(valkey_url: str) -> None:
    port = int(valkey_url.rsplit(":", 1)[1].split("/")[0])
    running = asyncio.Event()
    starts: list[float] = []
    stops: list[float] = []

    async def reconcile() -> None:
        starts.append(time.monotonic())
        running.set()
        try:
            await asyncio.Event().wait()
        finally:
            stops.append(time.monotonic())
            running.clear()

    with StoreProxy(port) as proxy:
        client = redisclient.connect(proxy.url)
        lease = leases.Lease(client, "leader", "w0", ttl=TTL)
        leading = asyncio.create_task(platform._lead(lease, reconcile))
        try:
            await asyncio.wait_for(running.wait(), 5)
            expires = lease.expires
            proxy.blackhole()
            assert await _until(lambda: len(stops) == 1)
            assert stops[0] <= expires  # never reconciling past the lease's TTL
            proxy.restore()
            await asyncio.wait_for(running.wait(), 10)
            assert len(starts) == 2 and not leading.done()
        finally:
            leading.cancel()
            await asyncio.gather(leading, return_exceptions=True)
            await client.aclose()


async def test_reconcilers_that_crash_give_the_lease_up(redis_client: redis.asyncio.Redis) -> None:
    async def crash() -> None:
        raise ValueError("reconciler bug")

    lease = leases.Lease(redis_client, "leader", "w0", ttl=TTL)
    with pytest.raises(ValueError, match="reconciler bug"):
        await asyncio.wait_for(platform._lead(lease, crash), 5)  # the supervisor restarts it
    assert await redis_client.get(keys.lease("leader")) is None  # another worker may lead now


async def test_reconcilers_that_return_give_the_lease_up_and_say_so(redis_client: redis.asyncio.Redis) -> None:
    async def done() -> None:
        return None

    lease = leases.Lease(redis_client, "leader", "w0", ttl=TTL)
    with pytest.raises(RuntimeError, match="the reconcilers returned"):
        await asyncio.wait_for(platform._lead(lease, done), 5)
    assert await redis_client.get(keys.lease("leader")) is None


async def _until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def _logged(caplog: pytest.LogCaptureFixture, message: str) -> bool:
    return any(r.getMessage() == message for r in caplog.records)
