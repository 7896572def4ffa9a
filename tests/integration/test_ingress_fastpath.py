"""The ingress's fast path (`channels.fastpath`) answers byte for byte as the ASGI app on
uvicorn's own httptools protocol does, and it is the fast path that serves.

Two real uvicorn servers on loopback, one with uvicorn's `HttpToolsProtocol` and one with
the fast path's protocol, front the same `Ingress` (real `Appender`, real Valkey) behind the
local platform's `routing.make_root` and `make_pick`. Each case writes the same raw bytes
to both and compares every byte they answer (the `date` header aside), then the entries in
the log. Cases: binary, structured and batch events, 404/400/405/413/401/503, OPTIONS and
HEAD, chunked bodies, keep-alive, pipelining (mixed with requests the fast path declines),
HTTP/1.0, query strings, percent-encoded paths, Expect: 100-continue.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from channels import fastpath
from channels.appending import Appender
from channels.authorizing import IngressTokens
from channels.ingress import Ingress
from controllers.platforms.local import routing
from ripple.settings import IngressSettings

pytestmark = pytest.mark.integration

LIMIT = 2048
LOG = "ripple:test:{default/default}:log"
CHANNEL_LOG = "ripple:test:{default/ch}:log"
FULL = "ripple:test:{default/full}:log"
STREAMS = {("default", "default"): LOG, ("default", "guarded"): LOG, ("default", "full"): FULL}
CE = (b"ce-specversion: 1.0\r\nce-id: 1\r\nce-source: /s\r\nce-type: t\r\n"
      b"content-type: application/json\r\n")
BODY = b'{"a":1}'


def post(path: bytes, body: bytes = BODY, headers: bytes = CE, close: bool = False,
         version: bytes = b"1.1") -> bytes:
    extra = b"connection: close\r\n" if close else b""
    return (b"POST " + path + b" HTTP/" + version + b"\r\nhost: x\r\n" + headers + extra
            + b"content-length: %d\r\n\r\n" % len(body) + body)


def chunked(path: bytes, chunks: list[bytes], close: bool = True) -> bytes:
    extra = b"connection: close\r\n" if close else b""
    out = b"POST " + path + b" HTTP/1.1\r\nhost: x\r\n" + CE + extra + b"transfer-encoding: chunked\r\n\r\n"
    for c in chunks:
        out += b"%x\r\n" % len(c) + c + b"\r\n"
    return out + b"0\r\n\r\n"


def other(method: bytes, path: bytes) -> bytes:
    return method + b" " + path + b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"


STRUCTURED = json.dumps({"specversion": "1.0", "id": "s1", "source": "/s", "type": "t",
                         "data": {"x": 1}}).encode()
BATCH = json.dumps([{"specversion": "1.0", "id": f"b{i}", "source": "/s", "type": "t"}
                    for i in range(3)]).encode()
JSON_CE = lambda media: b"content-type: " + media + b"\r\n"  # noqa: E731

CASES: dict[str, list[bytes]] = {
    "binary": [post(b"/default/default", close=True)],
    "query string": [post(b"/default/default?x=1", close=True)],
    "trailing slash": [post(b"/default/default/", close=True)],
    "structured": [post(b"/default/default", STRUCTURED,
                        JSON_CE(b"application/cloudevents+json"), close=True)],
    "batch": [post(b"/default/default", BATCH, JSON_CE(b"application/cloudevents-batch+json"),
                   close=True)],
    "channel": [post(b"/channels/default/ch", close=True)],
    "unknown broker": [post(b"/default/nope", close=True)],
    "root": [post(b"/", close=True)],
    "malformed path": [post(b"/a/b/c", close=True)],
    "malformed channel path": [post(b"/channels/a", close=True)],
    "invalid event": [post(b"/default/default", headers=b"ce-specversion: 1.0\r\n", close=True)],
    "bad json": [post(b"/default/default", b"[1", JSON_CE(b"application/cloudevents+json"),
                      close=True)],
    "declared too large": [post(b"/default/default", b"x" * LIMIT, close=True)],
    "headers too large": [post(b"/default/default", headers=CE + b"ce-big: " + b"y" * LIMIT + b"\r\n",
                               close=True)],
    "chunked": [chunked(b"/default/default", [b'{"a":', b"1}"])],
    "chunked too large": [chunked(b"/default/default", [b"x" * 1000] * 3)],
    "token missing": [post(b"/default/guarded", close=True)],
    "token given": [post(b"/default/guarded", headers=CE + b"authorization: Bearer s3cret\r\n",
                         close=True)],
    "backlog over its bound": [post(b"/default/full", close=True)],
    "percent-encoded path": [post(b"/default/%64efault", close=True)],
    "GET": [other(b"GET", b"/default/default")],
    "HEAD": [other(b"HEAD", b"/default/default")],
    "OPTIONS": [other(b"OPTIONS", b"/default/default")],
    "PUT": [other(b"PUT", b"/default/default")],
    "health": [other(b"GET", b"/healthz")],
    "control API without its token": [other(b"GET", b"/apis")],
    "HTTP/1.0": [post(b"/default/default", version=b"1.0")],
    "keep-alive, one after another": [post(b"/default/default"), post(b"/default/nope"),
                                      post(b"/default/default", close=True)],
    "pipelined": [post(b"/default/default") + post(b"/default/nope") + b"OPTIONS /x/y HTTP/1.1\r\nhost: x\r\n\r\n"
                  + post(b"/default/default") + chunked(b"/default/default", [BODY])],
}

STATUSES = {
    "binary": [202],
    "query string": [202],
    "trailing slash": [202],
    "structured": [202],
    "batch": [202],
    "channel": [202],
    "unknown broker": [404],
    "root": [404],
    "malformed path": [400],
    "malformed channel path": [400],
    "invalid event": [400],
    "bad json": [400],
    "declared too large": [413],
    "headers too large": [413],
    "chunked": [202],
    "chunked too large": [413],
    "token missing": [401],
    "token given": [202],
    "backlog over its bound": [503],
    "percent-encoded path": [202],
    "GET": [405],
    "HEAD": [405],
    "OPTIONS": [200],
    "PUT": [405],
    "health": [200],
    "control API without its token": [401],
    "HTTP/1.0": [202],
    "keep-alive, one after another": [202, 404, 202],
    "pipelined": [202, 404, 200, 202, 202],
}
"""What each case answers, read from the ASGI app (and asserted of both)."""


class Served:
    def __init__(self, protocol: type[Any], redis_client: Any) -> None:
        self.protocol, self.redis = protocol, redis_client
        self.asgi_paths: list[str] = []
        self.fast_paths: list[str] = []

    async def start(self) -> None:
        settings = IngressSettings(max_event_bytes=LIMIT)
        appender = Appender(self.redis, max_backlog=1000)
        appender.note_length(FULL, 2000)  # over its bound: 503 + Retry-After
        tokens = IngressTokens(None, ("Broker",))  # type: ignore[arg-type]
        tokens.required = {("default", "guarded"): frozenset({b"s3cret"})}
        broker = Ingress(lambda ns, name: STREAMS.get((ns, name)), appender, settings, tokens=tokens)  # type: ignore[arg-type]
        channel = Ingress(lambda ns, name: CHANNEL_LOG if (ns, name) == ("default", "ch") else None,
                          appender, settings,  # type: ignore[arg-type]
                          kind="channel", prefix="/channels")

        async def api(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"api"})

        root = routing.make_root(api=api, ingress=broker, tail=api, channels=channel, webhooks=api,
                                 token="t0ken")

        async def spied(scope: Any, receive: Any, send: Any) -> None:
            self.asgi_paths.append(scope["path"])
            await root(scope, receive, send)

        pick = routing.make_pick(ingress=broker, channels=channel)

        def picked(path: str, server: Any, headers: Any) -> Ingress | None:
            chosen = pick(path, server, headers)
            if chosen is not None:
                self.fast_paths.append(path)
            return chosen

        http = self.protocol if self.protocol is HttpToolsProtocol else fastpath.protocol(picked)
        config = uvicorn.Config(spied, http=http, lifespan="off", log_config=None,
                                access_log=False, server_header=False, loop="none",
                                timeout_graceful_shutdown=5)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.server = uvicorn.Server(config)
        self.task = asyncio.ensure_future(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            await asyncio.sleep(0.01)

    async def exchange(self, writes: list[bytes]) -> bytes:
        """Each write on one connection, the answers read to the server's close."""
        reader, writer = await asyncio.open_connection(*self.sock.getsockname()[:2])
        out = b""
        for i, data in enumerate(writes):
            writer.write(data)
            await writer.drain()
            if i < len(writes) - 1:  # one after another: wait for this one's answer
                out += await _one_answer(reader)
        out += await reader.read()
        writer.close()
        return out

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def _one_answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
    return head + await reader.readexactly(length)


@pytest.fixture
async def servers(redis_client: Any) -> AsyncIterator[tuple[Served, Served]]:
    asgi, fast = Served(HttpToolsProtocol, redis_client), Served(fastpath.FastProtocol, redis_client)
    await asgi.start()
    await fast.start()
    try:
        yield asgi, fast
    finally:
        await asgi.stop()
        await fast.stop()


def _normal(raw: bytes) -> bytes:
    return re.sub(rb"date: [^\r]*\r\n", b"date: -\r\n", raw)


async def _entries(redis_client: Any, stream: str) -> list[dict[bytes, bytes]]:
    return [fields for _, fields in await redis_client.xrange(stream)]


@pytest.mark.parametrize("case", list(CASES))
async def test_the_fast_path_answers_as_the_asgi_app(servers: tuple[Served, Served],
                                                     redis_client: Any, case: str) -> None:
    asgi, fast = servers
    wanted = _normal(await asgi.exchange(CASES[case]))
    logged = {s: await _entries(redis_client, s) for s in (LOG, CHANNEL_LOG, FULL)}
    await redis_client.delete(LOG, CHANNEL_LOG, FULL)
    got = _normal(await fast.exchange(CASES[case]))
    assert got == wanted
    assert {s: await _entries(redis_client, s) for s in (LOG, CHANNEL_LOG, FULL)} == logged
    assert [int(s) for s in re.findall(rb"HTTP/1.1 ([0-9]+) ", wanted)] == STATUSES[case]


async def test_the_ingress_posts_skip_asgi_and_the_rest_reach_it(servers: tuple[Served, Served]
                                                                 ) -> None:
    _, fast = servers
    for case in ("binary", "chunked", "unknown broker", "malformed path", "channel",
                 "declared too large", "GET", "OPTIONS", "health", "percent-encoded path",
                 "control API without its token", "pipelined"):
        await fast.exchange(CASES[case])
    assert fast.fast_paths == ["/default/default", "/default/default", "/default/nope", "/a/b/c",
                               "/channels/default/ch", "/default/default",
                               "/default/default", "/default/nope", "/default/default",
                               "/default/default"]
    assert fast.asgi_paths == ["/default/default", "/default/default", "/healthz",
                               "/default/default", "/apis", "/x/y"]


@pytest.mark.parametrize("path, wanted", [(b"/default/default", b"202"), (b"/default/nope", b"404")])
async def test_expect_100_continue_is_answered_when_the_body_is_wanted(
        servers: tuple[Served, Served], path: bytes, wanted: bytes) -> None:
    answers = []
    for served in servers:
        reader, writer = await asyncio.open_connection(*served.sock.getsockname()[:2])
        head = post(path, close=True).replace(b"host: x\r\n", b"host: x\r\nexpect: 100-continue\r\n")
        headers, _, body = head.partition(b"\r\n\r\n")
        writer.write(headers + b"\r\n\r\n")
        first = await _first_line(reader)
        if wanted == b"202":
            assert first == b"HTTP/1.1 100 Continue\r\n"
            assert await reader.readuntil(b"\r\n") == b"\r\n"
            writer.write(body)
            first = await _first_line(reader)
        answers.append(first + _normal(await reader.read()))
        writer.close()
    assert answers[0] == answers[1]
    assert answers[1].startswith(b"HTTP/1.1 " + wanted)


async def _first_line(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n")

