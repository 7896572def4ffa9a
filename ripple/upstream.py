"""Ripple's HTTP/1.1 client: keep-alive connections on asyncio + httptools.

Two callers: the router (`serving.routing`) proxies every request to a replica through it,
and the delivery engine (`channels.sending`) POSTs every event to its subscriber through
it. Why not aiohttp's client: P7 measured the router at about 110 µs of CPU per request
with aiohttp, most of it in the client (request and response objects, header multidicts,
URL parsing), against a replica's 170 µs; P2 found the same share in deliveries. This
client does only what a caller that knows its `host:port` needs: it writes the request
head as bytes, parses the answer with httptools (uvicorn's parser, already installed),
and hands the body over chunk by chunk.

- One pool of idle connections per endpoint and TLS context; a connection goes back only
  after a whole answer that keeps the connection alive (`should_keep_alive`) and a whole
  request. An idle connection is dropped after `idle_timeout` (when given), before the
  other side drops it (uvicorn closes one idle for 5 s).
- A request body is bytes (sent with Content-Length) or an async iterator (chunked).
- A reused connection that the peer closed while it sat idle fails before any answer
  byte; such a request is sent once more on a new connection when its body was bytes
  (Go's transport retries the same case).
- TLS: `tls` is the `ssl.SSLContext` that verifies the peer (its `server_hostname` the
  request's host); connections of different contexts never mix.
- Backpressure: reading pauses while more than `HIGH_WATER` bytes of body wait for the
  caller; writing waits while the transport's buffer is full.
- Cancelling a request (the caller's deadline) closes its connection; so does releasing
  an answer that was not read through.
- Errors: `UpstreamError` (an OSError) for a refused, reset or broken connection, a failed
  TLS handshake included.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from collections.abc import AsyncIterator, Sequence

import httptools

HIGH_WATER = 1 << 20
Headers = Sequence[tuple[bytes, bytes]]


Key = tuple[str, ssl.SSLContext | None]
"""A pool's key: the endpoint (`host:port`) and the TLS context (None: plain TCP)."""


class UpstreamError(OSError):
    """The peer could not be reached, or broke the connection."""


class _Connection(asyncio.Protocol):
    def __init__(self, pool: Pool, key: Key) -> None:
        self.pool, self.key = pool, key
        self.idle_since = 0.0
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.failure: Exception | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._writable = asyncio.Event()
        self._writable.set()
        self._reset()

    def _reset(self) -> None:
        loop = asyncio.get_running_loop()
        self.head: asyncio.Future[None] = loop.create_future()
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.complete = False
        self.reusable = False
        self.received = False
        self._wake: asyncio.Future[None] | None = None
        self._paused = False
        self.skip_body = False

    # -- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamError("the peer upgraded the connection"))
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"malformed answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._writable.set()  # a writer waiting for room finds the connection gone
        if exc is None and self.head.done() and not self._framed() and not self.complete:
            self.complete = True  # a body without length or chunks ends with the connection
            self._notify()
        if not self.complete:
            self._fail(UpstreamError(f"connection closed by the peer: {exc or 'EOF'}"))

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def _framed(self) -> bool:
        return any(name.lower() in (b"content-length", b"transfer-encoding")
                   for name, _ in self.headers)

    # -- httptools callbacks ----------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        if 100 <= self.status < 200:  # an interim answer: the real one follows
            self.headers = []
            return
        # llhttp's answer is only right here: after the message it describes the next one.
        self.reusable = self._parser.should_keep_alive()
        if not self.head.done():
            self.head.set_result(None)
        if self.skip_body:
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and self.transport is not None and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._notify()

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:
            return
        self.complete = True
        self._notify()

    # -- the caller's side ------------------------------------------------------------------
    def _notify(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _fail(self, exc: Exception) -> None:
        if not self.head.done():
            self.head.set_exception(exc)
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_exception(exc)
        self.failure = exc
        self.close()

    async def read(self) -> bytes:
        """The next piece of the body; b"" at its end."""
        while not self.chunks:
            if self.complete:
                return b""
            if self.failure is not None:
                raise self.failure
            self._wake = asyncio.get_running_loop().create_future()
            await self._wake
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        if self._paused and self.buffered <= HIGH_WATER // 2 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return chunk

    @property
    def at_eof(self) -> bool:
        return self.complete and not self.chunks

    async def write(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            raise self.failure or UpstreamError("connection closed by the peer")
        self.transport.write(data)
        if not self._writable.is_set():
            await self._writable.wait()

    def keep_alive(self) -> bool:
        return self.complete and self.reusable and not self.closed and not self.skip_body

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Response:
    """An answer whose head has arrived; `read()` the body, then `release()`."""

    __slots__ = ("status", "headers", "_connection", "_done")

    def __init__(self, connection: _Connection) -> None:
        self.status = connection.status
        self.headers = connection.headers
        self._connection = connection
        self._done = False

    async def read(self) -> bytes:
        return await self._connection.read()

    @property
    def at_eof(self) -> bool:
        return self._connection.at_eof

    def release(self) -> None:
        """Give the connection back (or close it when the answer was not read through)."""
        if self._done:
            return
        self._done = True
        connection = self._connection
        if connection.keep_alive():
            connection.pool._give_back(connection)
        else:
            connection.close()


class Pool:
    def __init__(self, max_idle: int = 64, idle_timeout: float | None = None) -> None:
        """`max_idle` idle connections are kept per endpoint, each for `idle_timeout`
        seconds at most (None: until the peer closes it)."""
        self.max_idle = max_idle
        self.idle_timeout = idle_timeout
        self._idle: dict[Key, list[_Connection]] = {}
        self._swept = time.monotonic()

    async def _connect(self, key: Key) -> _Connection:
        endpoint, tls = key
        name, _, port = endpoint.rpartition(":")
        loop = asyncio.get_running_loop()
        try:
            # with TLS, the server name checked is the endpoint's host
            _, protocol = await loop.create_connection(
                lambda: _Connection(self, key), name, int(port), ssl=tls)
        except OSError as exc:  # ssl.SSLError included
            raise UpstreamError(f"cannot connect to {endpoint}: {exc.strerror or exc}") from None
        return protocol

    def _take(self, key: Key) -> _Connection | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        oldest = time.monotonic() - self.idle_timeout if self.idle_timeout is not None else 0.0
        while idle:
            connection = idle.pop()
            if connection.closed:
                continue
            if connection.idle_since < oldest:
                connection.close()
                continue
            connection._reset()
            return connection
        return None

    def _give_back(self, connection: _Connection) -> None:
        now = time.monotonic()
        connection.idle_since = now
        idle = self._idle.setdefault(connection.key, [])
        if len(idle) < self.max_idle:
            idle.append(connection)
        else:
            connection.close()
        if self.idle_timeout is not None and now - self._swept > self.idle_timeout:
            self._sweep(now - self.idle_timeout)
            self._swept = now

    def _sweep(self, oldest: float) -> None:
        """Close the connections idle since before `oldest`, of every endpoint: those of
        an endpoint no longer called would otherwise stay open."""
        for key in list(self._idle):
            keep = []
            for connection in self._idle[key]:
                if connection.closed:
                    continue
                if connection.idle_since < oldest:
                    connection.close()
                else:
                    keep.append(connection)
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]

    async def request(self, endpoint: str, method: str, target: str, headers: Headers,
                      body: bytes | AsyncIterator[bytes] | None, *,
                      tls: ssl.SSLContext | None = None, host: str | None = None) -> Response:
        """Send one request to `endpoint` (`host:port`) and wait for the answer's head.
        `tls`: connect with TLS, verified by this context (the certificate must name the
        endpoint's host); `host`: the Host header when it is not `endpoint` (a URL's
        default port is left out of it)."""
        key = (endpoint, tls)
        head = _head(host or endpoint, method, target, headers, body)
        if isinstance(body, AsyncIterator):
            # A streamed body cannot be sent twice: always on a connection of its own.
            return await self._exchange(await self._connect(key), method, head, body)
        connection = self._take(key)
        if connection is not None:
            try:
                return await self._exchange(connection, method, head, body)
            except UpstreamError:
                if connection.received:
                    raise
                # the peer had closed this idle connection: once more on a new one
        return await self._exchange(await self._connect(key), method, head, body)

    async def _exchange(self, connection: _Connection, method: str, head: bytes,
                        body: bytes | AsyncIterator[bytes] | None) -> Response:
        connection.skip_body = method == "HEAD"
        try:
            if isinstance(body, AsyncIterator):
                await connection.write(head)
                async for chunk in body:
                    if chunk:
                        await connection.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                await connection.write(b"0\r\n\r\n")
            else:
                await connection.write(head + body if body else head)
            await connection.head
        except BaseException:
            connection.close()
            raise
        return Response(connection)

    async def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


def _head(host: str, method: str, target: str, headers: Headers,
          body: bytes | AsyncIterator[bytes] | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1\r\nhost: {host}\r\n".encode("latin-1")]
    for name, value in headers:
        lines.append(b"%b: %b\r\n" % (name, value))
    if isinstance(body, AsyncIterator):
        lines.append(b"transfer-encoding: chunked\r\n\r\n")
    else:
        lines.append(b"content-length: %d\r\n\r\n" % (len(body) if body else 0))
    return b"".join(lines)
