"""The operations API: delivery stats and Ripple's dead-letter store, as JSON.

One API for the CLI (`ripple describe`, `ripple get triggers -o wide`, `ripple dlq`) and
the console. Mounted by `apiserver.make_api` under Ripple's own group, beside the
resources:

    GET  /apis/ripple.dev/v1[/namespaces/{ns}]/deliverystats[?target=SCOPE]
         {"items": [{"target", "namespace", "backlog", "inFlight", "retries",
                     "deadLetters", "deadLetteredTotal", "lastError"}]}
    GET  /apis/ripple.dev/v1[/namespaces/{ns}]/edgestats[?target=SCOPE | ?targets=T1,T2,...]
         the same items, each with the live figures of `delivery_rates` besides:
         {"rate" (attempts/s), "errorRate" (0..1), "p99" (s)}, null when unknown, of every
         worker (`delivery_rates.Mesh`) when there are several; `targets`
         (`trigger:A,subscription:B`) reads only those (the console asks for the edges it shows)
    GET  /apis/ripple.dev/v1[/namespaces/{ns}]/deadletters[?target=SCOPE][&limit=N]
         {"items": [entry]}, oldest first; an entry as `channels.deadletters.view` makes it
    GET  /apis/ripple.dev/v1/namespaces/{ns}/deadletters/{id}    by store id or event id (a `/` in it allowed)
    POST /apis/ripple.dev/v1/namespaces/{ns}/deadletters/redrive {"target", "ids" | "all", "to"}
         {"redriven": [{"id", "target"}], "missing": [ids]}
    POST /apis/ripple.dev/v1/namespaces/{ns}/deadletters/purge   {"target", "ids" | "all"}
         {"purged": N}

SCOPE is `trigger:NAME`, `subscription:NAME`, `broker:NAME` (its Triggers), `channel:NAME`
(its Subscriptions) or a source, `pingsource:NAME`, `githubsource:NAME`,
`gitlabsource:NAME`, `kafkasource:NAME` (a KafkaSource's queue holds only what a redrive
sent back; its records wait in Kafka); none is every target of the namespace. A store id is unique within a
target's store only (two Triggers may dead-letter in one millisecond), so an id names the
entries with that id in the scope. The operations themselves are `channels.stats` and
`channels.deadletters`; this module finds the targets (from the resource store) and
speaks HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ripple import errors, queued
from ripple.api import dead_letter_bounds, registry
from ripple.cloudevents import records
from ripple.settings import DeadLetterSettings
from ripple.store import ResourceStore

from channels import deadletters, locations, stats
from channels.identities import Kind
from channels.locations import Location
from controllers.platforms.local import apiserver, delivery_rates

GROUP = "/apis/ripple.dev/v1"
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class Found:
    location: Location
    bounds: dead_letter_bounds.Bounds


Listing = Callable[[str, "str | None"], list[dict[str, Any]]]
"""`Informer.list(kind, namespace)`: the worker's cache of the store, by kind name."""


class Operations:
    """`cache` (the worker's informer) serves the listings of the reads (`cached=True`): the
    console's, which repeat every 1.5 s per open page, and the API's dead-letter list and
    look-up (`ripple dlq list`, `ripple dlq show`): with 1,000 Triggers a listing from the
    store decodes 1,000 objects per request. What the cached reads work out from the cache
    (every target's location and bounds) is kept until the informer's `generation` moves.
    A named target is still read from the store (one object, and a 404 when it is gone).
    Redrive and purge, which move and delete entries, list the store itself. Listing dead
    letters takes the same few round trips for 1,000 targets as for one (`entries_page`),
    and so does finding one by id (`find`)."""

    def __init__(self, client: aioredis.Redis, store: ResourceStore,
                 settings: DeadLetterSettings, cache: Listing | None = None,
                 generation: Callable[[], int] | None = None,
                 mesh: delivery_rates.Mesh | None = None) -> None:
        self.redis, self.store, self.cache = client, store, cache
        self.generation = generation
        """`Informer.generation`: the cache's change count, which the cached reads' own
        caches (the targets here, the console's topology) are kept against."""
        self.dead_letters = deadletters.Store(client)
        self.default = dead_letter_bounds.Bounds(settings.max_entries, settings.retention)
        self.rates = delivery_rates.Rates()
        self.mesh = mesh
        """With several workers: the live figures of all of them (else this process's)."""
        self._every: dict[str | None, tuple[int, list[Found], dict[tuple[str, str], Found]]] = {}

    def current(self) -> int | None:
        """The cache's generation; None without a cache (nothing may be kept then)."""
        return self.generation() if self.cache is not None and self.generation is not None else None

    async def listing(self, kind: str, namespace: str | None, *, cached: bool = False) -> list[dict[str, Any]]:
        """A kind's objects (by its name, e.g. "Trigger"), from the cache when asked and there is one."""
        if cached and self.cache is not None:
            return self.cache(kind, namespace)
        return await self.store.list(registry.by_name(kind), namespace)

    async def targets(self, namespace: str | None, scope: str | None, *,
                      cached: bool = False) -> list[Found]:
        """The targets a scope names; a named resource that does not exist is a 404."""
        if not scope:
            return (await self._all(namespace, cached))[0]
        word, sep, name = scope.partition(":")
        if not sep or not name:
            raise errors.Invalid(errors.FieldError(
                "target", f'invalid value "{scope}": must be KIND:NAME, e.g. trigger:NAME or broker:NAME'))
        word = word.lower()
        if namespace is None:
            raise errors.Invalid(errors.FieldError("target", "a target is named within a namespace"))
        if word in queued.PARENTS:
            child, field = queued.PARENTS[word]
            await self.store.get(registry.by_name(word), namespace, name)  # 404 if it is not there
            if cached and self.current() is not None:  # the namespace's targets, worked out once
                return [f for f in (await self._all(namespace, cached))[0]
                        if f.location.key.kind == child and f.location.parent == name]
            children = await self.listing(str(child), namespace, cached=cached)
            return [f for o in children if _parent(o, field) == name and (f := self._found(o))]
        named = next((k for k in queued.KINDS if str(k).lower() == word), None)
        if named is None:
            known = ", ".join(queued.SCOPES)
            raise errors.Invalid(errors.FieldError(
                "target", f'invalid value "{scope}": the kind must be one of {known}'))
        one = self._found(await self.store.get(_kind(named), namespace, name))
        return [one] if one is not None else []

    async def _all(self, namespace: str | None, cached: bool
                   ) -> tuple[list[Found], dict[tuple[str, str], Found]]:
        """Every target of a namespace (None: of all), and by (namespace, label); from the
        cache, computed once per change of it (1,000 Triggers' locations and bounds are
        not worked out again every 1.5 s of every open console page)."""
        generation = self.current() if cached else None
        kept = self._every.get(namespace)
        if generation is not None and kept is not None and kept[0] == generation:
            return kept[1], kept[2]
        every: list[Found] = []
        for kind in queued.KINDS:
            every += [f for o in await self.listing(str(kind), namespace, cached=cached)
                      if (f := self._found(o)) is not None]
        by_label = {(f.location.key.namespace, deadletters.label(f.location.key)): f for f in every}
        if generation is not None:
            if len(self._every) > 64:  # namespaces asked for since the last change: bounded
                self._every.clear()
            self._every[namespace] = (generation, every, by_label)
        return every, by_label

    def found(self, obj: dict[str, Any]) -> Found | None:
        """A Trigger's, Subscription's or queued source's target; None for other kinds."""
        return self._found(obj)

    def _found(self, obj: dict[str, Any]) -> Found | None:
        where = locations.of_resource(obj)
        if where is None:
            return None
        return Found(where, dead_letter_bounds.of(obj, self.default))

    async def stats(self, namespace: str | None, scope: str | None,
                    labels: Sequence[str] | None = None, *, cached: bool = False) -> list[dict[str, Any]]:
        if labels is not None and not scope and namespace is not None:
            by_label = (await self._all(namespace, cached))[1]
            found = [f for label in dict.fromkeys(labels) if (f := by_label.get((namespace, label)))]
        else:
            found = await self.targets(namespace, scope, cached=cached)
            if labels is not None:
                wanted = set(labels)
                found = [f for f in found if deadletters.label(f.location.key) in wanted]
        return await self.stats_of(found)

    async def stats_of(self, found: Sequence[Found]) -> list[dict[str, Any]]:
        """The figures of these targets, in one pipeline."""
        figures = await stats.read(self.redis, [f.location for f in found])
        return [{"target": deadletters.label(f.location.key), "namespace": f.location.key.namespace,
                 **s.to_json()} for f, s in zip(found, figures)]

    async def edge_stats(self, namespace: str | None, scope: str | None,
                         labels: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """`stats`, with each target's live rate, error rate and p99 latency."""
        items = await self.stats(namespace, scope, labels, cached=True)
        if self.mesh is not None:
            figures = await self.mesh.figures([(i["namespace"], i["target"]) for i in items])
        else:
            figures = self.rates.figures()
        return [{**item, **figures((item["namespace"], item["target"])).to_json()} for item in items]

    async def entries(self, namespace: str | None, scope: str | None, limit: int = MAX_LIMIT,
                      given: list[Found] | None = None, *, cached: bool = False) -> list[dict[str, Any]]:
        """The entries of the scope's targets (of `given`, when the caller has them), oldest
        first."""
        return (await self.entries_page(namespace, scope, limit=limit, given=given, cached=cached))[0]

    async def entries_page(self, namespace: str | None, scope: str | None, *, limit: int = MAX_LIMIT,
                           offset: int = 0, newest: bool = False, given: list[Found] | None = None,
                           cached: bool = False) -> tuple[list[dict[str, Any]], int]:
        """The entries `offset` to `offset + limit` of the scope's targets, oldest first (with
        `newest`, counted from the newest: the last `limit`), and how many they hold in all.
        A bounded number of store round trips however many targets and stores
        (`deadletters.Store.listing`); only the page's entries are decoded."""
        every = given if given is not None else await self.targets(namespace, scope, cached=cached)
        read = await self.dead_letters.listing([(f.location, f.bounds) for f in every],
                                               limit=offset + limit, newest=newest)
        total = sum(length for length, _ in read)
        chosen = sorted(((_stream_order(entry_id), str(found.location.key), entry_id, fields, found)
                         for found, (_, entries) in zip(every, read) for entry_id, fields in entries),
                        key=lambda c: c[:2], reverse=newest)[offset:offset + limit]  # a total order
        if newest:
            chosen.reverse()
        return self._views(chosen), total

    async def held(self, namespace: str | None, *, cached: bool = False) -> list[str]:
        """The labels of the namespace's targets whose store ever took an entry (one round
        trip): the console's choice of targets."""
        every = await self.targets(namespace, None, cached=cached)
        ever = await self.dead_letters.ever_held([f.location for f in every])
        return sorted(deadletters.label(f.location.key) for f, h in zip(every, ever) if h)

    async def find(self, namespace: str | None, scope: str | None, wanted: str, *,
                   cached: bool = False) -> list[dict[str, Any]]:
        """The entries whose store id or event id is `wanted`, oldest first: bounded reads
        of each store's index (`deadletters.Store.find`), not a walk of the stores."""
        every = await self.targets(namespace, scope, cached=cached)
        found = await self.dead_letters.find([(f.location, f.bounds) for f in every], [wanted])
        return self._views(sorted(
            ((_stream_order(entry_id), str(f.location.key), entry_id, fields, f)
             for f, entries in zip(every, found) for entry_id, fields in entries), key=lambda c: c[:2]))

    def _views(self, chosen: Sequence[tuple[Any, str, bytes, records.Fields, Found]]) -> list[dict[str, Any]]:
        return [{**deadletters.view(entry_id, fields, deadletters.label(found.location.key)),
                 "namespace": found.location.key.namespace}
                for _, _, entry_id, fields, found in chosen]

    async def redrive(self, namespace: str, scope: str | None, ids: Sequence[str] | None,
                      to: str | None) -> dict[str, Any]:
        """Back in their queues: the entries `ids` names (store ids or event ids, looked up
        in each store's index), or every entry of the scope (None: a page at a time)."""
        redriven: list[dict[str, str]] = []
        every = await self.targets(namespace, scope)
        if ids is None:
            for found in every:
                async for page in self.dead_letters.pages(found.location, found.bounds):
                    moved = await self.dead_letters.redrive(found.location, [i.decode() for i, _ in page], to)
                    redriven += [{"id": m, "target": deadletters.label(found.location.key)} for m in moved]
            return {"redriven": redriven, "missing": []}
        matched: set[str] = set()
        for found, chosen in await self._chosen(every, ids):
            matched.update(chosen.values())
            matched.update(chosen)
            moved = await self.dead_letters.redrive(found.location, list(chosen), to)
            redriven += [{"id": m, "target": deadletters.label(found.location.key)} for m in moved]
        return {"redriven": redriven, "missing": [i for i in ids if i not in matched]}

    async def purge(self, namespace: str, scope: str | None, ids: Sequence[str] | None) -> int:
        """Delete the entries `ids` names (store ids or event ids), or every entry of the
        scope (None)."""
        every = await self.targets(namespace, scope)
        if ids is None:
            return sum([await self.dead_letters.purge(found.location) for found in every])
        return sum([await self.dead_letters.purge(found.location, list(chosen))
                    for found, chosen in await self._chosen(every, ids)])

    async def _chosen(self, every: Sequence[Found], ids: Sequence[str]) -> list[tuple[Found, dict[str, str]]]:
        """The targets holding entries `ids` names, each with those entries' store id ->
        event id."""
        found = await self.dead_letters.find([(f.location, f.bounds) for f in every], ids)
        return [(f, {entry_id.decode(): deadletters.event_id(fields) for entry_id, fields in entries})
                for f, entries in zip(every, found) if entries]


def _stream_order(entry_id: bytes) -> tuple[int, int]:
    """A stream id's order (the time it was dead-lettered, then its sequence)."""
    millis, _, seq = entry_id.partition(b"-")
    return int(millis), int(seq or 0)


def _kind(kind: Kind) -> registry.Kind:
    return registry.by_name(str(kind))


def _parent(obj: dict[str, Any], field: str) -> str:
    spec = obj.get("spec") or {}
    value = spec.get(field)
    return str(value.get("name", "")) if isinstance(value, dict) else str(value or "")


def router(operations: Operations) -> APIRouter:
    """The routes above; `make_api` includes them before the resources' own."""
    routes = APIRouter()

    def namespace_of(request: Request) -> str | None:
        return request.path_params.get("namespace")

    async def delivery_stats(request: Request) -> Response:
        items = await operations.stats(namespace_of(request), request.query_params.get("target"))
        return JSONResponse({"items": items})

    async def edge_stats(request: Request) -> Response:
        named = request.query_params.get("targets")
        labels = [t for t in named.split(",") if t] if named is not None else None
        if labels is not None and request.query_params.get("target"):
            raise errors.Invalid(errors.FieldError("targets", "give target or targets, not both"))
        items = await operations.edge_stats(namespace_of(request), request.query_params.get("target"),
                                            labels)
        return JSONResponse({"items": items})

    async def list_dead_letters(request: Request) -> Response:
        limit = request.query_params.get("limit", str(MAX_LIMIT))
        if not limit.isdigit() or int(limit) < 1:
            raise errors.Invalid(errors.FieldError("limit", f'invalid value "{limit}": must be a positive number'))
        items = await operations.entries(namespace_of(request), request.query_params.get("target"),
                                         min(int(limit), MAX_LIMIT), cached=True)
        return JSONResponse({"items": items})

    async def show_dead_letter(request: Request) -> Response:
        wanted = request.path_params["id"]
        items = await operations.find(namespace_of(request), request.query_params.get("target"), wanted,
                                      cached=True)
        if not items:
            raise errors.NotFound(f'no dead letter with the id "{wanted}" (a store id or an event id)')
        return JSONResponse({"items": items})

    async def redrive(request: Request) -> Response:
        body = await _body(request)
        ids = _ids(body)
        to = body.get("to")
        if to is not None and (not isinstance(to, str) or not to.startswith(("http://", "https://"))):
            raise errors.Invalid(errors.FieldError("to", f"invalid value {to!r}: must be an http(s) URL"))
        result = await operations.redrive(request.path_params["namespace"], body.get("target"), ids, to)
        return JSONResponse(result)

    async def purge(request: Request) -> Response:
        body = await _body(request)
        purged = await operations.purge(request.path_params["namespace"], body.get("target"), _ids(body))
        return JSONResponse({"purged": purged})

    for base in (GROUP, GROUP + "/namespaces/{namespace}"):
        routes.add_api_route(base + "/deliverystats", delivery_stats, methods=["GET"])
        routes.add_api_route(base + "/edgestats", edge_stats, methods=["GET"])
        routes.add_api_route(base + "/deadletters", list_dead_letters, methods=["GET"])
    item = GROUP + "/namespaces/{namespace}/deadletters"
    routes.add_api_route(item + "/redrive", redrive, methods=["POST"])
    routes.add_api_route(item + "/purge", purge, methods=["POST"])
    # `:path`: an event id may hold a `/` (a Kafka record's `partition:0/offset:7`), which
    # the CLI sends as %2F and the server decodes before routing
    routes.add_api_route(item + "/{id:path}", show_dead_letter, methods=["GET"])
    return routes


async def _body(request: Request) -> dict[str, Any]:
    body = await apiserver.read_body(request)
    target = body.get("target")
    if target is not None and not isinstance(target, str):
        raise errors.Invalid(errors.FieldError("target", "must be a string such as trigger:NAME"))
    return body


def _ids(body: dict[str, Any]) -> list[str] | None:
    """The ids asked for; None for `"all": true`. Neither, or both, is refused: a redrive or
    purge of everything is never the default."""
    ids, every = body.get("ids"), body.get("all") is True
    if every and ids:
        raise errors.Invalid(errors.FieldError("ids", "give ids or all, not both"))
    if every:
        return None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise errors.Invalid(errors.FieldError("ids", 'must be a non-empty list of ids, or set "all": true'))
    return ids
