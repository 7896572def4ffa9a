"""ripple.resp without a server: error replies become redis-py's exception types, the
endpoint is read from redis-py's own URL parsing, and a link matches replies to commands in
order, drops a cancelled command's reply, and fails what waits when it breaks or is late
(over an in-memory transport)."""

from __future__ import annotations

import asyncio
from typing import Any

import hiredis
import pytest
import redis.asyncio
import redis.exceptions
from redis.asyncio.connection import SSLConnection

from ripple import resp
from tests.support.waiting import until

E = redis.exceptions


@pytest.mark.parametrize("message, kind", [
    ("NOSCRIPT No matching script. Please use EVAL.", E.NoScriptError),   # Script's EVAL fallback
    ("BUSYGROUP Consumer Group name already exists", E.ResponseError),  # callers match the text
    ("WRONGTYPE Operation against a key holding the wrong kind of value", E.ResponseError),
    ("NOGROUP No such key 's' or consumer group 'g'", E.ResponseError),
    ("READONLY You can't write against a read only replica.", E.ReadOnlyError),
    ("LOADING Valkey is loading the dataset in memory", E.BusyLoadingError),
    ("OOM command not allowed when used memory > 'maxmemory'.", E.OutOfMemoryError),
    ("NOAUTH Authentication required.", E.AuthenticationError),
    ("WRONGPASS invalid username-password pair or user is disabled.", E.AuthenticationError),
    # redis-py 8.2 names it MaxClientsReachedError, a ConnectionError; 8.0 raised the base class
    ("ERR max number of clients reached", getattr(E, "MaxClientsReachedError", E.ConnectionError)),
    ("MOVED 3999 127.0.0.1:6381", E.MovedError),
    ("ASK 3999 127.0.0.1:6381", E.AskError),
    ("TRYAGAIN Multiple keys request during rehashing of slot", E.TryAgainError),
    ("CLUSTERDOWN The cluster is down", E.ClusterDownError),
    ("MASTERDOWN Link with MASTER is down", E.MasterDownError),
    ("EXECABORT Transaction discarded", E.ExecAbortError),
    ("ERR unknown command 'FOO'", E.ResponseError),
])
def test_error_replies_are_redis_pys_exceptions(message: str, kind: type[Exception]) -> None:
    error = resp.parse_error(message)
    assert type(error) is kind
    parser = hiredis.Reader(replyError=resp.parse_error)
    parser.feed(b"-" + message.encode() + b"\r\n")
    assert type(parser.gets()) is kind


def endpoint(url: str, **options: Any) -> resp.Endpoint:
    pool = redis.asyncio.ConnectionPool.from_url(url, **options)
    return resp.Endpoint(pool.connection_class(**pool.connection_kwargs))


@pytest.mark.parametrize("url, options, want", [
    ("redis://127.0.0.1:6379/0", {}, dict(host="127.0.0.1", port=6379, db=0, protocol=3, path=None)),
    ("redis://h:7000/5", {"protocol": 2}, dict(host="h", port=7000, db=5, protocol=2)),
    ("redis://h/0", {"socket_timeout": 10, "socket_connect_timeout": 1.5},
     dict(timeout=10, connect_timeout=1.5)),
    ("unix:///tmp/valkey.sock?db=2", {}, dict(path="/tmp/valkey.sock", db=2, address="/tmp/valkey.sock")),
])
def test_the_endpoint_is_read_from_redis_pys_url_parsing(url: str, options: dict[str, Any],
                                                          want: dict[str, Any]) -> None:
    got = endpoint(url, **options)
    assert {key: getattr(got, key) for key in want} == want


@pytest.mark.parametrize("url, credentials", [
    ("redis://h/0", None),
    ("redis://:s3cret@h/0", ("s3cret",)),
    ("redis://ann:s3cret@h/0", ("ann", "s3cret")),
])
async def test_credentials_come_from_the_url(url: str, credentials: tuple[str, ...] | None) -> None:
    provider = endpoint(url).credential_provider
    assert (provider and tuple(await provider.get_credentials_async())) == credentials


def test_a_rediss_url_carries_redis_pys_tls_context() -> None:
    got = endpoint("rediss://h:6380/0?ssl_cert_reqs=none")
    assert got.ssl is not None and got.port == 6380
    assert endpoint("rediss://h:6380/0").ssl.verify_mode.name == "CERT_REQUIRED"


def test_a_connection_class_without_an_address_has_no_lean_path() -> None:
    class Odd(redis.asyncio.connection.AbstractConnection):
        pass
    with pytest.raises(TypeError):
        resp.Endpoint(Odd())


class Wire(asyncio.Transport):
    """An in-memory transport: what the link wrote, and whether it was aborted."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def link(timeout: float | None = None) -> tuple[resp.Link, Wire]:
    point = endpoint("redis://h:1/0", socket_timeout=timeout)
    each, wire = resp.Link(point), Wire()
    each.connection_made(wire)
    return each, wire


async def test_replies_go_to_commands_in_order_however_the_bytes_are_split() -> None:
    each, wire = link()
    first, second, third = (each.request(hiredis.pack_command(("PING",))) for _ in range(3))
    assert wire.written == [b"*1\r\n$4\r\nPING\r\n"] * 3
    data = b"+PONG\r\n*2\r\n$1\r\na\r\n:7\r\n-NOSCRIPT missing\r\n"
    for i in range(len(data)):  # one byte at a time
        each.data_received(data[i:i + 1])
    assert await first == b"PONG" and await second == [b"a", 7]
    assert type(await third) is E.NoScriptError  # returned; the pool's caller raises it


async def test_a_cancelled_commands_reply_is_dropped_not_given_to_the_next() -> None:
    each, _ = link()
    first = each.request(b"")
    second = each.request(b"")
    first.cancel()
    each.data_received(b"$5\r\nfirst\r\n$6\r\nsecond\r\n")
    assert await second == b"second"


@pytest.mark.parametrize("lost, kind, text", [
    (None, E.ConnectionError, "Connection closed by server."),
    (ConnectionResetError(104, "reset"), E.ConnectionError, "Error while reading from h:1 : (104, 'reset')"),
])
async def test_a_broken_link_fails_what_waits_and_refuses_more(lost: Exception | None, kind: type,
                                                                text: str) -> None:
    each, wire = link()
    waiting = [each.request(b"") for _ in range(2)]
    each.connection_lost(lost)
    for future in waiting:
        with pytest.raises(kind, match=text.replace("(", r"\(").replace(")", r"\)")):
            await future
    with pytest.raises(kind):
        each.request(b"")
    assert wire.aborted


async def test_a_protocol_error_breaks_the_link() -> None:
    each, wire = link()
    waiting = each.request(b"")
    each.data_received(b"!not resp\r\n")
    with pytest.raises(E.ConnectionError, match="Protocol error"):
        await waiting
    assert wire.aborted


async def test_a_link_with_no_reply_for_its_timeout_fails_with_timeout_error() -> None:
    each, wire = link(timeout=0.01)
    waiting = each.request(b"")
    with pytest.raises(E.TimeoutError, match="Timeout reading from h:1"):
        await waiting
    assert wire.aborted and isinstance(each.broken, E.TimeoutError)


async def test_a_link_that_answers_is_not_timed_out() -> None:
    each, wire = link(timeout=0.05)
    for _ in range(3):
        waiting = each.request(b"")
        each.data_received(b"+OK\r\n")
        assert await waiting == b"OK"
    idle = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(0.1, idle.set_result, None)
    await idle  # past the timeout with nothing waiting
    assert each.broken is None and not wire.aborted


class Opener:
    """Links over in-memory transports, counted; `fail` makes the next open raise."""

    def __init__(self) -> None:
        self.links: list[resp.Link] = []
        self.fail: Exception | None = None

    async def __call__(self, point: resp.Endpoint) -> resp.Link:
        if self.fail is not None:
            raise self.fail
        each = resp.Link(point)
        each.connection_made(Wire())
        self.links.append(each)
        return each


async def answer(opener: Opener, index: int, data: bytes) -> None:
    while len(opener.links) <= index or not opener.links[index]._waiting:
        await asyncio.sleep(0)
    opener.links[index].data_received(data)


async def test_the_pool_reuses_an_idle_link_and_opens_one_per_concurrent_command() -> None:
    opener = Opener()
    pool = resp.Pool(endpoint("redis://h:1/0"), 2, opener=opener)
    one = asyncio.ensure_future(pool.execute(b""))
    two = asyncio.ensure_future(pool.execute(b""))
    await asyncio.gather(answer(opener, 0, b":1\r\n"), answer(opener, 1, b":2\r\n"))
    assert (await one, await two) == (1, 2) and pool.size == 2
    three = asyncio.ensure_future(pool.execute(b""))
    await answer(opener, 1, b":3\r\n")  # the newest idle link
    assert await three == 3 and len(opener.links) == 2


async def test_the_pool_closes_a_link_whose_command_failed_or_was_cancelled() -> None:
    opener = Opener()
    pool = resp.Pool(endpoint("redis://h:1/0"), 4, opener=opener)
    cancelled = asyncio.ensure_future(pool.execute(b""))
    await answer(opener, 0, b"")  # sent, no reply yet
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert opener.links[0].broken is not None and pool.size == 0
    failing = asyncio.ensure_future(pool.execute(b""))
    await answer(opener, 1, b"-LOADING Valkey is loading\r\n")
    with pytest.raises(E.BusyLoadingError):  # raised, as redis-py does, and disconnected
        await failing
    assert opener.links[1].broken is not None and pool.size == 0
    wrong = asyncio.ensure_future(pool.execute(b""))
    await answer(opener, 2, b"-WRONGTYPE no\r\n")
    assert type(await wrong) is E.ResponseError  # returned: the link stays
    assert pool.size == 1 and opener.links[2].broken is None


async def test_the_pool_skips_a_link_that_broke_while_idle_and_counts_failed_opens() -> None:
    opener = Opener()
    pool = resp.Pool(endpoint("redis://h:1/0"), 1, opener=opener)
    first = asyncio.ensure_future(pool.execute(b""))
    await answer(opener, 0, b"+OK\r\n")
    await first
    opener.links[0].connection_lost(None)  # the server went away
    opener.fail = E.ConnectionError("refused")
    with pytest.raises(E.ConnectionError, match="refused"):
        await pool.execute(b"")
    assert pool.size == 0  # neither the broken link nor the failed open holds a place
    opener.fail = None
    again = asyncio.ensure_future(pool.execute(b""))
    await answer(opener, 1, b"+OK\r\n")
    assert await again == b"OK"
    with pytest.raises(E.MaxConnectionsError):
        busy = asyncio.ensure_future(pool.execute(b""))
        await answer(opener, 1, b"")
        await pool.execute(b"")
    busy.cancel()


async def test_the_pool_closes_links_idle_too_long_but_keeps_a_few_and_the_busy_ones() -> None:
    opener = Opener()
    pool = resp.Pool(endpoint("redis://h:1/0"), 8, opener=opener, idle_timeout=0.05, keep_idle=1)
    burst = [asyncio.ensure_future(pool.execute(b"")) for _ in range(3)]
    await asyncio.gather(*(answer(opener, i, b"+OK\r\n") for i in range(3)))
    await asyncio.gather(*burst)
    assert pool.size == 3 and pool.idle == 3
    busy = asyncio.ensure_future(pool.execute(b""))  # on the newest idle link, longer than the timeout
    await until(lambda: any(link._waiting for link in opener.links), what="the command sent")
    [held] = [link for link in opener.links if link._waiting]
    await until(lambda: pool.idle == 1, what="the burst's links closed down to the one kept")
    assert pool.size == 2 and held.broken is None
    assert sum(link.broken is not None for link in opener.links) == 1
    held.data_received(b"+OK\r\n")
    assert await busy == b"OK"  # its link was never touched
    # now the link kept before is the bottom one, idle too long: it goes, the one just used stays
    await until(lambda: pool.size == 1, what="the link idle since the burst closed")
    assert held.broken is None
    pool.close()
