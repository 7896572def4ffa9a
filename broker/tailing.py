"""`GET /tail/{namespace}/{broker}`: stream events live as they enter a broker; also
`/tail/{namespace}/brokers/{name}` and `/tail/{namespace}/channels/{name}` (a Channel or an
InMemoryChannel: channels are logs of the same record format).

Serves `ripple event tail broker:X|channel:X`. Each line of the response is one event in the JSON format.
It follows the broker log with XREAD (no consumer group: a tail must never take events
from the fan-out), starting at the newest entry; the fan-out keeps a few seconds of log
behind it for this reader.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Awaitable, Callable, cast

import redis.asyncio as aioredis

from channels import http
from channels.queues import StreamReply
from ripple import cloudevents as ce
from ripple import cancelling, errors, redisclient

Resolve = Callable[[str, str], str | None]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Tail:
    def __init__(self, client: aioredis.Redis, resolve: Resolve, *, prefix: str = "/tail/",
                 channels: Resolve | None = None) -> None:
        self.redis, self.prefix = client, prefix
        self.resolvers = {"brokers": resolve, **({"channels": channels} if channels else {})}

    def _stream(self, parts: list[str]) -> str | None:
        """`ns/broker` (the first form, kept), or `ns/brokers/name` and `ns/channels/name`."""
        if len(parts) == 2:
            return self.resolvers["brokers"](*parts)
        if len(parts) == 3 and parts[1] in self.resolvers:
            return self.resolvers[parts[1]](parts[0], parts[2])
        return None

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]], send: Send) -> None:
        parts = [p for p in scope["path"][len(self.prefix):].split("/") if p]
        stream = self._stream(parts)
        if scope["method"] != "GET":
            method = scope["method"]
            await http.respond_error(send, errors.MethodNotAllowed(
                f"method {method} is not allowed; use GET"), allow=b"GET")
            return
        if stream is None:
            what = parts[1][:-1] if len(parts) == 3 and parts[1] in self.resolvers else "broker"
            where = f"{self.prefix}<namespace>/<broker> or {self.prefix}<namespace>/channels/<channel>"
            await http.respond_error(send, errors.NotFound(
                f"{what} {'/'.join(parts)} not found; the addresses are {where}"))
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/x-ndjson")]})
        follower = asyncio.create_task(self._follow(stream, send))
        while True:  # the client hanging up is the only way a tail ends
            message = await receive()
            if message["type"] == "http.disconnect":
                break
        await cancelling.stop(follower)  # a send to a client already gone may fail: moot

    async def _follow(self, stream: str, send: Send) -> None:
        last = "$"
        while True:
            try:
                reply = cast(StreamReply,
                             await self.redis.xread({stream: last}, count=100, block=1000))
            except redisclient.UNAVAILABLE as exc:
                raise redisclient.translate(exc) from exc
            lines = []
            for _, entries in reply or ():
                for entry_id, fields in entries:
                    last = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                    if fields:
                        lines.append(json.dumps(ce.to_json_dict(ce.from_record(fields))).encode() + b"\n")
            if lines:
                await send({"type": "http.response.body", "body": b"".join(lines), "more_body": True})
