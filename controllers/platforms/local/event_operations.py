"""The operations API on events: replay and trace, one endpoint each, used by the CLI
(`ripple event replay`, `ripple event trace`) and the console. Included by the local
platform in `operations.router` (delivery stats, dead letters), which `apiserver.make_api`
puts before the resources' own routes.

    POST /apis/ripple.dev/v1/namespaces/{ns}/replays
         body {"broker", "since", "until"?, "trigger"?, "type"?}
         -> 200, newline-delimited JSON: one progress object per page
            ({"id", "scanned", "replayed", "fraction", "oldest", "done"}), the last with
            done true. Closing the connection stops the replay between two pages: the
            replay runs in its own task, told to stop when the stream is cancelled, so it
            never stops inside a page; it logs "replay stopped by its client" with the
            exact number of copies it enqueued, which are delivered.
    GET  /apis/ripple.dev/v1/traces?id=ID[&source=S]
         -> 200, the trace document of `ripple.traces.build` (404: nothing recorded; 400
            when several events share the id and no source picks one)

Errors are Kubernetes `Status` objects, through the API's own handlers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ripple import errors, traces
from ripple.api import meta, registry
from ripple.api.eventing import replays
from ripple.store import ResourceStore

from broker import replaying
from channels import tracing
from controllers.platforms.local import apiserver

BASE = "/apis/ripple.dev/v1/namespaces/{namespace}"

log = logging.getLogger(__name__)
_replays: set[asyncio.Task[None]] = set()
"""Replays under way (a reference, so that a running replay's task is not collected)."""


def router(store: ResourceStore, client: aioredis.Redis) -> APIRouter:
    routes = APIRouter()
    brokers, triggers = registry.by_name("Broker"), registry.by_name("Trigger")

    async def replay(namespace: str, request: Request) -> Response:
        body = await apiserver.read_body(request)
        wanted = replays.parse_request(namespace, body, time.time())
        await store.get(brokers, namespace, wanted.broker)  # 404 for an unknown Broker
        candidates = await store.list(triggers, namespace)
        replaying.index_of(candidates, wanted)  # 404 for an unknown Trigger, before streaming

        async def lines() -> AsyncIterator[bytes]:
            stop = asyncio.Event()
            found: asyncio.Queue[replaying.Progress | Exception | None] = asyncio.Queue()
            task = asyncio.create_task(_pump(replaying.replay(client, wanted, candidates, stop=stop),
                                             found, stop), name=f"replay:{wanted.id}")
            _replays.add(task)
            task.add_done_callback(_replays.discard)
            try:
                while (item := await found.get()) is not None:
                    if isinstance(item, Exception):
                        raise item
                    yield json.dumps(item.as_json()).encode() + b"\n"
            finally:  # the stream ended, or was cancelled: its client went away
                stop.set()

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def trace(request: Request) -> Response:
        event_id = request.query_params.get("id") or ""
        if not event_id:
            raise errors.Invalid(errors.FieldError("id", "required: the event's id"))
        source = request.query_params.get("source") or None
        hops = await _read_hops(client, event_id, source)
        return JSONResponse(traces.build(next(iter(hops)), hops, await _resources(store)))

    routes.add_api_route(BASE + "/replays", replay, methods=["POST"])
    routes.add_api_route("/apis/ripple.dev/v1/traces", trace, methods=["GET"])
    return routes


async def _pump(progress: AsyncIterator[replaying.Progress],
                found: asyncio.Queue[replaying.Progress | Exception | None], stop: asyncio.Event) -> None:
    """Run a replay to its end, or to the page boundary after `stop`, handing each progress
    to the stream (None: no more). Not the stream's own task: a cancelled stream must not
    cut a page's pipeline short, and the count logged is then exact."""
    last: replaying.Progress | None = None
    try:
        async for last in progress:
            found.put_nowait(last)
    except Exception as exc:  # errors.StoreUnavailable: the stream answers with it
        found.put_nowait(exc)
    if stop.is_set() and last is not None and not last.done:
        log.info("replay stopped by its client", extra={
            "replay": last.id, "enqueued": last.replayed, "read": last.scanned})
    found.put_nowait(None)


async def _read_hops(client: aioredis.Redis, event_id: str, source: str | None
                     ) -> dict[traces.EventKey, list[traces.Hop]]:
    """The hops of the event asked for (first in the answer) and of its replies,
    recursively, by event; at most `traces.MAX_EVENTS` ids read."""
    by_event: dict[traces.EventKey, list[traces.Hop]] = {}
    found = _by_event(await tracing.read(client, event_id))
    if source is not None:
        found = {k: v for k, v in found.items() if k[1] == source}
    if not found:
        named = f" from source {source!r}" if source is not None else ""
        raise errors.NotFound(f"no trace of event {event_id!r}{named}: never accepted, not "
                              "sampled, or older than the trace TTL")
    if len(found) > 1:
        sources = ", ".join(sorted(repr(k[1]) for k in found))
        raise errors.Invalid(errors.FieldError(
            "source", f"required: several events have the id {event_id!r} (sources {sources})"))
    by_event.update(found)
    frontier, read = list(found), {event_id}
    while frontier and len(read) < traces.MAX_EVENTS:
        key = frontier.pop(0)
        for reply in traces.replies_of(by_event.get(key, [])):
            if reply in by_event or reply[0] in read:
                continue
            read.add(reply[0])
            for found_key, hops in _by_event(await tracing.read(client, reply[0])).items():
                if found_key == reply:
                    by_event[found_key] = hops
                    frontier.append(found_key)
    return by_event


def _by_event(hops: list[traces.Hop]) -> dict[traces.EventKey, list[traces.Hop]]:
    grouped: dict[traces.EventKey, list[traces.Hop]] = {}
    for hop in hops:
        grouped.setdefault((hop.get("id", ""), hop.get("source", "")), []).append(hop)
    return grouped


async def _resources(store: ResourceStore) -> traces.Resources:
    """The Triggers of every broker, and the flow step of every channel and Subscription."""
    found = traces.Resources()
    for trigger in await store.list(registry.by_name("Trigger")):
        namespace, name = meta.key(trigger)
        found.triggers.setdefault(f"broker:{namespace}/{trigger['spec'].get('broker')}", []).append(name)
    for kind, label in (("Channel", "channel:{}/{}"), ("InMemoryChannel", "channel:{}/{}"),
                        ("Subscription", "Subscription/{}/{}")):
        for obj in await store.list(registry.by_name(kind)):
            namespace, name = meta.key(obj)
            owner: dict[str, Any] = next(
                (o for o in obj["metadata"].get("ownerReferences") or [] if o.get("controller")), {})
            flow = traces.flow_of(name, owner.get("kind"), owner.get("name"))
            if flow is not None:
                found.flows.setdefault(label.format(namespace, name), flow)
    return found
