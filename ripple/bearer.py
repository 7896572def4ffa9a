"""Bearer tokens on raw ASGI: read `Authorization: Bearer <token>`, check it in constant
time, and answer 401 with `WWW-Authenticate`.

Used by the local platform's front (`controllers.platforms.local.routing`), which guards
every control path with the API token, and by the broker and channel ingress
(`channels.ingress`), which guards an annotated Broker or Channel with the tokens of its
Secret (`ripple.dev/ingress-auth`). Pure but for `refuse`, which only writes two ASGI
messages (`refusal` is its answer, for the ingress's fast path, which writes it itself); the hot path calls nothing here for a resource that needs no token.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import Any

SCHEME = b"bearer"


def presented(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """The token of the first `Authorization` header, when its scheme is Bearer (any case)."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            token = token.strip()
            return token if scheme.lower() == SCHEME and token else None
    return None


def allowed(token: bytes | None, tokens: Collection[bytes]) -> bool:
    """True when `token` is one of `tokens`. Every candidate is compared, each in constant
    time, so the answer's timing says neither which token nor how much of one matched."""
    if token is None:
        return False
    ok = False
    for candidate in tokens:
        ok |= hmac.compare_digest(token, candidate)
    return ok


def authorized(scope: Any, tokens: Collection[bytes]) -> bool:
    """Whether the ASGI request `scope` bears one of `tokens`."""
    return allowed(presented(scope["headers"]), tokens)


async def refuse(send: Callable[[dict[str, Any]], Awaitable[None]], realm: str,
                 message: str) -> None:
    """A 401 whose body is a Kubernetes Status, as the API answers every error."""
    status, headers, body = refusal(realm, message)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def refusal(realm: str, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """`refuse`'s answer as (status, headers, body), for a server that writes it itself."""
    body = (
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        f'"message":{json.dumps(message)},"reason":"Unauthorized","code":401}}'
    ).encode()
    return 401, [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", f'Bearer realm="{realm}"'.encode()),
    ], body

