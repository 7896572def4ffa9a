"""The CloudEvents ingress, shared by brokers and channels: raw ASGI on the hot path.

`Ingress` answers Knative's data-plane contract for one family of addresses: it resolves
the request path to a log through `resolve`, decodes binary, structured or batch events,
lets the owner `prepare` each one (the broker stamps TTL and arrival time), appends them
through the coalescing `Appender`, and answers 202 only once every event of the request is
in the log. Errors become statuses in one place (`ripple.errors.http_status`):
400 invalid event, 404 unknown address, 405 not POST, 413 too large, 503 + Retry-After
when the store cannot take the write.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Mapping

from ripple import cloudevents as ce
from ripple import errors, metrics
from ripple.settings import IngressSettings

from channels.appending import Appender

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Resolve = Callable[[str, str], str | None]
"""(namespace, name) -> the log's stream key, or None when there is no such resource."""
Prepare = Callable[[ce.CloudEvent, Mapping[str, str]], ce.CloudEvent]

_OPTIONS_HEADERS = [
    (b"allow", b"POST, OPTIONS"),
    (b"webhook-allowed-origin", b"*"),
    (b"webhook-allowed-rate", b"*"),
]


def _identity(event: ce.CloudEvent, headers: Mapping[str, str]) -> ce.CloudEvent:
    return event


class Ingress:
    def __init__(
        self,
        resolve: Resolve,
        appender: Appender,
        settings: IngressSettings,
        *,
        prepare: Prepare = _identity,
        kind: str = "broker",
        prefix: str = "",
    ) -> None:
        self.resolve, self.appender, self.settings = resolve, appender, settings
        self.prepare, self.kind, self.prefix = prepare, kind, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        namespace = name = event_type = ""
        try:
            namespace, name = self._address(scope["path"])
            method = scope["method"]
            if method == "OPTIONS":
                await _respond(send, 200, b"", _OPTIONS_HEADERS)
                return
            if method != "POST":
                raise errors.MethodNotAllowed(f"method {method} is not allowed; use POST")
            stream = self.resolve(namespace, name)
            if stream is None:
                raise errors.NotFound(f"{self.kind} {namespace}/{name} not found")
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            body = await self._body(headers, receive)
            events = ce.from_http(headers, body)
            records = []
            for event in events:
                event = self.prepare(event, headers)
                event_type = str(event.type)
                records.append(ce.to_record(event))
            if len(records) == 1:
                await self.appender.append(stream, records[0])
            elif records:  # a batch: every append joins the same pipeline, in order
                await asyncio.gather(*(self.appender.append(stream, r) for r in records))
            metrics.ingress_events.labels(namespace, name, event_type, "202").inc(len(records) or 1)
            await _respond(send, 202, b"", [])
        except errors.RippleError as exc:
            await self._error(send, exc, namespace, name, event_type)
        except Exception as exc:
            log.exception("ingress failed")
            await self._error(send, exc, namespace, name, event_type)

    def _address(self, path: str) -> tuple[str, str]:
        rest = path[len(self.prefix):] if self.prefix and path.startswith(self.prefix) else path
        parts = [p for p in rest.split("/") if p]
        if len(parts) != 2:
            raise errors.NotFound(f"no {self.kind} at {path}; the address is /<namespace>/<name>")
        return parts[0], parts[1]

    async def _body(self, headers: Mapping[str, str], receive: Receive) -> bytes:
        limit = self.settings.max_event_bytes
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise errors.PayloadTooLarge(f"request body of {declared} bytes is over the limit of {limit}")
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise errors.PayloadTooLarge(f"request body is over the limit of {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks) if len(chunks) != 1 else chunks[0]

    async def _error(self, send: Send, exc: BaseException, namespace: str, name: str, event_type: str) -> None:
        status = errors.http_status(exc)
        message = str(exc) if isinstance(exc, errors.RippleError) else "internal error"
        body: dict[str, Any] = {"code": status, "message": message}
        if isinstance(exc, errors.Invalid):
            body["causes"] = [{"field": e.path, "message": e.message} for e in exc.errors]
        headers = [(b"content-type", b"application/json")]
        if status == 405:
            headers.append((b"allow", b"POST, OPTIONS"))
        delay = errors.retry_after(exc)
        if delay:
            headers.append((b"retry-after", delay.encode()))
        if namespace:
            metrics.ingress_events.labels(namespace, name, event_type, str(status)).inc()
        await _respond(send, status, json.dumps(body).encode(), headers)


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = headers + [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
