"""A lean RESP client for the hot commands: an asyncio Protocol per connection, hiredis's
reader and packer, and a small pool. `redisclient.LeanRedis` routes the hot commands here
(`redisclient.HOT`); everything else stays on redis-py.

Why: redis-py 8's asyncio connection reads through a StreamReader, wraps each read in a
timeout context manager and checks health and push notifications on every reply; a bare
Protocol that feeds hiredis's reader from `data_received` and resolves one future per
reply does the same work in a fraction of the CPU (issue #14 measured 135-176 µs per
command through `execute_command` against 31 µs).

What callers see is redis-py's, so their `except redisclient.UNAVAILABLE` and their
`ResponseError` checks are unchanged:
- error replies become redis-py's exception classes through redis-py's own table
  (`BaseParser.parse_error`: NOSCRIPT is `NoScriptError`, so `Script.__call__` still loads
  a script that is missing; BUSYGROUP is a `ResponseError`; READONLY, LOADING, OOM...);
- a connection that breaks fails every command in flight on it with `ConnectionError`
  (as redis-py's "Error while reading from host:port"), and is never reused: the next
  command connects again;
- a reply later than `socket_timeout` is `TimeoutError`, and the connection is dropped;
- connecting honours `socket_connect_timeout`, keepalive, TLS (`SSLConnection`'s context),
  unix sockets, AUTH (username/password or credential provider) and SELECT.

One command at a time per connection, as redis-py's pool: a blocking XREADGROUP holds its
own connection, and a command whose caller is cancelled closes its connection, so a late
reply is never read by the next command (`test_a_cancelled_blocking_read_leaves_no_reply_
behind`).
"""

from __future__ import annotations

import asyncio
import collections
import socket
from collections.abc import Callable, Mapping
from typing import Any

import hiredis
import redis.exceptions
from redis._parsers.base import BaseParser
from redis.asyncio.connection import AbstractConnection, Connection, SSLConnection, UnixDomainSocketConnection
from redis.credentials import UsernamePasswordCredentialProvider
from redis.utils import format_error_message

from ripple import pooling

_MORE = object()
"""What hiredis's reader answers while a reply is incomplete."""

SERVER_CLOSED = "Connection closed by server."
"""redis-py's message when the server closes a connection (`redis._parsers.base`)."""


def parse_error(message: str) -> redis.exceptions.RedisError:
    """The redis-py exception for an error reply, from redis-py's own table."""
    error: redis.exceptions.RedisError = BaseParser.parse_error(message)  # type: ignore[no-untyped-call]
    return error


class Endpoint:
    """Where and how to connect, read once from a redis-py connection of the client's pool
    (so URL parsing, TLS contexts and credentials are redis-py's)."""

    def __init__(self, template: AbstractConnection) -> None:
        self.db = int(template.db or 0)
        self.protocol = int(template.protocol)
        """3 (redis-py 8's default) or 2: the client's response callbacks expect its shapes."""
        self.connect_timeout: float | None = template.socket_connect_timeout
        self.timeout: float | None = template.socket_timeout
        self.credential_provider = template.credential_provider
        if self.credential_provider is None and (template.username or template.password):
            self.credential_provider = UsernamePasswordCredentialProvider(template.username,
                                                                          template.password)
        self.path: str | None = None
        self.host, self.port = "", 0
        self.keepalive: Mapping[int, int | bytes] | None = None
        self.ssl: Any = None
        if isinstance(template, UnixDomainSocketConnection):
            self.path = template.path
            self.address = template.path
        elif isinstance(template, Connection):
            self.host, self.port = template.host, template.port
            self.address = f"{self.host}:{self.port}"
            if template.socket_keepalive:
                self.keepalive = template.socket_keepalive_options  # type: ignore[assignment]
            if isinstance(template, SSLConnection):
                self.ssl = template.ssl_context.get()
        else:
            raise TypeError(f"no lean path for {type(template).__name__}")


class Link(asyncio.Protocol):
    """One connection: commands written in order, replies matched to a FIFO of futures.
    Error replies are results (redis-py exception instances); a broken link fails every
    waiting future with `ConnectionError` or `TimeoutError`."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.transport: asyncio.Transport | None = None
        self.broken: redis.exceptions.RedisError | None = None
        self._reader = hiredis.Reader(protocolError=redis.exceptions.InvalidResponse,
                                      replyError=parse_error, notEnoughData=_MORE)
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._progress = 0.0
        """When a reply last arrived, or the first command was written into an idle link:
        the link times out when nothing arrives for `endpoint.timeout` while commands wait."""
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        self.idle_since = 0.0
        """When it was last given back to its pool (`Pool`'s sweep)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport

    def data_received(self, data: bytes) -> None:
        # A RESP3 push frame would be taken for a reply; none arrives here: the server
        # pushes only to clients that subscribe or track keys, and no lean link does.
        reader, waiting = self._reader, self._waiting
        reader.feed(data)
        while True:
            try:
                reply = reader.gets()
            except redis.exceptions.InvalidResponse as exc:
                self.fail(redis.exceptions.ConnectionError(f"Protocol error from {self.endpoint.address}: {exc}"))
                return
            if reply is _MORE:
                break
            self._progress = self._loop.time()
            if waiting:
                future = waiting.popleft()
                if not future.done():  # cancelled: its reply is dropped
                    future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is None:
            self.fail(redis.exceptions.ConnectionError(SERVER_CLOSED))
        else:
            self.fail(redis.exceptions.ConnectionError(
                f"Error while reading from {self.endpoint.address} : {exc.args}"))

    def request(self, packed: bytes) -> asyncio.Future[Any]:
        """Write one packed command; the future of its reply."""
        self._ready()
        future = self._loop.create_future()
        if not self._waiting:
            self._progress = self._loop.time()
        self._waiting.append(future)
        self.transport.write(packed)  # type: ignore[union-attr]  # `_ready` checked it
        self._arm()
        return future

    def request_many(self, packed: bytes, count: int) -> list[asyncio.Future[Any]]:
        """Write `count` packed commands at once (a pipeline); the futures of their replies."""
        self._ready()
        futures = [self._loop.create_future() for _ in range(count)]
        if not self._waiting:
            self._progress = self._loop.time()
        self._waiting.extend(futures)
        self.transport.write(packed)  # type: ignore[union-attr]  # `_ready` checked it
        self._arm()
        return futures

    def _ready(self) -> None:
        if self.broken is not None or self.transport is None:
            raise type(self.broken or redis.exceptions.ConnectionError(SERVER_CLOSED))(
                *(self.broken.args if self.broken else (SERVER_CLOSED,)))

    def _arm(self) -> None:
        if self._timer is None and self.endpoint.timeout is not None:
            self._timer = self._loop.call_at(self._progress + self.endpoint.timeout, self._check)

    def _check(self) -> None:
        self._timer = None
        timeout = self.endpoint.timeout
        if not self._waiting or timeout is None or self.broken is not None:
            return
        due = self._progress + timeout
        if self._loop.time() >= due:
            self.fail(redis.exceptions.TimeoutError(f"Timeout reading from {self.endpoint.address}"))
        else:
            self._timer = self._loop.call_at(due, self._check)

    def fail(self, error: redis.exceptions.RedisError) -> None:
        """Break the link: every waiting command fails with `error`, the socket closes."""
        if self.broken is None:
            self.broken = error
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(type(error)(*error.args))
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.fail(redis.exceptions.ConnectionError("Connection closed by client."))


async def open_link(endpoint: Endpoint) -> Link:
    """A connected, authenticated link on the endpoint's db; redis-py's errors if not."""
    loop = asyncio.get_running_loop()

    def factory() -> Link:
        return Link(endpoint)

    try:
        async with asyncio.timeout(endpoint.connect_timeout):
            if endpoint.path is not None:
                transport, link = await loop.create_unix_connection(factory, endpoint.path)
            else:
                transport, link = await loop.create_connection(factory, endpoint.host, endpoint.port,
                                                               ssl=endpoint.ssl)
    except TimeoutError:
        raise redis.exceptions.TimeoutError("Timeout connecting to server") from None
    except OSError as exc:
        raise redis.exceptions.ConnectionError(format_error_message(endpoint.address, exc)) from exc
    # uvloop calls connection_made only after create_connection returned
    link.connection_made(transport)
    try:
        _configure(link, endpoint)
        await _handshake(link, endpoint)
    except BaseException:
        link.close()
        raise
    return link


def _configure(link: Link, endpoint: Endpoint) -> None:
    assert link.transport is not None
    sock = link.transport.get_extra_info("socket")
    if sock is None or endpoint.path is not None:
        return
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if endpoint.keepalive is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in endpoint.keepalive.items():
            sock.setsockopt(socket.SOL_TCP, option, value)


async def _handshake(link: Link, endpoint: Endpoint) -> None:
    """HELLO 3 (with AUTH) for RESP3, as redis-py 8's default; AUTH for RESP2; SELECT."""
    credentials: tuple[Any, ...] = ()
    if endpoint.credential_provider is not None:
        credentials = tuple(await endpoint.credential_provider.get_credentials_async())
    if endpoint.protocol == 3:
        auth = ("AUTH", *(("default", *credentials) if len(credentials) == 1 else credentials))
        reply = await call(link, ("HELLO", 3, *(auth if credentials else ())))
        if isinstance(reply, redis.exceptions.RedisError):
            raise reply
    elif credentials:
        reply = await call(link, ("AUTH", *credentials))
        if isinstance(reply, redis.exceptions.AuthenticationWrongNumberOfArgsError):
            reply = await call(link, ("AUTH", credentials[-1]))  # a server before 6.0
        if isinstance(reply, redis.exceptions.RedisError):
            raise reply
        if reply != b"OK":
            raise redis.exceptions.AuthenticationError("Invalid Username or Password")
    if endpoint.db:
        reply = await call(link, ("SELECT", endpoint.db))
        if isinstance(reply, redis.exceptions.RedisError):
            raise reply
        if reply != b"OK":
            raise redis.exceptions.ConnectionError("Invalid Database")


def _checked(reply: Any) -> Any:
    """The reply, unless it is (or, as redis-py's hiredis parser sees it, begins with) an
    error redis-py raises and disconnects on."""
    if isinstance(reply, list) and reply:
        _raise_connection_error(reply[0])
    _raise_connection_error(reply)
    return reply


def _raise_connection_error(reply: Any) -> None:
    """Raise an error reply that redis-py raises and disconnects on: NOAUTH and WRONGPASS
    (`AuthenticationError`), LOADING (`BusyLoadingError`), "max number of clients reached";
    the others (`ResponseError`s) are the caller's to raise, on a link still usable."""
    if isinstance(reply, redis.exceptions.ConnectionError):
        raise reply


async def call(link: Link, args: tuple[Any, ...]) -> Any:
    """One command on `link` (error replies are returned, not raised)."""
    return await link.request(hiredis.pack_command(args))


class Pool:
    """Idle links, newest first; a command takes one, or opens one (up to `limit`
    links), and gives it back when its reply came. A link that failed, or whose command
    was cancelled, is closed instead: a reply it still owes must never reach the next
    command. Links idle for `idle_timeout` beyond the `keep_idle` newest are closed
    (`ripple.pooling`: what a burst opened is given back)."""

    def __init__(self, endpoint: Endpoint, limit: int,
                 opener: Callable[[Endpoint], Any] = open_link, *,
                 idle_timeout: float = pooling.IDLE_TIMEOUT,
                 keep_idle: int = pooling.KEEP_IDLE) -> None:
        self.endpoint, self.limit = endpoint, limit
        self.idle_timeout, self.keep_idle = idle_timeout, keep_idle
        self._open = opener
        self._idle: list[Link] = []
        self._count = 0
        self._all: set[Link] = set()
        self._timer: asyncio.TimerHandle | None = None

    async def execute(self, packed: bytes) -> Any:
        """Send one packed command; its reply. A `ResponseError` reply is returned, not raised;
        the errors redis-py disconnects on are raised, and the link is closed."""
        link = self._idle_link() or await self._connect()
        try:
            reply = _checked(await link.request(packed))
        except BaseException:
            self._drop(link)
            raise
        self._give_back(link)
        return reply

    async def execute_many(self, packed: bytes, count: int) -> list[Any]:
        """`execute` for `count` commands packed together: their replies, in order."""
        link = self._idle_link() or await self._connect()
        try:
            replies = [_checked(await future) for future in link.request_many(packed, count)]
        except BaseException:
            self._drop(link)
            raise
        self._give_back(link)
        return replies

    def send_now(self, packed: bytes, count: int = 1) -> asyncio.Future[Any] | None:
        """`execute` without a coroutine: the command is written before this returns, on an
        idle link (None when none is idle: then `execute`); the future of its reply, as
        `execute` returns or raises it. With `count` commands packed together, the future
        of their replies' list, as `execute_many`'s."""
        link = self._idle_link()
        if link is None:
            return None
        try:
            replies = [link.request(packed)] if count == 1 else link.request_many(packed, count)
        except redis.exceptions.ConnectionError:  # closed since it went idle
            self._drop(link)
            return None
        answer: asyncio.Future[Any] = link._loop.create_future()

        def settle(last: asyncio.Future[Any]) -> None:  # replies come in order: all are in
            try:
                values = [_checked(reply.result()) for reply in replies]
            except BaseException as exc:
                self._drop(link)
                answer.set_exception(exc)
                return
            self._give_back(link)
            answer.set_result(values[0] if count == 1 else values)

        replies[-1].add_done_callback(settle)
        return answer

    def _give_back(self, link: Link) -> None:
        idle = self._idle
        link.idle_since = link._loop.time()
        idle.append(link)
        if self._timer is None and len(idle) > self.keep_idle:
            self._timer = link._loop.call_later(self.idle_timeout / 2, self._sweep)

    def _sweep(self) -> None:
        """Close the links idle for `idle_timeout`, bottom of the stack first, down to
        `keep_idle`; again in half that time while more than `keep_idle` are idle."""
        self._timer = None
        idle = self._idle
        if not idle:
            return
        loop = idle[0]._loop
        count = pooling.stale([link.idle_since for link in idle], loop.time(),
                              idle_timeout=self.idle_timeout, keep=self.keep_idle)
        for link in idle[:count]:
            self._drop(link)
        del idle[:count]
        if len(idle) > self.keep_idle:
            self._timer = loop.call_later(self.idle_timeout / 2, self._sweep)

    def _idle_link(self) -> Link | None:
        """An idle link that is not broken, if there is one (no await: the hot path)."""
        idle = self._idle
        while idle:
            link = idle.pop()
            if link.broken is None:
                return link
            self._forget(link)
        return None

    async def _connect(self) -> Link:
        if self._count >= self.limit:
            raise redis.exceptions.MaxConnectionsError("Too many connections")
        self._count += 1
        try:
            link: Link = await self._open(self.endpoint)
        except BaseException:
            self._count -= 1
            raise
        self._all.add(link)
        return link

    def _drop(self, link: Link) -> None:
        """Close a link and forget it: it failed, an error left its state unknown, or it
        idled past `idle_timeout`."""
        link.close()
        self._forget(link)

    def _forget(self, link: Link) -> None:
        if link in self._all:
            self._all.discard(link)
            self._count -= 1

    def close(self) -> None:
        """Close every link; commands in flight fail with `ConnectionError`."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for link in list(self._all):
            link.close()
        self._all.clear()
        self._idle.clear()
        self._count = 0

    @property
    def size(self) -> int:
        """Links open (idle or busy)."""
        return self._count

    @property
    def idle(self) -> int:
        """Links open and idle."""
        return len(self._idle)
