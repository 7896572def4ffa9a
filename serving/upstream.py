"""The router's HTTP/1.1 client to replicas: keep-alive connections on asyncio + httptools.

Called by `serving.routing` for every proxied request. Why not aiohttp's client: P7
measured the router at about 110 µs of CPU per request with aiohttp, most of it in the
client (request and response objects, header multidicts, URL parsing), against a
replica's 170 µs, which leaves the 0.5x goal out of reach on two shared cores. This
client does only what a reverse proxy to a known `host:port` needs: it writes the request
head as bytes, parses the answer with httptools (uvicorn's parser, already installed),
and hands the body over chunk by chunk.

- One pool of idle connections per endpoint; a connection goes back only after a whole
  answer that keeps the connection alive (`should_keep_alive`) and a whole request.
- A request body is bytes (sent with Content-Length) or an async iterator (chunked).
- A reused connection that the replica closed while it sat idle fails before any answer
  byte; such a request is sent once more on a new connection when its body was bytes
  (Go's transport retries the same case).
- Backpressure: reading pauses while more than `HIGH_WATER` bytes of body wait for the
  caller; writing waits while the transport's buffer is full.
- Cancelling a request (the caller's deadline) closes its connection.
- Errors: `UpstreamError` (an OSError) for a refused, reset or broken connection.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Sequence

import httptools

HIGH_WATER = 1 << 20
Headers = Sequence[tuple[bytes, bytes]]


class UpstreamError(OSError):
    """The replica could not be reached, or broke the connection."""


class _Connection(asyncio.Protocol):
    def __init__(self, pool: Pool, endpoint: str) -> None:
        self.pool, self.endpoint = pool, endpoint
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
            self._fail(UpstreamError("the replica upgraded the connection"))
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"malformed answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._writable.set()  # a writer waiting for room finds the connection gone
        if exc is None and self.head.done() and not self._framed() and not self.complete:
            self.complete = True  # a body without length or chunks ends with the connection
            self._notify()
        if not self.complete:
            self._fail(UpstreamError(f"connection closed by the replica: {exc or 'EOF'}"))

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
            raise self.failure or UpstreamError("connection closed by the replica")
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
    def __init__(self, max_idle: int = 64) -> None:
        self.max_idle = max_idle
        self._idle: dict[str, list[_Connection]] = {}

    async def _connect(self, endpoint: str) -> _Connection:
        host, _, port = endpoint.rpartition(":")
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_connection(
                lambda: _Connection(self, endpoint), host, int(port))
        except OSError as exc:
            raise UpstreamError(f"cannot connect to {endpoint}: {exc.strerror or exc}") from None
        return protocol

    def _take(self, endpoint: str) -> _Connection | None:
        idle = self._idle.get(endpoint)
        while idle:
            connection = idle.pop()
            if not connection.closed:
                connection._reset()
                return connection
        return None

    def _give_back(self, connection: _Connection) -> None:
        idle = self._idle.setdefault(connection.endpoint, [])
        if len(idle) < self.max_idle:
            idle.append(connection)
        else:
            connection.close()

    async def request(self, endpoint: str, method: str, target: str, headers: Headers,
                      body: bytes | AsyncIterator[bytes] | None) -> Response:
        """Send one request to `endpoint` (`host:port`) and wait for the answer's head."""
        head = _head(endpoint, method, target, headers, body)
        if isinstance(body, AsyncIterator):
            # A streamed body cannot be sent twice: always on a connection of its own.
            return await self._exchange(await self._connect(endpoint), method, head, body)
        connection = self._take(endpoint)
        if connection is not None:
            try:
                return await self._exchange(connection, method, head, body)
            except UpstreamError:
                if connection.received:
                    raise
                # the replica had closed this idle connection: once more on a new one
        return await self._exchange(await self._connect(endpoint), method, head, body)

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


def _head(endpoint: str, method: str, target: str, headers: Headers,
          body: bytes | AsyncIterator[bytes] | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1\r\nhost: {endpoint}\r\n".encode("latin-1")]
    for name, value in headers:
        lines.append(b"%b: %b\r\n" % (name, value))
    if isinstance(body, AsyncIterator):
        lines.append(b"transfer-encoding: chunked\r\n\r\n")
    else:
        lines.append(b"content-length: %d\r\n\r\n" % (len(body) if body else 0))
    return b"".join(lines)
