"""The operations API on events: replay and trace, one endpoint each, used by the CLI
(`ripple event replay`, `ripple event trace`) and the console. Included by the local
platform in `operations.router` (delivery stats, dead letters), which `apiserver.make_api`
puts before the resources' own routes.

    POST /apis/ripple.dev/v1/namespaces/{ns}/replays
         body {"broker", "since", "until"?, "trigger"?, "type"?}
         -> 200, newline-delimited JSON: one progress object per page
            ({"id", "scanned", "replayed", "fraction", "oldest", "done"}), the last with
            done true. Closing the connection stops the replay between two pages.
    GET  /apis/ripple.dev/v1/traces?id=ID[&source=S]
         -> 200, the trace document of `ripple.traces.build` (404: nothing recorded; 400
            when several events share the id and no source picks one)

Errors are Kubernetes `Status` objects, through the API's own handlers.
"""

from __future__ import annotations

import json
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
            async for progress in replaying.replay(client, wanted, candidates):
                yield json.dumps(progress.as_json()).encode() + b"\n"

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
