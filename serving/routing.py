"""The router: Knative's activator and queue-proxy in one raw-ASGI app (issue #10 items 4, 5).

Mounted by the local platform on Ripple's one port, in front of every revision's replicas;
its inputs are the Route table (`serving.traffic.Table`, fed from Route objects) and an
`Endpoints` (the revision runtime: which replicas of a revision are ready, where, and the
revision's `containerConcurrency` and `timeoutSeconds`). Per request:

1. the address (`/serving/NS/NAME[/@TAG]/...` or the Host header) names a route, and the
   table draws its revision (tag, else percent, with the router's `random.Random`);
2. the revision's `RequestStats` count the request in (`stats.ConcurrencyReporter`; the
   first one of a reporting period goes out at once through `on_stat`, Knative's poke);
3. with no ready replica, the request waits in the activator (`serving.activating`),
   which pokes the autoscaler (`poke`) and releases it on `replica_ready`;
4. the ready replica with the fewest requests on it is picked (least in-flight), and its
   breaker (`serving.breaker`, `containerConcurrency` + 10×) admits, queues or refuses;
5. the request is proxied over a pool of keep-alive connections (`ripple.upstream`),
   bodies streamed both ways.

Statuses, as Knative answers them: 404 for an address that names no route (or a tag the
route lacks, or a route taking no traffic); 503 + Retry-After when a buffer is full (the
activator's or a breaker's) or the deadline passes before a replica took the request
(`throttler.Try` → `context.DeadlineExceeded` → 503); 504 when the replica took it but did
not answer within `timeoutSeconds` (queue-proxy's timeout handler); 502 when the replica
cannot be reached (the reverse proxy's ErrorHandler).

Headers, as Knative's activator proxies (`pkg/activator/handler/handler.go` with Go's
`httputil.ReverseProxy`): hop-by-hop headers (RFC 9110 7.6.1, plus those the request's
`Connection` names) are dropped both ways; the client's address is appended to
`X-Forwarded-For`; the original Host goes to `K-Original-Host` (`RewriteHostIn`) and the
replica sees its own host:port. No `Forwarded` header: the activator sets none. Ripple
does not set `Knative-Proxy: activator`: it marks requests a queue-proxy must not count
twice, and here the router is the only place that counts.

The deadline (`timeoutSeconds`) runs from arrival, across the activator and the breaker,
to the response's headers; a body still streaming at the deadline is not cut.

A request with `Prefer: respond-async` is not proxied here: once its route resolves, it is
stored in Redis (`serving.deferring`) and answered 202 with `X-Call-Id`; the invoker sends
it back through this router later, and POSTs the answer to its `X-Callback-Url`.

Callers: the local platform (mounting, `replica_ready`, `report` each second for the KPA,
`close`) and the router tests and benchmark.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from typing import Any, NamedTuple, Protocol

from ripple import errors, upstream
from serving import activating, breaker, deferring, stats, traffic

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

DEFAULT_TIMEOUT = 300.0
"""Knative's `revision-timeout-seconds`."""

HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"proxy-authenticate",
    b"proxy-authorization", b"te", b"trailer", b"transfer-encoding", b"upgrade",
})
# Not forwarded either: the replica's own host:port replaces Host; the client frames the body
# it sends (Content-Length for bytes, chunked for a stream); Expect was answered already.
_REQUEST_DROPPED = HOP_BY_HOP | {b"host", b"content-length", b"expect"}
_TEXT = (b"content-type", b"text/plain; charset=utf-8")


class RevisionKey(NamedTuple):
    namespace: str
    name: str


class Settings(NamedTuple):
    """What the router needs of a Revision's spec."""

    container_concurrency: int = 0
    timeout_seconds: float = DEFAULT_TIMEOUT


class Endpoints(Protocol):
    """Where a revision's replicas are: the revision runtime implements it."""

    def ready(self, revision: RevisionKey) -> Sequence[str]:
        """`host:port` of each ready replica (empty: none, the activator buffers)."""
        ...

    def settings(self, revision: RevisionKey) -> Settings | None:
        """The revision's settings; None when no such revision exists."""
        ...


class StaticEndpoints:
    """An `Endpoints` whose replicas are set by hand: the tests', the benchmark's, and the
    revision runtime's until it has its own."""

    def __init__(self) -> None:
        self._ready: dict[RevisionKey, list[str]] = {}
        self._settings: dict[RevisionKey, Settings] = {}

    def set_revision(self, revision: RevisionKey, settings: Settings = Settings()) -> None:
        self._settings[revision] = settings
        self._ready.setdefault(revision, [])

    def remove_revision(self, revision: RevisionKey) -> None:
        self._settings.pop(revision, None)
        self._ready.pop(revision, None)

    def set_ready(self, revision: RevisionKey, addresses: Sequence[str]) -> None:
        self._ready[revision] = list(addresses)

    def ready(self, revision: RevisionKey) -> Sequence[str]:
        return self._ready.get(revision, ())

    def settings(self, revision: RevisionKey) -> Settings | None:
        return self._settings.get(revision)


class BadGateway(errors.RippleError):
    status = 502


class GatewayTimeout(errors.RippleError):
    status = 504


def _ignore(*_: Any) -> None:
    return None


class Router:
    def __init__(
        self,
        table: traffic.Table,
        endpoints: Endpoints,
        *,
        poke: Callable[[Hashable], None] = _ignore,
        on_stat: Callable[[Hashable, stats.Stat], None] = _ignore,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        activator_depth: int = activating.QUEUE_DEPTH,
        invocations: deferring.Queue | None = None,
    ) -> None:
        """`poke(revision)`: scale this revision from zero now. `on_stat(revision, stat)`:
        the immediate stat of a revision's first request in a reporting period.
        `invocations`: where `Prefer: respond-async` requests go (None: answered in line)."""
        self.table = table
        self.endpoints = endpoints
        self.activator = activating.Activator(poke, depth=activator_depth)
        self.on_stat = on_stat
        self.rng = rng or random.Random()
        self.clock = clock
        self.reporter = stats.ConcurrencyReporter()
        self.breakers: dict[str, breaker.Breaker] = {}
        self.pool = upstream.Pool()
        self.invocations = invocations

    # -- what the platform calls ------------------------------------------------------------
    def claims(self, scope: Scope) -> bool:
        """Whether a request is the router's: a `/serving/` path or a route's Host."""
        path: str = scope["path"]
        if path.startswith(traffic.PATH_PREFIX):
            return True
        host = _header(scope, b"host")
        return host is not None and self.table.address(host, path) is not None

    def replica_ready(self, revision: RevisionKey, endpoint: str) -> int:
        """A replica of `revision` became ready: release the requests buffered for it."""
        return self.activator.replica_ready(revision, endpoint)

    def revision_gone(self, revision: RevisionKey) -> None:
        self.activator.revision_gone(revision)

    def replica_gone(self, endpoint: str) -> None:
        """Forget a stopped replica's breaker (its requests already failed or finished)."""
        found = self.breakers.get(endpoint)
        if found is not None and found.load == 0:
            del self.breakers[endpoint]

    def report(self, now: float | None = None) -> list[tuple[Hashable, stats.Stat]]:
        """Each revision's stat for the last period: call once per `stats.REPORT_PERIOD`."""
        return self.reporter.report(self.clock() if now is None else now)

    async def report_every(self, sink: Callable[[Hashable, stats.Stat], None],
                           period: float = stats.REPORT_PERIOD) -> None:
        """Hand each revision's stat to `sink` once per `period`, until cancelled: the
        task the platform runs beside the router for the autoscaler."""
        while True:
            await asyncio.sleep(period)
            for key, stat in self.report():
                sink(key, stat)

    async def close(self) -> None:
        await self.pool.close()

    # -- the data path ----------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # the platform's root answers lifespan; the router takes only HTTP
        try:
            address = self.table.address(_header(scope, b"host"), scope["path"])
            if address is None:
                raise errors.NotFound(f"no route at {scope['path']}")
            revision = self.table.choose(address, self.rng)
            if revision is None:
                what = f"tag {address.tag!r} of route" if address.tag else "route"
                raise errors.NotFound(
                    f"{what} {address.route.namespace}/{address.route.name} takes no traffic")
            if self.invocations is not None and deferring.prefers_async(scope["headers"]):
                await self._defer(scope, receive, send, self.invocations)
                return
            key = RevisionKey(address.route.namespace, revision)
            settings = self.endpoints.settings(key) or Settings()
            poke = self.reporter.request_in(key, self.clock())
            if poke is not None:
                self.on_stat(key, poke)
            try:
                await self._serve(scope, receive, send, address, key, settings)
            finally:
                self.reporter.request_out(key, self.clock())
        except _Aborted as exc:
            # The status went out already: returning without the body's end makes the
            # server close the connection, which is all a client can be told now.
            log.warning("proxying %s failed after the response started: %s",
                        scope["path"], exc.__cause__)
        except Exception as exc:
            await _respond_error(send, exc)

    async def _serve(self, scope: Scope, receive: Receive, send: Send,
                     address: traffic.Address, key: RevisionKey, settings: Settings) -> None:
        deadline = self.clock() + settings.timeout_seconds
        ready = self.endpoints.ready(key)
        if not ready:
            try:
                endpoint = await self.activator.wait(key, settings.timeout_seconds)
            except activating.Overloaded as exc:
                raise errors.TemporaryError(f"pending request queue full: {exc}") from None
            except activating.Gone as exc:
                raise errors.TemporaryError(str(exc)) from None
            except TimeoutError:
                raise errors.TemporaryError(
                    f"revision {key.name} had no ready replica within "
                    f"{settings.timeout_seconds:g}s") from None
            ready = self.endpoints.ready(key) or (endpoint,)
        endpoint = self._least_loaded(ready, settings.container_concurrency)
        gate = self.breakers[endpoint]
        try:
            async with _timeout_at(self.clock, deadline):
                await gate.acquire()
        except breaker.Overloaded as exc:
            raise errors.TemporaryError(f"pending request queue full: {exc}") from None
        except TimeoutError:
            raise errors.TemporaryError(
                f"no slot on a replica of {key.name} within {settings.timeout_seconds:g}s"
            ) from None
        try:
            await self._proxy(scope, receive, send, address, endpoint, deadline)
        finally:
            gate.release()

    async def _defer(self, scope: Scope, receive: Receive, send: Send,
                     invocations: deferring.Queue) -> None:
        """Store the request for the invoker and answer 202 with its `X-Call-Id`."""
        parts, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > deferring.MAX_BODY:
                raise errors.PayloadTooLarge(
                    f"an async invocation's body is at most {deferring.MAX_BODY} bytes")
            parts.append(chunk)
            if not message.get("more_body"):
                break
        raw: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string") or b""
        target = raw.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
        call = await invocations.enqueue(deferring.make_invocation(
            scope["method"], target, scope["headers"], b"".join(parts)))
        await send({"type": "http.response.start", "status": 202,
                    "headers": [(b"x-call-id", call.encode()), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    def _least_loaded(self, ready: Sequence[str], concurrency: int) -> str:
        best, best_load = "", -1
        for address in ready:
            gate = self.breakers.get(address)
            if gate is None:
                gate = self.breakers[address] = breaker.Breaker(concurrency)
            if best_load < 0 or gate.load < best_load:
                best, best_load = address, gate.load
        return best

    async def _proxy(self, scope: Scope, receive: Receive, send: Send,
                     address: traffic.Address, endpoint: str, deadline: float) -> None:
        first = await receive()
        body: bytes | AsyncIterator[bytes] | None
        if first.get("more_body"):
            body = _stream(first.get("body", b""), receive)
        else:
            body = first.get("body") or None
        try:
            async with _timeout_at(self.clock, deadline):
                response = await self.pool.request(
                    endpoint, scope["method"], _forward_path(scope, address),
                    _forward_headers(scope), body)
        except TimeoutError:
            raise GatewayTimeout("the revision did not answer within its timeoutSeconds") \
                from None
        except OSError as exc:
            raise BadGateway(f"cannot reach replica {endpoint}: {exc}") from None
        try:
            out = [(k, v) for k, v in response.headers if k.lower() not in HOP_BY_HOP]
            try:
                chunk = await response.read()
            except OSError as exc:
                raise BadGateway(f"replica {endpoint} broke off its answer: {exc}") from None
            await send({"type": "http.response.start", "status": response.status,
                        "headers": out})
            try:
                if response.at_eof:
                    await send({"type": "http.response.body", "body": chunk})
                    return
                while chunk:
                    await send({"type": "http.response.body", "body": chunk,
                                "more_body": True})
                    chunk = await response.read()
                await send({"type": "http.response.body", "body": b""})
            except Exception as exc:
                raise _Aborted() from exc
        finally:
            response.release()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _forward_path(scope: Scope, address: traffic.Address) -> str:
    """The raw path and query the replica sees: the path form's prefix taken off."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    path = raw.decode("latin-1")
    if path.startswith(traffic.PATH_PREFIX):
        prefix = traffic.route_path(address.route.namespace, address.route.name, address.tag)
        path = path[len(prefix):] if path.startswith(prefix) else address.path
        path = path if path.startswith("/") else "/" + path
    query: bytes = scope.get("query_string") or b""
    return f"{path}?{query.decode('latin-1')}" if query else path


def _forward_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    dropped = _REQUEST_DROPPED
    for key, value in headers:
        if key == b"connection":  # headers the client named as hop-by-hop go too
            dropped = dropped | {n.strip().lower() for n in value.split(b",")}
    out: list[tuple[bytes, bytes]] = []
    forwarded_for = host = None
    for key, value in headers:
        if key == b"x-forwarded-for":
            forwarded_for = value
        elif key == b"host":
            host = value
        elif key not in dropped:
            out.append((key, value))
    client = scope.get("client")
    if client:
        address = str(client[0]).encode("latin-1")
        out.append((b"x-forwarded-for",
                    forwarded_for + b", " + address if forwarded_for else address))
    elif forwarded_for:
        out.append((b"x-forwarded-for", forwarded_for))
    if host:
        out.append((b"k-original-host", host))
    return out


async def _stream(first: bytes, receive: Receive) -> AsyncIterator[bytes]:
    if first:
        yield first
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise upstream.UpstreamError("the client went away while sending its body")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body"):
            return


def _timeout_at(clock: Callable[[], float], deadline: float) -> asyncio.Timeout:
    """`asyncio.timeout_at`, on the router's clock (injected in tests)."""
    return asyncio.timeout(max(deadline - clock(), 0.0))


class _Aborted(Exception):
    """Proxying failed after the response's status went out."""


async def _respond_error(send: Send, exc: BaseException) -> None:
    status = errors.http_status(exc)
    if isinstance(exc, errors.RippleError):
        message = str(exc)
    else:
        log.exception("router failed", exc_info=exc)
        message = "internal error"
    headers = [_TEXT]
    delay = errors.retry_after(exc)
    if delay:
        headers.append((b"retry-after", delay.encode()))
    body = message.encode() + b"\n"
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
