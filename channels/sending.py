"""The HTTP sender: one POST of a CloudEvent to a subscriber, reply or dead-letter sink.

The delivery engine (`channels.dispatching`) calls `Sender.send` for every attempt. aiohttp
is the implementation because it was measured here at about 10x httpx's throughput; tests
can pass any object with the same `send` method. Transport errors never raise: they come
back as a `Response` with `status=None`, which the retry table treats as retryable.

An `https://` destination's certificate is verified, against the system's trust store or,
when the destination sets Knative's `CACerts`, against that PEM bundle alone (`ca_certs`;
one `ssl.SSLContext` per distinct bundle, kept for the process).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import Mapping, Protocol

import aiohttp

from ripple import cloudevents as ce

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
"""Seconds an idle pooled connection is kept (see `AiohttpSender._get_session`)."""


def trusting(cert_file: str) -> ssl.SSLContext:
    """The system's trust store plus the certificates of `cert_file` as anchors: the mesh's
    own HTTPS addresses (`ripple up --tls-cert`), which its deliveries reach (a Sequence's
    channels, a reply's broker), verify even when the certificate is self-signed or from
    a private CA."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=cert_file)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


class AiohttpSender:
    """Keeps one connection pool for every delivery of a process."""

    def __init__(self, *, limit: int = 0, trust: ssl.SSLContext | None = None) -> None:
        """`trust`: how to verify an `https://` destination that sets no `CACerts`
        (`trusting`); None: the system's trust store."""
        self._session: aiohttp.ClientSession | None = None
        self._limit = limit
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._trust: ssl.SSLContext | bool = trust if trust is not None else True

    def _context(self, ca_certs: str) -> ssl.SSLContext:
        context = self._contexts.get(ca_certs)
        if context is None:
            if len(self._contexts) >= MAX_CONTEXTS:
                self._contexts.clear()
            context = ssl.create_default_context(cadata=ca_certs)
            self._contexts[ca_certs] = context
        return context

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Idle connections are dropped after 4 s, before the other side drops them:
            # uvicorn (Ripple's own ingress, a common subscriber) closes an idle one after
            # 5 s, and aiohttp's default 15 s reused such a connection just as it closed
            # ("Can not write request body"), failing a delivery that may have no retries.
            connector = aiohttp.TCPConnector(limit=self._limit, ttl_dns_cache=300,
                                             keepalive_timeout=KEEPALIVE)
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False,
                # no invented Content-Type: an event without datacontenttype must arrive
                # without one, or the receiver would read application/octet-stream into it
                skip_auto_headers=("User-Agent", "Content-Type"),
            )
        return self._session

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
        pairs, body = ce.to_structured(event) if structured else ce.to_binary(event)
        request_headers = dict(pairs)
        if headers:
            request_headers.update(headers)
        try:
            verify = self._context(ca_certs) if ca_certs else self._trust
            async with self._get_session().post(
                url,
                data=body,
                headers=request_headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
                ssl=verify,
            ) as resp:
                data = await resp.content.read(MAX_RESPONSE_BYTES)
                return Response(
                    status=resp.status,
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    body=data,
                )
        except asyncio.TimeoutError:
            return Response(status=None, error=f"timed out after {timeout:g}s")
        except (aiohttp.ClientError, OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            return Response(status=None, error=f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
