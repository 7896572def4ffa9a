"""The raw-ASGI HTTP pieces every Ripple receiver shares: reading a bounded body, and
answering, errors included, in one shape.

Used by the CloudEvents `ingress` and by the sources' webhook receivers. An error answer is
`{"code", "message"}` JSON (plus `causes` naming each field of an `errors.Invalid`), its
status comes from `ripple.errors.http_status`, and a temporary error carries Retry-After.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ripple import errors

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
Answer = tuple[int, Headers, bytes]
"""A whole answer: status, headers (content-length included), body. The ASGI receivers send
it as two messages; the ingress's fast path (`channels.fastpath`) writes it itself."""

JSON = [(b"content-type", b"application/json")]


def request_headers(scope: Scope) -> dict[str, str]:
    """The request headers, names lower-cased."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def read_body(headers: Mapping[str, str], receive: Receive, limit: int) -> bytes:
    """The whole body, or errors.PayloadTooLarge as soon as it is known that the headers
    and the body together exceed `limit`.

    Headers count because a binary-mode event carries its attributes in them, and the
    ASGI server (uvicorn with httptools) bounds neither their size nor their number.
    """
    size = headers_size(headers, limit)
    chunks = []
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise body_too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]


def headers_size(headers: Mapping[str, str], limit: int) -> int:
    """The bytes the headers count against `limit`, or errors.PayloadTooLarge when they, or
    they and a declared Content-Length together, are over it (the first half of `read_body`,
    which the fast path's body count continues)."""
    size = sum(map(len, headers)) + sum(map(len, headers.values()))
    if size > limit:
        raise errors.PayloadTooLarge(
            f"request headers of {size} bytes are over the limit of {limit}")
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) + size > limit:
        raise errors.PayloadTooLarge(
            f"request body of {declared} bytes (and {size} of headers) is over the limit "
            f"of {limit}")
    return size


def body_too_large(limit: int) -> errors.PayloadTooLarge:
    return errors.PayloadTooLarge(f"request body is over the limit of {limit} bytes")


def answer(status: int, body: bytes = b"", headers: Headers | None = None) -> Answer:
    return status, (headers or []) + [(b"content-length", str(len(body)).encode())], body


async def respond(send: Send, status: int, body: bytes = b"", headers: Headers | None = None) -> None:
    await send_answer(send, answer(status, body, headers))


async def send_answer(send: Send, whole: Answer) -> None:
    status, headers, body = whole
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def respond_json(send: Send, status: int, body: Mapping[str, Any]) -> None:
    await respond(send, status, json.dumps(body).encode(), list(JSON))


async def respond_error(send: Send, exc: BaseException, *, allow: bytes = b"POST, OPTIONS") -> int:
    """Answer `exc` and return the status it got."""
    whole = error_answer(exc, allow=allow)
    await send_answer(send, whole)
    return whole[0]


def error_answer(exc: BaseException, *, allow: bytes = b"POST, OPTIONS") -> Answer:
    """The answer to `exc`: its status (`errors.http_status`), `{"code", "message"}` JSON,
    Allow on a 405 and Retry-After on a temporary error."""
    status = errors.http_status(exc)
    message = str(exc) if isinstance(exc, errors.RippleError) else "internal error"
    body: dict[str, Any] = {"code": status, "message": message}
    if isinstance(exc, errors.Invalid):
        body["causes"] = [{"field": e.path, "message": e.message} for e in exc.errors]
    headers = list(JSON)
    if status == 405:
        headers.append((b"allow", allow))
    delay = errors.retry_after(exc)
    if delay:
        headers.append((b"retry-after", delay.encode()))
    return answer(status, json.dumps(body).encode(), headers)
