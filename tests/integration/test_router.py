"""serving.routing on real sockets: uvicorn serving the router, aiohttp apps as replicas,
and one `ripple function serve` replica (issue #10 items 4 and 5). No Valkey is needed.
Every wait is on a condition with a bound (a count reached, a task done)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
import uvicorn
import yarl
from aiohttp import web

from serving import hosting, routing, traffic
from serving.routing import RevisionKey, Settings

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "tests" / "support" / "functions" / "handlers.py"
RIPPLE = str(Path(sys.executable).with_name("ripple"))
NS = "ns"


def free_port() -> int:
    sock = hosting.bind("127.0.0.1", 0)
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.close()


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {check}"
        await asyncio.sleep(0.01)


class Replica:
    """An aiohttp app that says which revision it is and echoes what it got."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        self.gate = asyncio.Event()
        self.gate.set()
        self.seen: list[str] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _echo(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(request.headers.get("x-order", ""))
        if request.path.startswith("/slow"):
            await self.gate.wait()
        if request.path.startswith("/sleep"):
            await asyncio.sleep(float(request.query["s"]))
        if request.path.startswith("/stream"):
            response = web.StreamResponse()
            await response.prepare(request)
            for i in range(5):
                await response.write(b"chunk%d;" % i)
            await response.write_eof()
            return response
        return web.json_response({
            "revision": self.revision, "method": request.method, "path": request.raw_path,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "length": len(body), "tail": body[-8:].decode("latin-1"),
        }, headers={"x-replica": self.revision, "keep-alive": "timeout=5"})

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._echo)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def route(name: str, entries: list[dict]) -> dict:
    return {"metadata": {"name": name, "namespace": NS}, "status": {"traffic": entries}}


class Bed:
    def __init__(self) -> None:
        self.table = traffic.Table()
        self.endpoints = routing.StaticEndpoints()
        self.pokes: list = []
        self.stats: list = []
        self.router = routing.Router(self.table, self.endpoints, poke=self.pokes.append,
                                     on_stat=lambda k, s: self.stats.append((k, s)),
                                     rng=random.Random(1234))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.replicas: list[Replica] = []

    async def replica(self, revision: str, settings: Settings = Settings(),
                      ready: bool = True) -> Replica:
        replica = Replica(revision)
        await replica.start()
        self.replicas.append(replica)
        key = RevisionKey(NS, revision)
        if self.endpoints.settings(key) is None:
            self.endpoints.set_revision(key, settings)
        if ready:
            self.endpoints.set_ready(key, [*self.endpoints.ready(key), replica.address])
        return replica


@pytest.fixture
async def bed() -> AsyncIterator[Bed]:
    bed = Bed()
    config = uvicorn.Config(bed.router, host="127.0.0.1", port=bed.port, lifespan="off",
                            log_level="warning", loop="asyncio", proxy_headers=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started)
    try:
        yield bed
    finally:
        server.should_exit = True
        await task
        await bed.router.close()
        for replica in bed.replicas:
            await replica.stop()


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        yield session


async def get(client: aiohttp.ClientSession, url: str, **kw) -> tuple[int, dict, bytes]:
    async with client.request(kw.pop("method", "GET"), url, **kw) as response:
        return response.status, dict(response.headers), await response.read()


async def test_path_and_host_addresses_reach_the_revision(bed: Bed, client) -> None:
    await bed.replica("foo-00001")
    bed.table.set_route(route("foo", [{"revisionName": "foo-00001", "percent": 100}]))
    url = yarl.URL(f"{bed.url}/serving/ns/foo/a%2Fb?x=1&y=%2F", encoded=True)
    status, headers, body = await get(client, url,
                                      headers={"X-Forwarded-For": "10.0.0.9",
                                               "Connection": "keep-alive, x-hop",
                                               "x-hop": "dropped", "x-kept": "yes"})
    assert status == 200, body
    seen = json.loads(body)
    assert seen["revision"] == "foo-00001"
    assert seen["path"] == "/a%2Fb?x=1&y=%2F"  # raw, as the client sent it
    assert seen["headers"]["x-forwarded-for"] == "10.0.0.9, 127.0.0.1"
    assert seen["headers"]["k-original-host"] == f"127.0.0.1:{bed.port}"
    assert seen["headers"]["host"] == bed.replicas[0].address
    assert seen["headers"]["x-kept"] == "yes"
    assert "x-hop" not in seen["headers"]
    assert headers["x-replica"] == "foo-00001"
    assert "Keep-Alive" not in headers  # hop-by-hop on the way back too

    status, _, body = await get(client, f"{bed.url}/",
                                headers={"Host": "foo.ns.svc.cluster.local"})
    assert status == 200 and json.loads(body)["path"] == "/"
    assert bed.router.claims({"path": "/x", "headers": [(b"host", b"foo.ns.svc.cluster.local")]})
    assert not bed.router.claims({"path": "/x", "headers": [(b"host", b"other")]})


async def test_bodies_stream_both_ways(bed: Bed, client) -> None:
    await bed.replica("foo-00001")
    bed.table.set_route(route("foo", [{"revisionName": "foo-00001", "percent": 100}]))

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(64):
            yield bytes([65 + i % 26]) * 16384

    status, _, body = await get(client, f"{bed.url}/serving/ns/foo/up", method="POST",
                                data=chunks())
    assert status == 200
    seen = json.loads(body)
    assert seen["length"] == 64 * 16384 and seen["tail"] == "LLLLLLLL"
    status, _, body = await get(client, f"{bed.url}/serving/ns/foo/stream")
    assert (status, body) == (200, b"chunk0;chunk1;chunk2;chunk3;chunk4;")


async def test_fifty_fifty_split_over_400_requests(bed: Bed, client) -> None:
    await bed.replica("foo-00001")
    await bed.replica("foo-00002")
    bed.table.set_route(route("foo", [
        {"revisionName": "foo-00001", "percent": 50},
        {"revisionName": "foo-00002", "percent": 50, "latestRevision": True}]))
    counts = {"foo-00001": 0, "foo-00002": 0}
    for _ in range(400):
        status, headers, _ = await get(client, f"{bed.url}/serving/ns/foo")
        assert status == 200
        counts[headers["x-replica"]] += 1
    # Binomial(400, 0.5): sd 10; 4 sd is p < 1e-4.
    assert abs(counts["foo-00001"] - 200) <= 4 * math.sqrt(100), counts


async def test_tag_addresses_send_everything_to_the_tagged_revision(bed: Bed, client) -> None:
    await bed.replica("foo-00001")
    await bed.replica("foo-00002")
    bed.table.set_route(route("foo", [
        {"revisionName": "foo-00002", "percent": 100, "latestRevision": True},
        {"revisionName": "foo-00001", "percent": 0, "tag": "old"}]))
    for _ in range(20):
        _, headers, _ = await get(client, f"{bed.url}/serving/ns/foo/@old/x")
        assert headers["x-replica"] == "foo-00001"
        _, headers, _ = await get(client, f"{bed.url}/x",
                                  headers={"Host": "old-foo.ns.svc.cluster.local"})
        assert headers["x-replica"] == "foo-00001"
        _, headers, _ = await get(client, f"{bed.url}/serving/ns/foo/x")
        assert headers["x-replica"] == "foo-00002"


@pytest.mark.parametrize("path", ["/serving/ns/nope", "/serving/ns/foo/@nope", "/elsewhere"])
async def test_unknown_addresses_are_404(bed: Bed, client, path: str) -> None:
    bed.table.set_route(route("foo", []))
    status, _, body = await get(client, bed.url + path)
    assert status == 404, body


async def test_breaker_queues_ten_times_and_refuses_the_rest(bed: Bed, client) -> None:
    replica = await bed.replica("foo-00001", Settings(container_concurrency=1))
    replica.gate.clear()
    bed.table.set_route(route("foo", [{"revisionName": "foo-00001", "percent": 100}]))
    url = f"{bed.url}/serving/ns/foo/slow"
    tasks = [asyncio.create_task(get(client, url, headers={"x-order": str(i)}))
             for i in range(11)]
    gate = None
    await eventually(lambda: replica.address in bed.router.breakers)
    gate = bed.router.breakers[replica.address]
    await eventually(lambda: (gate.running, gate.waiting) == (1, 10))
    status, headers, _ = await get(client, url)
    assert status == 503 and headers["Retry-After"] == "1"
    replica.gate.set()
    answers = await asyncio.gather(*tasks)
    assert [a[0] for a in answers] == [200] * 11
    assert (gate.running, gate.waiting) == (0, 0)


async def test_least_in_flight_spreads_over_replicas(bed: Bed, client) -> None:
    a = await bed.replica("foo-00001", Settings(container_concurrency=1))
    b = await bed.replica("foo-00001")
    a.gate.clear()
    b.gate.clear()
    bed.table.set_route(route("foo", [{"revisionName": "foo-00001", "percent": 100}]))
    tasks = [asyncio.create_task(get(client, f"{bed.url}/serving/ns/foo/slow"))
             for _ in range(2)]
    await eventually(lambda: len(a.seen) == 1 and len(b.seen) == 1)
    a.gate.set()
    b.gate.set()
    assert [t[0] for t in await asyncio.gather(*tasks)] == [200, 200]


async def test_activator_buffers_pokes_and_releases_in_order(bed: Bed, client) -> None:
    key = RevisionKey(NS, "foo-00001")
    replica = await bed.replica("foo-00001", Settings(container_concurrency=1), ready=False)
    bed.table.set_route(route("foo", [{"revisionName": "foo-00001", "percent": 100}]))
    tasks = []
    for i in range(5):  # one by one, so the arrival order is known
        tasks.append(asyncio.create_task(
            get(client, f"{bed.url}/serving/ns/foo", headers={"x-order": str(i)})))
        await eventually(lambda: bed.router.activator.waiting(key) == i + 1)
    assert bed.pokes == [key]
    assert bed.stats[0][0] == key  # the first request's stat went out at once
    bed.endpoints.set_ready(key, [replica.address])
    assert bed.router.replica_ready(key, replica.address) == 5
    answers = await asyncio.gather(*tasks)
    assert [a[0] for a in answers] == [200] * 5
    assert replica.seen == ["0", "1", "2", "3", "4"]
    reported = dict(bed.router.report())
    assert reported[key].request_count == 4  # 5, less the first one sent at once


async def test_stats_are_reported_each_period(bed: Bed, client) -> None:
    await bed.replica("foo-00001")
    bed.table.set_route(route("foo", [{"revisionName": "foo-00001", "percent": 100}]))
    for _ in range(3):
        assert (await get(client, f"{bed.url}/serving/ns/foo"))[0] == 200
    seen: list = []
    task = asyncio.create_task(bed.router.report_every(lambda k, s: seen.append((k, s)), 0.05))
    try:
        await eventually(lambda: len(seen) >= 1)
    finally:
        task.cancel()
    key, stat = seen[0]
    assert key == RevisionKey(NS, "foo-00001")
    assert stat.request_count == 2  # 3 arrivals, less the first one sent at once
    assert [(k, s.request_count) for k, s in bed.stats] == [(key, 1)]


async def test_activator_timeout_is_503(bed: Bed, client) -> None:
    await bed.replica("foo-00001", Settings(timeout_seconds=0.2), ready=False)
    bed.table.set_route(route("foo", [{"revisionName": "foo-00001", "percent": 100}]))
    status, headers, body = await get(client, f"{bed.url}/serving/ns/foo")
    assert status == 503 and "Retry-After" in headers, body
    assert bed.router.activator.waiting(RevisionKey(NS, "foo-00001")) == 0


async def test_activator_bound_is_503(bed: Bed, client) -> None:
    bed.router.activator.depth = 1
    key = RevisionKey(NS, "foo-00001")
    replica = await bed.replica("foo-00001", ready=False)
    bed.table.set_route(route("foo", [{"revisionName": "foo-00001", "percent": 100}]))
    waiting = asyncio.create_task(get(client, f"{bed.url}/serving/ns/foo"))
    await eventually(lambda: bed.router.activator.waiting(key) == 1)
    status, headers, body = await get(client, f"{bed.url}/serving/ns/foo")
    assert status == 503 and headers["Retry-After"] == "1", body
    bed.endpoints.set_ready(key, [replica.address])
    bed.router.replica_ready(key, replica.address)
    assert (await waiting)[0] == 200


async def test_replica_past_its_timeout_is_504(bed: Bed, client) -> None:
    await bed.replica("foo-00001", Settings(timeout_seconds=0.3))
    bed.table.set_route(route("foo", [{"revisionName": "foo-00001", "percent": 100}]))
    status, _, body = await get(client, f"{bed.url}/serving/ns/foo/sleep?s=5")
    assert status == 504, body


async def test_unreachable_replica_is_502(bed: Bed, client) -> None:
    key = RevisionKey(NS, "foo-00001")
    bed.endpoints.set_revision(key)
    bed.endpoints.set_ready(key, [f"127.0.0.1:{free_port()}"])
    bed.table.set_route(route("foo", [{"revisionName": "foo-00001", "percent": 100}]))
    status, _, body = await get(client, f"{bed.url}/serving/ns/foo")
    assert status == 502, body


@contextlib.asynccontextmanager
async def function_replica(name: str) -> AsyncIterator[int]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        RIPPLE, "function", "serve", f"{HANDLERS}:{name}",
        env={**os.environ, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        yield port
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_function_host_behind_the_router(bed: Bed, client) -> None:
    key = RevisionKey(NS, "fn-00001")
    bed.endpoints.set_revision(key)
    bed.table.set_route(route("fn", [{"revisionName": "fn-00001", "percent": 100}]))
    async with function_replica("web") as port:
        async def healthy() -> bool:
            with contextlib.suppress(aiohttp.ClientError):
                async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                    return response.status == 200
            return False

        deadline = time.monotonic() + 30
        while not await healthy():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        bed.endpoints.set_ready(key, [f"127.0.0.1:{port}"])
        status, _, body = await get(client, f"{bed.url}/serving/ns/fn/hello?a=1",
                                    method="POST", data=b"hi")
        assert status == 200, body
        assert json.loads(body) == {"method": "POST", "path": "/hello", "query": {"a": "1"},
                                    "body": "hi"}


# -- ripple.upstream, the router's (and deliveries') client ---------------------------------------------------
@contextlib.asynccontextmanager
async def counted_app(keepalive: float = 75.0) -> AsyncIterator[tuple[str, list[int]]]:
    """An aiohttp app that answers with the number of the connection it came on."""
    connections: list[int] = []

    async def answer(request: web.Request) -> web.Response:
        transport = request.transport
        ident = id(transport)
        if ident not in connections:
            connections.append(ident)
        await request.read()
        return web.Response(text=str(connections.index(ident)), headers={"x-n": "1"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=keepalive)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"127.0.0.1:{port}", connections
    finally:
        await runner.cleanup()


async def read_all(response) -> bytes:
    parts = []
    while chunk := await response.read():
        parts.append(chunk)
    response.release()
    return b"".join(parts)


async def test_upstream_reuses_keep_alive_connections() -> None:
    from ripple import upstream

    pool = upstream.Pool()
    async with counted_app() as (endpoint, connections):
        for _ in range(20):
            response = await pool.request(endpoint, "POST", "/x", [(b"a", b"b")], b"body")
            assert response.status == 200 and await read_all(response) == b"0"
        assert len(connections) == 1
        head = await pool.request(endpoint, "HEAD", "/x", [], None)
        assert head.status == 200 and await read_all(head) == b""
    await pool.close()


async def test_upstream_retries_once_when_the_idle_connection_was_closed() -> None:
    from ripple import upstream

    pool = upstream.Pool()
    async with counted_app(keepalive=0.05) as (endpoint, connections):
        response = await pool.request(endpoint, "GET", "/", [], None)
        await read_all(response)
        idle = pool._idle[(endpoint, None)][0]
        await eventually(lambda: idle.closed)  # the app's keep-alive timeout closed it
        response = await pool.request(endpoint, "GET", "/", [], None)
        assert await read_all(response) == b"1"
    await pool.close()


async def test_upstream_refused_is_an_upstream_error() -> None:
    from ripple import upstream

    pool = upstream.Pool()
    with pytest.raises(upstream.UpstreamError):
        await pool.request(f"127.0.0.1:{free_port()}", "GET", "/", [], None)


async def test_upstream_body_delimited_by_the_connection_end() -> None:
    from ripple import upstream

    async def old_style(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(old_style, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = upstream.Pool()
    try:
        response = await pool.request(f"127.0.0.1:{port}", "GET", "/", [], None)
        assert response.status == 200 and await read_all(response) == b"until the end"
    finally:
        await pool.close()
        server.close()
        await server.wait_closed()
