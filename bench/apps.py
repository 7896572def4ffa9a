"""The two servers the benchmarks run beside Ripple, each in its own process.

`python -m bench.apps sink PORT` runs the subscriber: it reads the request, counts it,
keeps the arrival time and, when the request carries `ce-benchsent` (a CLOCK_MONOTONIC
timestamp in ns, which is system-wide on Linux), the latency since then, and since the
broker's `knativearrivaltime` stamp when it has one (wall clock: the part after the ingress). It answers 200
with no body, so Ripple sees no reply event: a pass-through subscriber.
`GET /_stats` returns what it saw as JSON, `GET /_count` only the counts, `GET /_reset`
forgets it.

`python -m bench.apps bare PORT` runs the P1 baseline: it reads the request and answers
202, nothing else.

`python -m bench.apps stall PORT` runs P6's stalled subscriber: it accepts connections and
reads whatever arrives, but never answers, so every delivery runs into its timeout.

Both are raw ASGI on uvicorn with httptools and uvloop, as Ripple's own ingress is.
Raw ASGI was chosen over aiohttp.web after measuring both under wrk (docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

_EMPTY = [(b"content-length", b"0")]
_JSON = [(b"content-type", b"application/json")]


async def _drain(receive: Receive) -> None:
    while (await receive()).get("more_body"):
        pass


async def _answer(send: Send, status: int, body: bytes = b"", headers: Headers | None = None
                  ) -> None:
    if body:
        headers = (headers or []) + [(b"content-length", str(len(body)).encode())]
    else:
        headers = _EMPTY
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Sink:
    """Counts requests and keeps arrival times and latencies, in memory, until reset."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.first_ns = 0
        self.last_ns = 0
        self.latencies_ns: list[int] = []
        self.after_ingress_ns: list[int] = []
        self.stamped_events: list[tuple[str, int, int, int]] = []
        """Per stamped event: (id, sent, broker stamp, arrival), wall-clock ns (the stamp 0
        when there is none): where each event's time went, with its trace."""

    def stats(self) -> dict[str, Any]:
        return {"count": self.count, "first_ns": self.first_ns, "last_ns": self.last_ns,
                "latencies_ns": self.latencies_ns, "after_ingress_ns": self.after_ingress_ns,
                "stamped_events": self.stamped_events}

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            if scope["path"] == "/_reset":
                self.reset()
                await _answer(send, 200, b"{}", _JSON)
            elif scope["path"] == "/_count":
                body = b'{"count":%d,"stamped":%d}' % (self.count, len(self.latencies_ns))
                await _answer(send, 200, body, _JSON)
            else:
                await _answer(send, 200, json.dumps(self.stats()).encode(), _JSON)
            return
        await _drain(receive)
        now, wall = time.monotonic_ns(), time.time_ns()
        sent = arrived = event_id = None
        for name, value in scope["headers"]:
            if name == b"ce-benchsent":
                sent = int(value)
            elif name == b"ce-knativearrivaltime":
                arrived = value
            elif name == b"ce-id":
                event_id = value
        if sent is not None:
            self.latencies_ns.append(now - sent)
            stamped_ns = 0
            if arrived is not None:  # the broker's stamp: how much of it came after the ingress
                stamped_ns = int(dt.datetime.fromisoformat(arrived.decode()).timestamp() * 1e9)
                self.after_ingress_ns.append(wall - stamped_ns)
            self.stamped_events.append((event_id.decode() if event_id else "", sent + wall - now, stamped_ns, wall))
        self.count += 1
        if not self.first_ns:
            self.first_ns = now
        self.last_ns = now
        await _answer(send, 200)


async def bare(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """The P1 baseline: read the body, answer 202."""
    if scope["type"] != "http":
        return
    await _drain(receive)
    await _answer(send, 202)


async def _stall(port: int) -> None:
    import asyncio

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.read(65536):
                pass
        except OSError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def serve(app: Any, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, http="httptools", loop="uvloop",
                lifespan="off", access_log=False, log_level="warning", backlog=4096)


def main(argv: list[str]) -> int:
    kind, port = argv[0], int(argv[1])
    if kind == "stall":
        import asyncio

        asyncio.run(_stall(port))
        return 0
    serve(Sink() if kind == "sink" else bare, port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
