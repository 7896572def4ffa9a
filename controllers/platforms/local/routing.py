"""The local platform's one HTTP front: every path on one port, by plain ASGI dispatch.

- `/apis/...`, `/api/...`, `/healthz`, `/openapi.json`, `/docs`: the control API (FastAPI);
- `/metrics`: Prometheus exposition;
- `/tail/{ns}/{broker}`, `/tail/{ns}/channels/{channel}`: live event tail;
- `/channels/{ns}/{channel}`: the channel ingress;
- `/webhooks/{github|gitlab}/{ns}/{source}`: the GitHub and GitLab sources' receivers;
- `/serving/{ns}/{route}[/@tag]/...`, or a Route's Host: the serving router;
- everything else: the broker ingress, `POST /{namespace}/{broker}`.
The ingress is the hot path, so it gets no framework and no middleware in front of it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Awaitable, Callable, Protocol

from ripple import metrics

Message = MutableMapping[str, Any]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
"""(scope, receive, send): the apps mounted here type their scope as dict or as
MutableMapping, which no narrower alias accepts both of."""

CONTROL_PREFIXES = ("/apis", "/api/", "/healthz", "/openapi.json", "/docs")


class Claiming(Protocol):
    """An app that also says which requests are its own (the serving router: a `/serving/`
    path, or the Host of a Route)."""

    def claims(self, scope: Any) -> bool: ...

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...


def make_root(*, api: ASGIApp, ingress: ASGIApp, tail: ASGIApp, channels: ASGIApp,
              webhooks: ASGIApp, router: Claiming | None = None,
              lifespan: ASGIApp | None = None) -> ASGIApp:
    async def root(scope: Message, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path.startswith(CONTROL_PREFIXES):
                await api(scope, receive, send)
            elif path == "/metrics":
                await _metrics(send)
            elif path.startswith("/tail/"):
                await tail(scope, receive, send)
            elif path.startswith("/channels/"):
                await channels(scope, receive, send)
            elif path.startswith("/webhooks/"):
                await webhooks(scope, receive, send)
            elif router is not None and router.claims(scope):
                await router(scope, receive, send)
            else:
                await ingress(scope, receive, send)
        elif kind == "lifespan" and lifespan is not None:
            await lifespan(scope, receive, send)
        elif kind == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    return root


async def _metrics(send: Any) -> None:
    body, content_type = metrics.exposition()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", content_type.encode())]})
    await send({"type": "http.response.body", "body": body})
