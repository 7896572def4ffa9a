"""Entries left pending under a live consumer by a store error are picked up again at once,
not after the XAUTOCLAIM idle time (60 s for a queue, 30 s for a fan-out).

A read whose reply is lost on the way (the store took the entries, then the connection
dropped) and an outcome that never reached the store both leave entries pending under the
consumer that is still running. The lost read is real: a `StoreProxy` black hole between
the reader and Valkey holds the reply until the reader gives up. The lost writes are
injected: through the proxy a held write still lands after the heal, a race these tests do
not need.
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable
from urllib.parse import urlparse

import pytest
import redis.asyncio
import redis.exceptions

from channels import fanout as fanouts
from channels.deliveries import Deliveries
from channels.dispatching import Target
from channels.identities import Kind, TargetKey
from channels.policies import DeliveryPolicy
from channels.queues import GROUP, Queues
from channels.sending import HttpSender
from ripple import cloudevents as ce
from ripple import errors
from ripple.settings import DeliverySettings
from tests.support.chaos import StoreProxy
from tests.support.sinks import RecordingSink

pytestmark = pytest.mark.integration

PROMPT = 5.0
"""Seconds within which the entry must arrive after the store is back; XAUTOCLAIM waits
far longer (`DeliverySettings.reclaim_idle`, `fanout.RECLAIM_IDLE_MS`)."""
SOCKET_TIMEOUT = 3.0
"""Over the dispatcher's 2 s blocking read, as in production."""
SETTINGS = DeliverySettings(schedule_poll=0.05)
assert SETTINGS.reclaim_idle >= 60


def event(i: int) -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": f"e{i}", "source": "/t", "type": "t"}, b"{}")


def target(url: str) -> Target:
    return Target(key=TargetKey(Kind.TRIGGER, "ns", "k"), stream="q:{t}:k",
                  schedule="q:{t}:schedule", namespace="ns",
                  subscriber_uri=url, policy=DeliveryPolicy(timeout=1.0))


async def blocked_reads(client: redis.asyncio.Redis) -> set[str]:
    return {c["id"] for c in await client.client_list() if c["cmd"] == "xreadgroup" and "b" in c["flags"]}


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> float:
    started = time.monotonic()
    while not await predicate():
        assert time.monotonic() - started < timeout, "condition not met in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def lose_a_read_reply(direct: redis.asyncio.Redis, proxy: StoreProxy,
                            add: Callable[[], Awaitable[object]]) -> None:
    """Cut the store off while the reader blocks in XREADGROUP, `add` the entry that read
    takes, and wait until the reader gives up: the entry is pending, its reply lost."""
    deadline = time.monotonic() + 10
    while True:
        assert time.monotonic() < deadline, "no read blocked in the store"
        blocked = await blocked_reads(direct)
        if blocked:
            proxy.blackhole()
            if blocked & await blocked_reads(direct):  # the same read, now cut off
                break
            proxy.restore()
        await asyncio.sleep(0.02)
    await add()
    await wait_for(lambda: _gone(direct, blocked))  # the reader closed its connection
    proxy.restore()


async def _gone(client: redis.asyncio.Redis, ids: set[str]) -> bool:
    return not ids & {c["id"] for c in await client.client_list()}


async def pending_of(client: redis.asyncio.Redis, stream: str, group: str) -> int:
    return int((await client.xpending(stream, group))["pending"])


async def holds(client: redis.asyncio.Redis, stream: str, count: int) -> bool:
    return await client.xlen(stream) == count


@pytest.fixture
async def proxied(valkey_url: str, redis_client):
    with StoreProxy(urlparse(valkey_url).port) as proxy:  # type: ignore[arg-type]
        client = redis.asyncio.Redis.from_url(proxy.url, socket_timeout=SOCKET_TIMEOUT)
        try:
            yield proxy, client
        finally:
            await client.aclose()


@pytest.fixture
async def sender():
    sender = HttpSender()
    yield sender
    await sender.close()


class LosingQueues(Queues):
    """Queues whose first ack never reaches the store."""

    lost = acked = 0

    async def ack(self, stream: str, entry_id: bytes) -> None:
        if not self.lost:
            self.lost += 1
            raise errors.StoreUnavailable("store unavailable: connection lost")
        await super().ack(stream, entry_id)
        self.acked += 1


async def test_a_dispatcher_acks_an_entry_whose_ack_was_lost_without_delivering_it_again(
        redis_client, sender) -> None:
    """A store that died between a delivery and its ack: the entry is pending again when it
    is back, and the dispatcher, which remembers the delivery, acks it promptly instead of
    sending a duplicate."""
    queues = LosingQueues(redis_client)
    deliveries = Deliveries(queues, sender, consumer="c1", settings=SETTINGS)
    with RecordingSink() as sink:
        t = target(sink.url)
        await redis_client.xadd(t.stream, ce.to_record(event(1)))
        try:
            deliveries.sync([t])
            await sink.until(1)
            assert await wait_for(lambda: holds(redis_client, t.stream, 0), timeout=PROMPT) < PROMPT
            assert queues.lost == 1 and queues.acked == 1
            await redis_client.xadd(t.stream, ce.to_record(event(2)))  # and it carries on
            await sink.until(2)
            assert sink.ids() == ["e1", "e2"]
        finally:
            await deliveries.close(drain_timeout=1)


async def test_a_dispatcher_delivers_an_entry_whose_read_reply_was_lost(redis_client, proxied, sender) -> None:
    proxy, client = proxied
    deliveries = Deliveries(Queues(client), sender, consumer="c1", settings=SETTINGS)
    with RecordingSink() as sink:
        t = target(sink.url)
        await redis_client.xadd(t.stream, ce.to_record(event(0)))
        try:
            deliveries.sync([t])
            await sink.until(1)
            await lose_a_read_reply(redis_client, proxy,
                                    lambda: redis_client.xadd(t.stream, ce.to_record(event(1))))
            assert await pending_of(redis_client, t.stream, GROUP) == 1
            started = time.monotonic()
            await sink.until(2, timeout=PROMPT)
            assert time.monotonic() - started < PROMPT
            assert sink.ids() == ["e0", "e1"]
        finally:
            await deliveries.close(drain_timeout=1)


LOG = "log:{b}"
QUEUE = "queue:{b}:a"


def fanout_of(client: redis.asyncio.Redis) -> fanouts.Fanout:
    return fanouts.Fanout(client, LOG, lambda _attributes: ["a"], lambda _name: QUEUE, consumer="c1")


async def stop(fanout: fanouts.Fanout, task: asyncio.Task[None]) -> None:
    fanout.stopped = True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_fanout_copies_a_batch_whose_read_reply_was_lost(redis_client, proxied) -> None:
    proxy, client = proxied
    fanout = fanout_of(client)
    await redis_client.xadd(LOG, ce.to_record(event(0)))
    task = asyncio.create_task(fanout.run())
    try:
        await wait_for(lambda: holds(redis_client, QUEUE, 1))
        await lose_a_read_reply(redis_client, proxy, lambda: redis_client.xadd(LOG, ce.to_record(event(1))))
        assert await pending_of(redis_client, LOG, fanouts.GROUP) == 1
        assert await wait_for(lambda: holds(redis_client, QUEUE, 2), timeout=PROMPT) < PROMPT
    finally:
        await stop(fanout, task)


async def test_a_fanout_copies_a_batch_whose_copy_was_lost(redis_client) -> None:
    fanout = fanout_of(redis_client)
    copy, lost = fanout._copy, []

    async def losing_copy(**kw: object) -> object:
        if not lost:
            lost.append(1)
            raise redis.exceptions.ConnectionError("connection lost")
        return await copy(**kw)

    fanout._copy = losing_copy  # type: ignore[assignment]
    task = asyncio.create_task(fanout.run())
    try:
        await redis_client.xadd(LOG, ce.to_record(event(1)))
        await wait_for(lambda: holds(redis_client, QUEUE, 1), timeout=PROMPT)
        assert lost == [1] and await pending_of(redis_client, LOG, fanouts.GROUP) == 0
    finally:
        await stop(fanout, task)
