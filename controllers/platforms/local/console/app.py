"""The console's Starlette app: each route reads the store and the operations API's
`Operations`, and renders a page of `pages`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import redis.exceptions
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ripple import errors, keys
from ripple.api import registry
from ripple.cloudevents import jsonformat, records

from controllers.platforms.local.console import auth, pages, topology
from controllers.platforms.local.operations import Operations

STATIC = Path(__file__).with_name("static")
TOPOLOGY_KINDS = ("Broker", "Channel", "InMemoryChannel", "Trigger", "Subscription",
                  *topology.SOURCE_KINDS)
RECENT_EVENTS = 20
RECENT_DEAD_LETTERS = 20
HTML_HEADERS = {"Cache-Control": "no-store"}


def app(operations: Operations) -> Starlette:
    store = operations.store
    plurals = {k.kind: k.plural for k in registry.kinds()}
    by_plural = {k.plural: k for k in registry.kinds()}

    async def listed(kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return await operations.listing(kind, namespace, cached=True)

    drawn: dict[tuple[str | None, int], tuple[int, str]] = {}
    """Topology pages drawn, by (namespace, offset), with the informer generation they were
    drawn at: a page is laid out once per change, not once per load."""

    async def index(request: Request) -> Response:
        namespace = request.query_params.get("namespace") or None
        offset = _offset(request)
        generation = operations.current()
        kept = drawn.get((namespace, offset))
        if generation is not None and kept is not None and kept[0] == generation:
            return HTMLResponse(kept[1], headers=HTML_HEADERS)
        lists = await asyncio.gather(*(listed(k, namespace) for k in TOPOLOGY_KINDS))
        shown, total = topology.page_of([o for objects in lists for o in objects], offset)
        html = pages.topology_page(topology.build(shown), plurals, offset=offset, total=total,
                                   namespace=namespace or "")
        if generation is not None:
            if any(g != generation for g, _ in drawn.values()) or len(drawn) > 64:
                drawn.clear()
            drawn[(namespace, offset)] = (generation, html)
        return HTMLResponse(html, headers=HTML_HEADERS)

    async def resource(request: Request) -> Response:
        params = request.path_params
        kind = by_plural.get(params["plural"])
        if kind is None:
            raise errors.NotFound(f'no kind with the plural "{params["plural"]}"')
        namespace, name = params["namespace"], params["name"]
        obj = await store.get(kind, namespace, name)
        scope: str | None = None
        stats = None
        dead: list[dict[str, Any]] = []
        found = operations.found(obj)
        if found is not None:  # the object in hand: its target is not looked up again
            scope = f"{kind.kind.lower()}:{name}"
            figures, (dead, _) = await asyncio.gather(
                operations.stats_of([found]),
                operations.entries_page(namespace, scope, limit=RECENT_DEAD_LETTERS, newest=True,
                                        given=[found]))
            stats = figures[0]
        elif kind.kind in ("Broker", "Channel"):
            scope = f"{kind.kind.lower()}:{name}"
            children = await operations.targets(namespace, scope, cached=True)
            dead, _ = await operations.entries_page(namespace, scope, limit=RECENT_DEAD_LETTERS, newest=True,
                                                    given=children)
        recent = await _recent_events(operations, namespace, name) if kind.kind == "Broker" else []
        return HTMLResponse(pages.resource_page(obj, stats=stats, dead_letters=dead, recent=recent,
                                                scope=scope), headers=HTML_HEADERS)

    async def dead_letters(request: Request) -> Response:
        namespace = request.query_params.get("namespace") or "default"
        target = request.query_params.get("target") or ""
        offset = _offset(request)
        targets = await operations.held(namespace, cached=True)  # those with dead letters, ever
        every = await operations.targets(namespace, target or None, cached=True)
        entries, total = await operations.entries_page(
            namespace, target or None, limit=pages.DEAD_LETTERS_PAGE, offset=offset, given=every)
        return HTMLResponse(pages.dead_letters_page(entries, namespace=namespace, target=target,
                                                    targets=targets, offset=offset, total=total),
                            headers=HTML_HEADERS)

    async def trace(request: Request) -> Response:
        return HTMLResponse(pages.trace_page(request.query_params.get("id", ""),
                                             request.query_params.get("source", "")),
                            headers=HTML_HEADERS)

    async def serving(request: Request) -> Response:
        services, revisions = await asyncio.gather(listed("Service"), listed("Revision"))
        return HTMLResponse(pages.serving_page(services, revisions), headers=HTML_HEADERS)

    async def on_error(request: Request, exc: Exception) -> Response:
        code = errors.http_status(exc)
        body = pages.page("Error", f"<h1>{code}</h1><p>{pages.escape(str(exc))}</p>")
        return HTMLResponse(body, status_code=code, headers=HTML_HEADERS)

    routes = [
        Route("/", index),
        Route("/resources/{plural}/{namespace}/{name}", resource),
        Route("/deadletters", dead_letters),
        Route("/trace", trace),
        Route("/serving", serving),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    console = Starlette(routes=routes, exception_handlers={errors.RippleError: on_error})

    async def entry(scope: Any, receive: Any, send: Any) -> None:
        """`?token=` becomes the console's cookie (`auth`); the rest is the app's."""
        if scope["type"] == "http":
            exchanged = auth.exchange(scope.get("query_string", b""))
            if exchanged is not None:
                rest, cookie = exchanged
                where = scope["path"] + ("?" + rest if rest else "")  # the full path, mounted too
                response = RedirectResponse(where, status_code=303, headers={"Set-Cookie": cookie})
                await response(scope, receive, send)
                return
        await console(scope, receive, send)

    return entry  # type: ignore[return-value]


def _offset(request: Request) -> int:
    offset = request.query_params.get("offset", "0")
    if not offset.isdigit():
        raise errors.Invalid(errors.FieldError("offset", f'invalid value "{offset}": must be a number'))
    return int(offset)


async def _recent_events(operations: Operations, namespace: str, broker: str) -> list[dict[str, Any]]:
    """The newest events in a Broker's log, newest first."""
    try:
        entries = await operations.redis.xrevrange(keys.broker_log(namespace, broker), count=RECENT_EVENTS)
    except redis.exceptions.RedisError as exc:
        raise errors.StoreUnavailable(f"the broker's log could not be read: {exc}") from None
    out = []
    for _, fields in entries or []:
        try:
            out.append(jsonformat.to_json_dict(records.from_record(cast(records.Fields, fields))))
        except (KeyError, ValueError):
            continue
    return out

