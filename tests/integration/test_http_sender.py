"""`channels.sending.HttpSender` against real HTTP servers: what a delivery needs of its
client (`ripple.upstream`) beyond the router's uses. Replies (binary, structured, chunked),
the Trigger's timeout, a subscriber that closes keep-alive connections, TLS with a
Destination's `CACerts`, redirects, refused connections, the headers a subscriber sees."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from ripple import cloudevents as ce
from channels.sending import MAX_RESPONSE_BYTES, HttpSender
from tests.support.mesh import free_port
from tests.support.tls import ThrowawayCA
from tests.support.waiting import until

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def event(id_: str = "e1", data: bytes = b'{"n": 1}') -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": id_, "source": "/test", "type": "t",
                          "datacontenttype": "application/json"}, data)


@contextlib.asynccontextmanager
async def serving(handler: Handler, *, keepalive: float = 75.0,
                  tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[str, list[object]]]:
    """An aiohttp app on a free port; yields its base URL and the connections its
    requests came on (the client's address), in order."""
    connections: list[object] = []

    async def counting(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        connections.append(request.transport.get_extra_info("peername"))
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", counting)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=keepalive)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls).start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}", connections
    finally:
        await runner.cleanup()


async def accepted(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=202)


async def test_a_binary_reply_comes_back_with_its_headers_and_body() -> None:
    async def reply(request: web.Request) -> web.Response:
        assert request.headers["ce-id"] == "e1" and await request.read() == b'{"n": 1}'
        return web.Response(status=200, body=b'{"r": 2}', headers={
            "Ce-Specversion": "1.0", "Ce-Id": "r1", "Ce-Source": "/sub", "Ce-Type": "reply",
            "Content-Type": "application/json"})

    sender = HttpSender()
    async with serving(reply) as (url, _):
        response = await sender.send(url + "/", event(), timeout=5)
    await sender.close()
    assert response.status == 200 and response.error is None
    [replied] = ce.from_http(response.headers, response.body)
    assert (replied.id, replied.type, replied.data) == ("r1", "reply", b'{"r": 2}')


async def test_a_structured_reply_sent_in_chunks_is_read_whole() -> None:
    structured = ce.to_structured(event("r2", b'{"big": "' + b"x" * 200_000 + b'"}'))[1]

    async def reply(request: web.Request) -> web.StreamResponse:
        await request.read()
        answer = web.StreamResponse(status=200, headers={
            "Content-Type": "application/cloudevents+json"})
        answer.enable_chunked_encoding()
        await answer.prepare(request)
        for start in range(0, len(structured), 16_384):
            await answer.write(structured[start:start + 16_384])
        await answer.write_eof()
        return answer

    sender = HttpSender()
    async with serving(reply) as (url, _):
        response = await sender.send(url, event(), timeout=5, structured=True)
    await sender.close()
    assert response.status == 200 and response.body == structured
    [replied] = ce.from_http(response.headers, response.body)
    assert replied.id == "r2"


async def test_a_body_over_the_limit_is_cut_there() -> None:
    async def huge(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=200, body=b"x" * (MAX_RESPONSE_BYTES + 100_000))

    sender = HttpSender()
    async with serving(huge) as (url, _):
        first = await sender.send(url, event(), timeout=10)
        second = await sender.send(url, event(), timeout=10)  # whatever the first left unread
    await sender.close()
    assert first.status == 200 and len(first.body) == MAX_RESPONSE_BYTES
    assert second.status == 200 and len(second.body) == MAX_RESPONSE_BYTES


async def test_deliveries_reuse_one_keep_alive_connection() -> None:
    sender = HttpSender()
    async with serving(accepted) as (url, connections):
        for n in range(10):
            assert (await sender.send(url, event(str(n)), timeout=5)).status == 202
    await sender.close()
    assert len(set(connections)) == 1


async def test_a_subscriber_that_closes_idle_connections_loses_no_delivery() -> None:
    sender = HttpSender()
    async with serving(accepted, keepalive=0.05) as (url, connections):
        assert (await sender.send(url, event("a"), timeout=5)).status == 202
        idle = next(iter(sender._pool._idle.values()))[0]
        await until(lambda: idle.closed, what="the subscriber closed the idle connection")
        assert (await sender.send(url, event("b"), timeout=5)).status == 202
    await sender.close()
    assert len(set(connections)) == 2


async def test_a_subscriber_that_closes_after_every_answer_is_answered_every_time() -> None:
    async def closing(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202, headers={"Connection": "close"})

    sender = HttpSender()
    async with serving(closing) as (url, connections):
        answers = [await sender.send(url, event(str(n)), timeout=5) for n in range(5)]
    await sender.close()
    assert [a.status for a in answers] == [202] * 5 and len(set(connections)) == 5


async def test_a_hung_subscriber_times_out_and_its_connection_is_closed() -> None:
    closed: list[bool] = []

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # never answers; waits for the client to leave
        while await reader.read(65536):
            pass
        closed.append(True)
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = HttpSender()
    try:
        response = await sender.send(f"http://127.0.0.1:{port}/", event(), timeout=0.3)
        assert response.status is None and response.error == "timed out after 0.3s"
        await until(lambda: closed, what="the timed-out attempt's connection closed")
        assert not sender._pool._idle.get((f"127.0.0.1:{port}", None))
    finally:
        await sender.close()
        server.close()


async def test_a_cancelled_attempt_is_cancelled_not_timed_out() -> None:
    reached = asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        reached.set()
        await reader.read()  # until the client leaves
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = HttpSender()
    try:
        attempt = asyncio.create_task(sender.send(f"http://127.0.0.1:{port}/", event(), timeout=60))
        await reached.wait()
        attempt.cancel()  # a shutdown's cancel: it must not read as the attempt's timeout
        with pytest.raises(asyncio.CancelledError):
            await attempt
    finally:
        await sender.close()
        server.close()


async def test_an_unreachable_subscriber_is_an_error_not_an_exception() -> None:
    sender = HttpSender()
    response = await sender.send(f"http://127.0.0.1:{free_port()}/", event(), timeout=5)
    await sender.close()
    assert response.status is None and response.error is not None
    assert response.error.startswith("cannot connect to 127.0.0.1:")


async def test_a_bad_url_is_an_error_naming_it() -> None:
    sender = HttpSender()
    response = await sender.send("ftp://h/x", event(), timeout=5)
    assert response.status is None and response.error == (
        "ValueError: unsupported URL scheme 'ftp': only http and https")


async def test_a_redirect_is_the_answer_not_followed() -> None:
    hits: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        hits.append(request.path)
        await request.read()
        if request.path == "/old":
            return web.Response(status=307, headers={"Location": "/new"})
        return web.Response(status=202)

    sender = HttpSender()
    async with serving(redirect) as (url, _):
        response = await sender.send(url + "/old", event(), timeout=5)
    await sender.close()
    assert response.status == 307 and response.headers["location"] == "/new"
    assert hits == ["/old"]


async def test_the_subscriber_sees_the_delivery_headers_and_url_credentials() -> None:
    seen: list[web.Request] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request)
        await request.read()
        return web.Response(status=429, headers={"Retry-After": "7"})

    sender = HttpSender()
    async with serving(record) as (url, _):
        with_credentials = url.replace("http://", "http://user:secret@") + "/path?q=1"
        response = await sender.send(with_credentials, event(), timeout=5, headers={
            "Kn-Namespace": "default", "Prefer": "reply",
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    await sender.close()
    assert response.status == 429 and response.headers["retry-after"] == "7"
    [request] = seen
    assert request.path_qs == "/path?q=1"
    assert request.headers["Host"] == url.removeprefix("http://")
    assert request.headers["Authorization"] == "Basic dXNlcjpzZWNyZXQ="
    assert request.headers["Kn-Namespace"] == "default" and request.headers["Prefer"] == "reply"
    assert request.headers["traceparent"].startswith("00-0af7651916cd43dd")
    assert request.headers["Content-Type"] == "application/json"
    assert "Accept-Encoding" not in request.headers


async def test_tls_is_verified_against_the_destinations_ca_certs(tmp_path: Path) -> None:
    ca = ThrowawayCA(tmp_path)
    sender = HttpSender()
    async with serving(accepted, tls=ca.server_context("subscriber")) as (url, connections):
        trusted = await sender.send(url, event(), timeout=5, ca_certs=ca.pem)
        again = await sender.send(url, event("2"), timeout=5, ca_certs=ca.pem)
        # the system's trust store does not know the throwaway CA
        untrusted = await sender.send(url, event("3"), timeout=5)
        other = ThrowawayCA(tmp_path / "other")
        wrong = await sender.send(url, event("4"), timeout=5, ca_certs=other.pem)
    await sender.close()
    assert trusted.status == 202 and again.status == 202
    assert connections[0] == connections[1]  # one pooled TLS connection
    for failed in (untrusted, wrong):
        assert failed.status is None and "CERTIFICATE_VERIFY_FAILED" in (failed.error or "")


async def test_tls_trusts_the_mesh_certificate_given_to_the_sender(tmp_path: Path) -> None:
    from channels.sending import trusting

    ca = ThrowawayCA(tmp_path)
    sender = HttpSender(trust=trusting(str(ca.path)))
    async with serving(accepted, tls=ca.server_context("mesh")) as (url, _):
        response = await sender.send(url.replace("127.0.0.1", "localhost"), event(), timeout=5)
    await sender.close()
    assert response.status == 202, response.error
