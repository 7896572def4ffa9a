"""The HTTP sender: one POST of a CloudEvent to a subscriber, reply or dead-letter sink.

The delivery engine (`channels.dispatching`) calls `Sender.send` for every attempt;
tests can pass any object with the same `send` method. Transport errors never raise:
they come back as a `Response` with `status=None`, which the retry table treats as
retryable.

`HttpSender` sends over `ripple.upstream`, the router's own HTTP/1.1 client: a pool of
keep-alive connections per subscriber `host:port` (and TLS context), the request head
written as bytes, the answer parsed by httptools. P2 measured it against aiohttp's
client, which it replaced (docs/benchmarks.md, "Delivery's HTTP client"). What a
delivery adds to the client is here, pure where it can be:
- `destination` turns a URL into where to connect and what to send (cached per URL):
  the Host header leaves a default port out, a path is percent-encoded as aiohttp's
  yarl does, and credentials in the URL become `Authorization: Basic` (as aiohttp and
  Go's client do) unless the delivery sends its own Authorization.
- `request_headers` are the event's headers and the delivery's; a CR or LF in a name or
  value is refused (no header injection), as aiohttp refuses it.
- The attempt's whole exchange (connect, TLS, request, the answer's body) is bounded by
  the Trigger's `delivery.timeout`. A timed-out attempt closes its connection.
- The answer's body is read up to `MAX_RESPONSE_BYTES` (a reply past it is cut there,
  and so malformed); its headers come back with lower-cased names.
- Redirects are not followed (a 3xx is the attempt's answer, as it was with aiohttp's
  `allow_redirects=False`); no Accept-Encoding is sent, so a reply is never compressed.

An `https://` destination's certificate is verified, against the system's trust store or,
when the destination sets Knative's `CACerts`, against that PEM bundle alone (`ca_certs`;
one `ssl.SSLContext` per distinct bundle, kept for the process).
"""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
import urllib.parse
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Protocol

from ripple import cloudevents as ce
from ripple import upstream

MAX_RESPONSE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Response:
    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None


class Sender(Protocol):
    async def send(
        self,
        url: str,
        event: ce.CloudEvent,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        structured: bool = False,
        ca_certs: str | None = None,
    ) -> Response: ...


MAX_CONTEXTS = 256
"""Distinct CA bundles whose SSL contexts are kept; past it the cache starts over."""

KEEPALIVE = 4.0
"""Seconds an idle pooled connection is kept: less than uvicorn's 5 s (Ripple's own
ingress, a common subscriber), so the other side rarely closes one just as it is reused
(`ripple.upstream` sends such a request once more anyway)."""

MAX_IDLE = 256
"""Idle connections kept per subscriber `host:port`: enough for several Triggers at their
`max_in_flight` to share one subscriber without opening a connection per attempt."""

MAX_DESTINATIONS = 4096
"""Parsed URLs kept (`destination`); past it the cache starts over."""


@dataclass(frozen=True)
class Destination:
    """Where one URL's requests go and what their head says."""

    endpoint: str
    """`host:port` to connect to."""
    host: str
    """The Host header: the host, and the port unless it is the scheme's default."""
    target: str
    """The request target: the path (percent-encoded) and the query."""
    tls: bool
    authorization: str | None = None
    """`Basic ...` from credentials in the URL."""


_UNSAFE = re.compile(r"[^\x21-\x7e]")
_SAFE = "/%:@!$&'()*+,;=-._~?[]"


def destination(url: str) -> Destination:
    """`url` as a `Destination`; ValueError naming the URL's problem when it has none."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {parts.scheme!r}: only http and https")
    hostname = parts.hostname
    if not hostname:
        raise ValueError("the URL has no host")
    if not hostname.isascii():
        hostname = hostname.encode("idna").decode("ascii")
    port = parts.port  # ValueError for a port out of range
    default = 443 if scheme == "https" else 80
    name = f"[{hostname}]" if ":" in hostname else hostname
    host = name if port is None or port == default else f"{name}:{port}"
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    if _UNSAFE.search(target):
        target = urllib.parse.quote(target, safe=_SAFE)
    authorization = None
    if parts.username is not None:
        credentials = (f"{urllib.parse.unquote(parts.username)}:"
                       f"{urllib.parse.unquote(parts.password or '')}")
        authorization = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
    return Destination(f"{hostname}:{port or default}", host, target, scheme == "https",
                       authorization)


def request_headers(event_headers: Iterable[tuple[str, str]], extra: Mapping[str, str] | None,
                    authorization: str | None = None) -> list[tuple[bytes, bytes]]:
    """The request's headers as bytes: the event's, then `extra` (which override the
    event's of the same spelling), then `authorization` unless `extra` has one. ValueError
    for a CR, LF or NUL in a name or value."""
    merged = dict(event_headers)
    if extra:
        merged.update(extra)
    if authorization is not None and not any(k.lower() == "authorization" for k in merged):
        merged["Authorization"] = authorization
    encoded = []
    for name, value in merged.items():
        if _BREAKS.search(name) or _BREAKS.search(value):
            raise ValueError(f"header {name!r}: a CR, LF or NUL character is not allowed")
        encoded.append((name.encode("utf-8"), value.encode("utf-8")))
    return encoded


_BREAKS = re.compile(r"[\r\n\x00]")


def response_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The answer's headers with lower-cased names (of a repeated header, the last one);
    a value that is not UTF-8 is read as Latin-1."""
    headers = {}
    for name, value in raw:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        headers[name.decode("latin-1").lower()] = text
    return headers


def trusting(cert_file: str) -> ssl.SSLContext:
    """The system's trust store plus the certificates of `cert_file` as anchors: the mesh's
    own HTTPS addresses (`ripple up --tls-cert`), which its deliveries reach (a Sequence's
    channels, a reply's broker), verify even when the certificate is self-signed or from
    a private CA."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=cert_file)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


class _Deadline:
    __slots__ = ("task", "expired")

    def __init__(self, task: asyncio.Task[object]) -> None:
        self.task, self.expired = task, False

    def expire(self) -> None:
        self.expired = True
        self.task.cancel()


class HttpSender:
    """Keeps one pool of keep-alive connections for every delivery of a process."""

    def __init__(self, *, trust: ssl.SSLContext | None = None, max_idle: int = MAX_IDLE) -> None:
        """`trust`: how to verify an `https://` destination that sets no `CACerts`
        (`trusting`); None: the system's trust store."""
        self._pool = upstream.Pool(max_idle=max_idle, idle_timeout=KEEPALIVE)
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._trust = trust
        self._destinations: dict[str, Destination] = {}

    def _context(self, ca_certs: str | None) -> ssl.SSLContext:
        if ca_certs is None:
            if self._trust is None:
                self._trust = ssl.create_default_context()
            return self._trust
        context = self._contexts.get(ca_certs)
        if context is None:
            if len(self._contexts) >= MAX_CONTEXTS:
                self._contexts.clear()
            context = ssl.create_default_context(cadata=ca_certs)
            self._contexts[ca_certs] = context
        return context

    def _destination(self, url: str) -> Destination:
        found = self._destinations.get(url)
        if found is None:
            found = destination(url)
            if len(self._destinations) >= MAX_DESTINATIONS:
                self._destinations.clear()
            self._destinations[url] = found
        return found

    async def send(
        self,
        url: str,
        event: ce.CloudEvent,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        structured: bool = False,
        ca_certs: str | None = None,
    ) -> Response:
        try:
            where = self._destination(url)
            pairs, body = ce.to_structured(event) if structured else ce.to_binary(event)
            head = request_headers(pairs, headers, where.authorization)
            tls = self._context(ca_certs) if where.tls else None
        except (ValueError, ssl.SSLError) as exc:  # a bad URL, header or CA bundle
            return Response(status=None, error=f"{type(exc).__name__}: {exc}")
        # The deadline is a timer that cancels this task, as `asyncio.timeout` does, at a
        # third of its cost (2.4 against 6.6 µs here: it runs once per delivery).
        task = asyncio.current_task()
        assert task is not None
        deadline = _Deadline(task)
        timer = asyncio.get_running_loop().call_later(timeout, deadline.expire)
        try:
            return await self._exchange(where, head, body, tls)
        except asyncio.CancelledError:
            if not deadline.expired or task.uncancel() > 0:
                raise  # cancelled by someone else (a shutdown), not by the deadline
            return Response(status=None, error=f"timed out after {timeout:g}s")
        except upstream.UpstreamError as exc:
            return Response(status=None, error=str(exc))
        except OSError as exc:
            return Response(status=None, error=f"{type(exc).__name__}: {exc}")
        finally:
            timer.cancel()

    async def _exchange(self, where: Destination, head: list[tuple[bytes, bytes]], body: bytes,
                        tls: ssl.SSLContext | None) -> Response:
        answer = await self._pool.request(where.endpoint, "POST", where.target, head, body,
                                          tls=tls, host=where.host)
        try:
            chunks, size = [], 0
            while size < MAX_RESPONSE_BYTES and (chunk := await answer.read()):
                chunks.append(chunk)
                size += len(chunk)
        finally:
            answer.release()  # closes the connection unless the answer was read through
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return Response(status=answer.status, headers=response_headers(answer.headers),
                        body=data[:MAX_RESPONSE_BYTES])

    async def close(self) -> None:
        await self._pool.close()
