"""serving.wire: the function host's HTTP/1.1 request reading and response rendering."""

from __future__ import annotations

import asyncio

import pytest

from serving import wire


async def read(raw: bytes) -> wire.Message | None:
    reader = asyncio.StreamReader(limit=wire.MAX_HEAD)
    reader.feed_data(raw)
    reader.feed_eof()
    return await wire.read_request(reader)


@pytest.mark.parametrize("raw, method, target, headers, body, keep_alive", [
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/healthz", {"host": "x"}, b"", True),
    (b"POST /a?b=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "POST", "/a?b=1",
     {"content-length": "3"}, b"abc", True),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n",
     "POST", "/", {"transfer-encoding": "chunked"}, b"abcde", True),
    (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "GET", "/", {"connection": "close"}, b"", False),
    (b"GET / HTTP/1.0\r\n\r\n", "GET", "/", {}, b"", False),
    (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", {"connection": "Keep-Alive"}, b"", True),
    (b"GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\n\r\n", "GET", "/", {"x-a": "1,2"}, b"", True),  # folded
    (b"\r\nGET / HTTP/1.1\r\n\r\n", "GET", "/", {}, b"", True),  # a stray CRLF before a request
])
async def test_reads(raw, method, target, headers, body, keep_alive) -> None:
    message = await read(raw)
    assert message is not None
    assert (message.method, message.target, message.headers, message.body) == (method, target, headers, body)
    assert message.keep_alive is keep_alive


async def test_a_clean_close_is_no_request() -> None:
    assert await read(b"") is None


@pytest.mark.parametrize("raw, status", [
    (b"GET /\r\n\r\n", 400),                                            # no version
    (b"GET / SPDY/3\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nX : 1\r\n\r\n", 400),                          # space before the colon
    (b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", 400),            # closed inside the body
    (b"POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (wire.MAX_BODY + 1), 413),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x", 400),                               # closed inside the head
    (b"GET / HTTP/1.1\r\nX: " + b"a" * wire.MAX_HEAD + b"\r\n\r\n", 431),
])
async def test_refuses(raw, status) -> None:
    with pytest.raises(wire.BadRequest) as refused:
        await read(raw)
    assert refused.value.status == status


@pytest.mark.parametrize("status, headers, body, keep_alive, expected", [
    (200, {"content-type": "application/json"}, b"{}", True,
     b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"),
    (202, {}, b"", False, b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
    (299, {"Content-Length": "99"}, b"x", True, b"HTTP/1.1 299 \r\ncontent-length: 1\r\n\r\nx"),
])
def test_render(status, headers, body, keep_alive, expected) -> None:
    assert wire.render(status, headers, body, keep_alive=keep_alive) == expected
