"""The local platform's HTTP front: the control API and the data plane, by plain ASGI dispatch.

Control paths, which need the API token (`Authorization: Bearer`, `ripple.bearer`) unless
`ripple up --insecure-api`:
- `/api/...`, `/apis...`: the Kubernetes-shaped API, its watches included (FastAPI);
- `/openapi.json`, `/docs`, `/redoc`: the API's description;
- `/tail/{ns}/{broker}`, `/tail/{ns}/channels/{channel}`: the live event tail (it shows
  every event's data);
- `/console/`: the console (mounted in the API's app); a browser brings the token once as
  `/console/?token=…` and then in the console's cookie (`presented`).
Data-plane paths, open to every producer (each checks what it needs itself):
- `/healthz` (also on the API's listener) and `/metrics` (Prometheus exposition);
- `/channels/{ns}/{channel}`: the channel ingress;
- `/webhooks/{github|gitlab}/{ns}/{source}`: the GitHub and GitLab receivers (HMAC, token);
- `/serving/{ns}/{route}[/@tag]/...`, or a Route's Host: the serving router;
- everything else: the broker ingress, `POST /{namespace}/{broker}` (a Broker or Channel
  annotated `ripple.dev/ingress-auth` checks its own Secret's tokens).
With `--api-port`, the control paths are served only on the API's listener (told apart by
the local port of the connection) and answer 404 on the data plane's, where `/metrics`
stays. The ingress is the hot path, so it gets no framework and no middleware in front of
it: a data-plane request costs one `startswith` more than before, and no token check.
Its `POST`s skip ASGI too: `make_pick` tells `channels.fastpath` which requests are the
ingresses', by the same `route` and `data_route` the ASGI root dispatches on.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Awaitable, Callable, Protocol

from channels import fastpath
from channels.ingress import Ingress
from controllers.platforms.local import apiserver
from controllers.platforms.local.console import auth as console_auth
from ripple import bearer, metrics

Message = MutableMapping[str, Any]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
"""(scope, receive, send): the apps mounted here type their scope as dict or as
MutableMapping, which no narrower alias accepts both of."""

CONTROL_PREFIXES = ("/api", "/openapi", "/docs", "/redoc", "/console", "/tail/")
"""First-pass test of a control path; `CONTROL_SEGMENTS` decides (`/apisx/b` is a broker)."""
CONTROL_SEGMENTS = frozenset({"api", "apis", "openapi.json", "docs", "redoc", "console", "tail"})
HEALTH = "/healthz"
CONSOLE = "/console"
AUTHORIZED = apiserver.AUTHORIZED
"""Set in the scope of every control request: whether it bore the token (the API hides
Secrets' data from one that did not, which only `--insecure-api` lets through)."""
REALM = "ripple"


class Claiming(Protocol):
    """An app that also says which requests are its own (the serving router: a `/serving/`
    path, or the Host of a Route)."""

    def claims(self, scope: Any) -> bool: ...

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...


def presented(scope: Message) -> bytes | None:
    """The token a control request bears: its `Authorization: Bearer`, else the console's
    cookie, else, on a /console path, its `?token=` (which the console then swaps for the
    cookie; `console.auth`). A browser sends no header when it follows a link."""
    headers = scope["headers"]
    token = bearer.presented(headers) or console_auth.presented(headers)
    if token is None and scope["path"].startswith(CONSOLE):
        token = console_auth.in_query(scope.get("query_string", b""))
    return token


def is_control(path: str) -> bool:
    return path.startswith(CONTROL_PREFIXES) and path.split("/", 2)[1] in CONTROL_SEGMENTS


DATA, CONTROL, NOT_DATA, NOT_CONTROL = "data", "control", "not-data", "not-control"
METRICS, CHANNELS, WEBHOOKS, INGRESS = "metrics", "channels", "webhooks", "ingress"


def route(path: str, port: int | None, api_port: int | None) -> str:
    """Who serves `path` on a connection to local `port`: `HEALTH`, `CONTROL`, `DATA`, or a
    404 because the other listener serves it (`NOT_DATA`: a data path on the API's
    listener; `NOT_CONTROL`: a control path on the data plane's)."""
    if path == HEALTH:
        return HEALTH
    if api_port is None or port != api_port:
        if is_control(path):
            return CONTROL if api_port is None else NOT_CONTROL
        return DATA
    return CONTROL if is_control(path) else NOT_DATA


def data_route(path: str) -> str:
    """Which data-plane receiver a path is for (`INGRESS` unless the serving router claims
    the request: it knows its Routes' hosts)."""
    if path == "/metrics":
        return METRICS
    if path.startswith("/channels/"):
        return CHANNELS
    if path.startswith("/webhooks/"):
        return WEBHOOKS
    return INGRESS


def make_pick(*, ingress: Ingress, channels: Ingress, router: Claiming | None = None,
              api_port: int | None = None) -> fastpath.Pick:
    """The fast path's choice (`channels.fastpath`): the Ingress `make_root` would hand a
    request to, by the same `route` and `data_route`, or None for the ASGI app."""

    def pick(path: str, server: Any, headers: Any) -> Ingress | None:
        if route(path, server[1] if server else 0, api_port) != DATA:
            return None
        where = data_route(path)
        if where == CHANNELS:
            return channels
        if where != INGRESS:
            return None
        if router is not None and router.claims({"path": path, "headers": headers}):
            return None
        return ingress

    return pick


def make_root(*, api: ASGIApp, ingress: ASGIApp, tail: ASGIApp, channels: ASGIApp,
              webhooks: ASGIApp, router: Claiming | None = None,
              lifespan: ASGIApp | None = None, token: str | None = None,
              insecure: bool = False, api_port: int | None = None) -> ASGIApp:
    """The one app of every listener. `insecure` (`--insecure-api`) serves the control API
    to anyone, but for Secrets' data (`AUTHORIZED`); `api_port` is the port of the API's
    own listener, if it has one."""
    tokens = (token.encode(),) if token is not None else ()

    async def control(scope: Message, receive: Any, send: Any) -> None:
        authorized = bearer.allowed(presented(scope), tokens)
        if not authorized and not insecure:
            await bearer.refuse(send, REALM, "the Ripple API needs its token: "
                                "Authorization: Bearer <the token in <data-dir>/token>")
            return
        scope[AUTHORIZED] = authorized
        if scope["path"].startswith("/tail/"):
            await tail(scope, receive, send)
        else:
            await api(scope, receive, send)

    async def data(scope: Message, receive: Any, send: Any, path: str) -> None:
        where = data_route(path)
        if where == METRICS:
            await _metrics(send)
        elif where == CHANNELS:
            await channels(scope, receive, send)
        elif where == WEBHOOKS:
            await webhooks(scope, receive, send)
        elif router is not None and router.claims(scope):
            await router(scope, receive, send)
        else:
            await ingress(scope, receive, send)

    async def root(scope: Message, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            where = route(path, (scope.get("server") or ("", 0))[1], api_port)
            if where == DATA:
                await data(scope, receive, send, path)
            elif where == CONTROL:
                await control(scope, receive, send)
            elif where == HEALTH:
                await _health(send)
            elif where == NOT_DATA:
                await _not_here(send, path, "the data plane")
            else:
                await _not_here(send, path, "the control API")
        elif kind == "lifespan" and lifespan is not None:
            await lifespan(scope, receive, send)
        elif kind == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    return root


async def _health(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _not_here(send: Any, path: str, what: str) -> None:
    body = f"404 Not Found: {path} is not served on this listener; {what} has its own".encode()
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": body})


async def _metrics(send: Any) -> None:
    body, content_type = metrics.exposition()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", content_type.encode())]})
    await send({"type": "http.response.body", "body": body})
