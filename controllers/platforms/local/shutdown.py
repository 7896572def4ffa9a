"""How a worker's HTTP server stops promptly: used by `platform` (`ripple up`) and by the
Kubernetes data plane, around the app `routing.make_root` builds.

On SIGTERM uvicorn stops accepting and then waits, up to its graceful timeout
(`platform.DRAIN_TIMEOUT`), for every request in flight. A watch (`ripple get -w`, the
console), an event tail or a replay's progress is in flight until its client hangs up, so
one open watch made every stop of `ripple up` last the whole timeout. Kubernetes' API
server ends its watches when it shuts down, and a client watches again; so do we:
- `Server` is uvicorn's server that also sets a `stopping` event when a signal asks it to
  exit (uvicorn takes SIGTERM and SIGINT over while it serves);
- `ending_streams` wraps an app so that once `stopping` is set, a request whose body was
  read receives `http.disconnect`: what Starlette's StreamingResponse and `broker.tailing`
  already wait for to end a stream. A request still sending its body is left alone, and
  so is an answer being computed: those get the graceful timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from types import FrameType
from typing import Any

import uvicorn

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

DISCONNECT: Message = {"type": "http.disconnect"}


class Server(uvicorn.Server):
    """uvicorn's server, which sets `stopping` when SIGTERM or SIGINT asks it to exit.
    Build it inside the running loop: the signal handler hands the event to that loop."""

    def __init__(self, config: uvicorn.Config, stopping: asyncio.Event) -> None:
        super().__init__(config)
        self.stopping = stopping
        self._loop = asyncio.get_running_loop()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._loop.call_soon_threadsafe(self.stopping.set)


def ending_streams(app: ASGIApp, stopping: asyncio.Event) -> ASGIApp:
    """`app`, whose requests see their client hang up once `stopping` is set, if their body
    was read (an app reads on after the body only to learn of a disconnect). A stream ended
    so is then closed properly, with its last (empty) chunk: its client sees the answer end,
    as a watch's client does when Kubernetes' API server stops, not a broken connection."""

    async def ending(scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body_read = ended = started = complete = False

        async def receiving() -> Message:
            nonlocal body_read, ended
            if body_read:
                message = await until_stopping(receive, stopping)
                ended = ended or (message["type"] == "http.disconnect" and stopping.is_set())
                return message
            message = await receive()
            body_read = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def sending(message: Message) -> None:
            nonlocal started, complete
            started = started or message["type"] == "http.response.start"
            complete = complete or (message["type"] == "http.response.body"
                                    and not message.get("more_body", False))
            await send(message)

        await app(scope, receiving, sending)
        if ended and started and not complete:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return ending


async def until_stopping(receive: Receive, stopping: asyncio.Event) -> Message:
    """The next message, or `http.disconnect` once `stopping` is set, whichever is first."""
    if stopping.is_set():
        return dict(DISCONNECT)
    message = asyncio.ensure_future(receive())
    stopped = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({message, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not message.done():
            message.cancel()
    if message.done() and not message.cancelled():
        return message.result()
    return dict(DISCONNECT)
