"""The local platform's API server: Kubernetes' REST shape over a `ResourceStore`.

Built by `platform.run_worker` with `make_api(store)` and mounted by `routing.make_root`
on the data plane's port; `ripple apply/get/delete/describe` (`ripple.cli.client`) talk
to it the way kubectl talks to Kubernetes.

    GET    /apis                                              discovery (below)
    GET    /healthz                                           "ok"
    GET    /apis/{group}/{version}/{plural}                   list, all namespaces
    GET    /apis/{group}/{version}/namespaces/{ns}/{plural}   list (?watch=true: watch)
    POST   /apis/{group}/{version}/namespaces/{ns}/{plural}   create: 201
    GET    .../{plural}/{name}                                read
    PUT    .../{plural}/{name}                                replace (spec and metadata)
    DELETE .../{plural}/{name}                                delete: 200, the object
    GET    .../{plural}/{name}/status                         read
    PUT    .../{plural}/{name}/status                         replace the status only
    (the core group, i.e. Secret, is the same under /api/v1/...)

Discovery is `{"resources": [{"group", "version", "kind", "plural", "singular",
"shortNames", "namespaced"}]}`, one entry per served kind (group "" for the core group).

Writes go through `loading.admit` (defaults, validation, immutability against the old
object); status writes only through `statuses.validate` (the types of the duck-typed
fields). A body must be UTF-8 JSON without NaN, Infinity or lone surrogates, which no
response could carry back. /openapi.json declares every path parameter, the watch's query
and the object body, so that clients and fuzzers (R4) can build requests from it.

A watch, `?watch=true[&resourceVersion=N][&timeoutSeconds=S]`, streams newline-delimited
`{"type", "object"}`: without a version (or with "0") it first sends every current object
as ADDED, as Kubernetes does; with N, exactly the changes after N. A watch that cannot
continue ends with an `ERROR` line whose object is a Status. Every error is a Kubernetes
`Status`; `failure` is where an error becomes one, through `errors.http_status` and
`errors.retry_after`; the router's own 404 and 405 say the path, the method and `Allow`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import (JSONResponse, PlainTextResponse, RedirectResponse, Response,
                               StreamingResponse)
from starlette.exceptions import HTTPException
from starlette.routing import Match

from ripple import errors
from ripple.api import statuses
from ripple.store import ResourceStore, objects

if TYPE_CHECKING:
    from ripple.api.registry import Kind

Admit = Callable[..., dict[str, Any]]
"""`loading.admit(obj, old=None) -> obj`: defaults plus validation; raises errors.Invalid."""

MAX_BODY = 3 * 1024 * 1024  # Kubernetes' own request limit
REASONS = {
    400: "BadRequest",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "RequestEntityTooLarge",
    422: "Invalid",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def status_of(error: BaseException, *, reason: str | None = None) -> dict[str, Any]:
    """The Kubernetes Status object for an error."""
    code = errors.http_status(error) if not isinstance(error, HTTPException) else error.status_code
    message = str(error.detail) if isinstance(error, HTTPException) else str(error)
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message or REASONS.get(code, "InternalError"),
        "reason": reason or REASONS.get(code, "InternalError"),
        "code": code,
    }
    if isinstance(error, errors.Invalid):
        status["details"] = {
            "causes": [{"field": e.path, "message": e.message} for e in error.errors]
        }
    return status


def failure(
    error: BaseException, *, reason: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    status = status_of(error, reason=reason)
    extra = dict(headers or {})
    delay = errors.retry_after(error)
    if delay is not None:
        extra["Retry-After"] = delay
    return JSONResponse(status, status_code=status["code"], headers=extra or None)


def routing_error(request: Request, exc: HTTPException) -> BaseException:
    """The router's bare "Not Found" / "Method Not Allowed", said with the path and method."""
    path = request.url.path
    if exc.status_code == 404:
        return errors.NotFound(
            f"no API at {path}; resources are at /apis/<group>/<version>/[namespaces/<ns>/]"
            "<plural>[/<name>[/status]] (core: /api/v1/...), and GET /apis lists the kinds"
        )
    if exc.status_code == 405:
        return errors.MethodNotAllowed(
            f"method {request.method} is not allowed on {path}; allowed: {allowed_methods(request)}"
        )
    return exc


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (the router names only the first)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


class Catalog:
    """The kinds this server serves, by URL and by name."""

    def __init__(self, kinds: Sequence[Kind]) -> None:
        self._by_resource = {(k.group, v, k.plural): k for k in kinds for v in (k.version, *k.also_served)}
        self._kinds = list(dict.fromkeys(kinds))

    def find(self, group: str, version: str, plural: str) -> Kind:
        kind = self._by_resource.get((group, version, plural))
        if kind is None:
            served = ", ".join(
                sorted(f"{k.plural}.{v}" for k in self._kinds for v in k.api_versions)
            )
            where = f"{group}/{version}" if group else version
            raise errors.NotFound(
                f'the server could not find the requested resource "{plural}" in "{where}"; '
                f"served: {served}"
            )
        return kind

    def discovery(self) -> dict[str, Any]:
        """One entry per served version, as Kubernetes lists each group version's resources.

        A kind's stored version comes first, then its other served versions
        (`Kind.also_served`: KafkaSource's v1beta1), so a client that takes the first
        match for a typed name (`ripple get kafkasources`) gets the stored version, and
        one that matches a manifest's apiVersion exactly (`ripple apply -f`) finds it.
        """
        return {
            "resources": [
                {
                    "group": k.group,
                    "version": version,
                    "kind": k.kind,
                    "plural": k.plural,
                    "singular": k.singular,
                    "shortNames": list(k.short_names),
                    "namespaced": k.namespaced,
                }
                for k in self._kinds
                for version in (k.version, *k.also_served)
            ]
        }


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# Python's json takes NaN and Infinity, which no JSON response can carry back.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


async def read_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise errors.PayloadTooLarge(f"the request body is larger than {MAX_BODY} bytes")
    try:
        obj = _DECODER.decode(body.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise errors.Invalid(f"the request body is not JSON: {reason}") from None
    if not isinstance(obj, dict):
        raise errors.Invalid("the request body must be a JSON object")
    try:  # a "\ud800" escape is valid JSON text but no Unicode: it could be neither stored nor sent
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise errors.Invalid(
            f"the request body is not Unicode text: a string holds the lone surrogate "
            f"{exc.object[exc.start:exc.end]!r}"
        ) from None
    return obj


def conform(
    obj: dict[str, Any], kind: Kind, namespace: str | None, name: str | None
) -> dict[str, Any]:
    """Fill what the URL says into the body, and reject a body that contradicts it (400)."""
    for key, wanted, allowed in (("apiVersion", kind.api_version, kind.api_versions),
                                 ("kind", kind.kind, (kind.kind,))):
        given = obj.setdefault(key, wanted)
        if given not in allowed:
            raise errors.Invalid(
                f"the {key} in the body ({given}) does not match the URL ({wanted})"
            )
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if not isinstance(meta, dict):
        raise errors.Invalid(errors.FieldError("metadata", "must be an object"))
    if namespace is not None and meta.setdefault("namespace", namespace) != namespace:
        raise errors.Invalid(
            "the namespace of the provided object does not match "
            f"the namespace sent on the request ({namespace})"
        )
    if name is not None and meta.setdefault("name", name) != name:
        raise errors.Invalid(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
        )
    return obj


class Handlers:
    """The endpoints; each reads its place from the path parameters of its route."""

    def __init__(self, store: ResourceStore, catalog: Catalog, admit: Admit) -> None:
        self.store, self.catalog, self.admit = store, catalog, admit

    def _target(self, request: Request, *, item: bool) -> tuple[Kind, str | None, str | None]:
        params = request.path_params
        kind = self.catalog.find(params.get("group", ""), params["version"], params["plural"])
        namespace = params.get("namespace")
        # A namespaced kind has items only under /namespaces/{ns}; a cluster-wide one never.
        if (namespace is not None and not kind.namespaced) or (
            item and kind.namespaced and namespace is None
        ):
            raise errors.NotFound(
                f"{objects.resource_name(kind)} is not served at {request.url.path}"
            )
        return kind, namespace, params.get("name")

    async def collection(self, request: Request) -> Response:
        kind, namespace, _ = self._target(request, item=False)
        if request.query_params.get("watch", "").lower() in ("true", "1"):
            return await self._watch(request, kind, namespace)
        hide = hiding(request, kind)
        version = (
            await self.store.current_version()
        )  # before the list: a watch from it repeats, never misses
        if hide is _same:  # the stored JSON as it is: decoding and encoding a thousand
            items = await self.store.list_json(kind, namespace)  # objects held the loop 40 ms
        else:
            items = [_json(hide(o)) for o in await self.store.list(kind, namespace)]
        return Response(list_body(kind, version, items), media_type="application/json")

    async def create(self, request: Request) -> Response:
        kind, namespace, _ = self._target(request, item=False)
        obj = conform(await read_body(request), kind, namespace, None)
        obj.pop("status", None)  # status is a subresource: written by reconcilers only
        admitted = self.admit(obj)
        try:
            created = await self.store.create(admitted)
        except errors.Conflict as exc:
            return failure(exc, reason="AlreadyExists")
        return JSONResponse(created, status_code=201)

    async def read(self, request: Request) -> Response:
        kind, namespace, name = self._target(request, item=True)
        return JSONResponse(hiding(request, kind)(await self.store.get(kind, namespace, str(name))))

    async def replace(self, request: Request) -> Response:
        kind, namespace, name = self._target(request, item=True)
        obj = conform(await read_body(request), kind, namespace, name)
        wanted = obj["metadata"].get("resourceVersion")
        # Without a version the client asked for last-writer-wins; admission still has to
        # see the object it replaces, so pin that one and retry if it moved meanwhile.
        attempt = 0
        while True:
            attempt += 1
            old = await self.store.get(kind, namespace, str(name))
            admitted = self.admit(obj, old)
            admitted.setdefault("metadata", {})["resourceVersion"] = (
                wanted or old["metadata"]["resourceVersion"]
            )
            try:
                return JSONResponse(await self.store.update(admitted))
            except errors.Conflict:
                if wanted or attempt >= 3:
                    raise

    async def replace_status(self, request: Request) -> Response:
        kind, namespace, name = self._target(request, item=True)
        obj = conform(await read_body(request), kind, namespace, name)
        # Reconcilers and the data plane read status fields as Knative's duck types; a
        # field of another type stored here would stop them for every object they serve.
        problems = statuses.validate(obj.get("status"))
        if problems:
            raise errors.Invalid(problems, status=422)
        return JSONResponse(await self.store.update_status(obj))

    async def delete(self, request: Request) -> Response:
        """DELETE, with Kubernetes' optional `DeleteOptions` body: `preconditions.uid`
        deletes only that object, never a namesake created since (409 otherwise)."""
        kind, namespace, name = self._target(request, item=True)
        uid = None
        if await request.body():
            preconditions = (await read_body(request)).get("preconditions") or {}
            if not isinstance(preconditions, dict) or not isinstance(preconditions.get("uid", ""), str):
                raise errors.Invalid("preconditions.uid: must be a string")
            uid = preconditions.get("uid") or None
        return JSONResponse(await self.store.delete(kind, namespace, str(name), uid=uid))

    async def _watch(self, request: Request, kind: Kind, namespace: str | None) -> Response:
        since = request.query_params.get("resourceVersion") or None
        timeout = request.query_params.get("timeoutSeconds")
        deadline = None
        if timeout:
            if not timeout.isdigit():
                raise errors.Invalid(
                    errors.FieldError("timeoutSeconds", f"Invalid value: {timeout!r}")
                )
            deadline = asyncio.get_running_loop().time() + int(timeout)
        initial: list[dict[str, Any]] = []
        if since in (None, "0"):
            since = await self.store.current_version()
            initial = await self.store.list(kind, namespace)
        objects.parse_version(since)  # a bad version is a 400 now, not an ERROR line later
        events = self.store.watch([kind], since=since)
        return StreamingResponse(
            _lines(events, initial, namespace, deadline, hiding(request, kind)),
            media_type="application/json"
        )


AUTHORIZED = "ripple.authorized"
"""The scope key the front (`routing.make_root`) sets: whether the request bore the token."""


def hiding(request: Request, kind: Kind) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """What a read shows of each object: everything, but for a Secret read without the
    token (only `--insecure-api` lets one through), which loses `data` and `stringData`,
    as kubectl users without the right see none."""
    if kind.kind != "Secret" or request.scope.get(AUTHORIZED, True):
        return _same
    return _without_data


def _same(obj: dict[str, Any]) -> dict[str, Any]:
    return obj


def _json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def list_body(kind: Kind, version: str, items: Sequence[bytes]) -> bytes:
    """A `<Kind>List` with `items`, each already JSON, spliced in as they are."""
    head = _json({"apiVersion": kind.api_version, "kind": f"{kind.kind}List",
                  "metadata": {"resourceVersion": version}, "items": []})
    return head[:-2] + b",".join(items) + b"]}"


def _without_data(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("data", "stringData")}


def _line(change: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": change, "object": obj}, separators=(",", ":")).encode() + b"\n"


async def _lines(
    events: AsyncIterator[Any],
    initial: list[dict[str, Any]],
    namespace: str | None,
    deadline: float | None,
    hide: Callable[[dict[str, Any]], dict[str, Any]] = lambda o: o,
) -> AsyncIterator[bytes]:
    # What the initial list already showed is not news: skip changes at or below its version.
    seen = {
        objects.field(o["metadata"].get("namespace"), o["metadata"]["name"]): int(
            o["metadata"]["resourceVersion"]
        )
        for o in initial
    }
    for obj in initial:
        yield _line("ADDED", hide(obj))
    async with contextlib.aclosing(events):  # type: ignore[type-var]
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    event = await anext(events)
            except (TimeoutError, StopAsyncIteration):
                return
            except errors.RippleError as exc:
                yield _line("ERROR", status_of(exc))
                return
            meta = event["object"]["metadata"]
            if namespace is not None and meta.get("namespace") != namespace:
                continue
            key = objects.field(meta.get("namespace"), meta["name"])
            if int(meta["resourceVersion"]) <= seen.get(key, 0):
                continue
            yield _line(event["type"], hide(event["object"]))


# The OpenAPI document (/openapi.json) describes what the handlers read from the request
# themselves: the path parameters, the watch's query, and a Kubernetes object as the body.
_STRING = {"type": "string"}
_STRING_MAP = {"type": "object", "additionalProperties": _STRING}
OBJECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "apiVersion": _STRING,
        "kind": _STRING,
        "metadata": {
            "type": "object",
            "properties": {
                "name": _STRING,
                "namespace": _STRING,
                "resourceVersion": _STRING,
                "labels": _STRING_MAP,
                "annotations": _STRING_MAP,
            },
        },
        "spec": {"type": "object"},
        "status": {"type": "object"},
    },
}
_WATCH_QUERY = [
    {"name": "watch", "in": "query", "schema": {"type": "boolean"}},
    {"name": "resourceVersion", "in": "query", "schema": _STRING},
    {"name": "timeoutSeconds", "in": "query", "schema": {"type": "integer", "minimum": 0}},
]


def _operation(path: str, *, query: bool = False, body: bool = False) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _STRING}
        for name in re.findall(r"{(\w+)}", path)
    ]
    operation: dict[str, Any] = {"parameters": parameters + (_WATCH_QUERY if query else [])}
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": OBJECT_SCHEMA}},
        }
    return operation


def make_api(
    store: ResourceStore, *, kinds: Sequence[Kind] | None = None, admit: Admit | None = None,
    operations: APIRouter | None = None, console: Any = None,
) -> FastAPI:
    """The API app; `kinds` and `admit` default to the registry's and `loading.admit`;
    `operations` (`operations.router`: delivery stats, dead letters) goes before the
    resources' routes, whose `/apis/{group}/{version}/{plural}` would take its paths;
    `console` (the ASGI app of `console.app`) is mounted at /console/."""
    if kinds is None:
        from ripple.api import registry

        kinds = list(registry.kinds())
    if admit is None:
        from ripple.api import loading

        admit = loading.admit
    handlers = Handlers(store, Catalog(kinds), admit)
    app = FastAPI(title="Ripple API", version="v1")

    async def on_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            headers = dict(exc.headers or {})
            if exc.status_code == 405:
                headers["Allow"] = allowed_methods(request)
            return failure(routing_error(request, exc), headers=headers)
        return failure(exc)

    app.add_exception_handler(errors.RippleError, on_error)
    app.add_exception_handler(HTTPException, on_error)
    app.add_exception_handler(Exception, on_error)  # still a Status, and still logged

    async def discovery(request: Request) -> Response:
        return JSONResponse(handlers.catalog.discovery())

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    app.add_api_route("/apis", discovery, methods=["GET"])
    app.add_api_route("/healthz", healthz, methods=["GET"])
    if operations is not None:
        app.include_router(operations)
    if console is not None:
        async def to_console(request: Request) -> Response:
            return RedirectResponse("/console/", status_code=308)

        app.add_api_route("/console", to_console, methods=["GET"], include_in_schema=False)
        app.mount("/console", console)
    for root in ("/apis/{group}/{version}", "/api/{version}"):
        for base in (root + "/namespaces/{namespace}/{plural}", root + "/{plural}"):
            item, status = base + "/{name}", base + "/{name}/status"
            for path, handler, method, extra in (
                (base, handlers.collection, "GET", _operation(base, query=True)),
                (base, handlers.create, "POST", _operation(base, body=True)),
                (item, handlers.read, "GET", _operation(item)),
                (item, handlers.replace, "PUT", _operation(item, body=True)),
                (item, handlers.delete, "DELETE", _operation(item)),
                (status, handlers.read, "GET", _operation(status)),
                (status, handlers.replace_status, "PUT", _operation(status, body=True)),
            ):
                app.add_api_route(path, handler, methods=[method], openapi_extra=extra)
    return app
