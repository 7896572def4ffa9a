"""The operations API on events: replay and trace, one endpoint each, used by the CLI
(`ripple event replay`, `ripple event trace`) and the console. Included by the local
platform in `operations.router` (delivery stats, dead letters), which `apiserver.make_api`
puts before the resources' own routes.

    POST /apis/ripple.dev/v1/namespaces/{ns}/replays
         body {"broker", "since", "until"?, "trigger"?, "type"?}
         -> 200, newline-delimited JSON: one progress object per page
            ({"id", "scanned", "replayed", "fraction", "oldest", "done"}), the last with
            done true. Closing the connection stops the replay between two pages.
    GET  /apis/ripple.dev/v1/namespaces/{ns}/traces?id=ID[&source=S]
         -> 200, the trace document of `ripple.traces` (404: nothing recorded)

Errors are Kubernetes `Status` objects, through the API's own handlers.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from ripple.api import registry
from ripple.api.eventing import replays
from ripple.store import ResourceStore

from broker import replaying
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

    router.add_api_route(BASE + "/replays", replay, methods=["POST"])
    extra: list[Any] = router.routes
    app.router.routes[0:0] = extra
