"""The ingress's fast path: `POST /{ns}/{name}` served on uvicorn's httptools protocol
without ASGI; every other request goes to the ASGI app unchanged.

Issue #14 measured where a 202 went with ASGI in between: uvicorn's per-request scope,
task, `asyncio.Event`, receive and send messages, about 30% of the ingress's CPU. This
protocol is uvicorn's `HttpToolsProtocol` (the same parser, keep-alive timer, flow control,
graceful shutdown, TLS and sockets) with one change at `on_headers_complete`: a `POST` that
`pick` gives to an `Ingress` becomes a `FastCycle`, which takes the body from the parser's
callbacks, runs the same `Ingress` core as the ASGI app (`open`, `decode`, `accepted`,
`failed`), submits the entries to the `Appender` (`submit`: a future, no task) and writes
the answer from the future's callback, in the bytes uvicorn would have written (its
status lines, its `date` header, `connection: close` when the connection ends).

What stays uvicorn's: any other method (OPTIONS, HEAD, the 405s), a path with `%` (which
ASGI unquotes), an absolute-form target, an upgrade, `limit_concurrency`, and every
request `pick` declines (control API, console, metrics, health, webhooks, the serving
router). Pipelined requests keep their order: a fast cycle joins uvicorn's own queue of
cycles and starts when the one before it answered, whichever kind that was.
Expect: 100-continue is answered when the body is wanted, after the address, token and
header checks, as uvicorn does on the app's first `receive`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from channels import http
from channels.ingress import Ingress, Request

log = logging.getLogger(__name__)

Pick = Callable[[str, Any, http.Headers], Ingress | None]
"""(path, the connection's local (host, port), raw headers) -> the Ingress whose request it
is, or None for the ASGI app."""

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_CLOSE = b"connection: close\r\n"


def encode(answer: http.Answer, default_headers: http.Headers, keep_alive: bool) -> bytes:
    """An answer as uvicorn's httptools protocol writes it (`RequestResponseCycle.send`)."""
    status, headers, body = answer
    out = [STATUS_LINE[status]]
    close = False
    for name, value in default_headers + headers:
        if name == b"connection" and b"close" in [t.lower().strip() for t in value.split(b",")]:
            close = True
        out += (name, b": ", value, b"\r\n")
    if not keep_alive and not close:
        out.append(_CLOSE)
    out += (b"\r\n", body)
    return b"".join(out)


class _NoEvent:
    """What uvicorn's `connection_lost` sets on the current cycle: a fast cycle waits on none."""

    @staticmethod
    def set() -> None:
        return None


_NO_EVENT = _NoEvent()


class FastCycle:
    """One request on the fast path: headers known, body arriving, answer pending."""

    __slots__ = ("protocol", "ingress", "request", "keep_alive", "expect_continue", "body",
                 "size", "count", "started", "complete", "response_complete", "disconnected",
                 "message_event", "more_body")

    def __init__(self, protocol: FastProtocol, ingress: Ingress, path: str, keep_alive: bool,
                 expect_continue: bool) -> None:
        self.protocol, self.ingress = protocol, ingress
        self.request = Request(path)
        self.keep_alive, self.expect_continue = keep_alive, expect_continue
        self.body: list[bytes] = []
        self.size = self.count = 0
        self.started = self.complete = False
        self.response_complete = self.disconnected = False
        self.message_event = _NO_EVENT
        self.more_body = True

    def start(self, raw_headers: http.Headers) -> None:
        """Its turn on the connection: check what precedes the body, then wait for it."""
        self.started = True
        try:
            refused = self.ingress.open(self.request, "POST", raw_headers)
        except Exception as exc:
            self.answer(self.ingress.failed(self.request, exc))
            return
        if refused is not None:
            self.answer(refused)
            return
        self.size = self.request.size + sum(map(len, self.body))
        if self.size > self.ingress.limit:
            self.answer(self.ingress.failed(self.request, http.body_too_large(self.ingress.limit)))
        elif self.complete:
            self.finish()
        elif self.expect_continue and not self.protocol.transport.is_closing():
            self.protocol.transport.write(_CONTINUE)

    def feed(self, chunk: bytes) -> None:
        self.body.append(chunk)
        if self.started:
            self.size += len(chunk)
            if self.size > self.ingress.limit:
                self.body = []
                self.answer(self.ingress.failed(self.request, http.body_too_large(self.ingress.limit)))

    def end(self) -> None:
        self.complete = True
        self.more_body = False
        if self.started:
            self.finish()

    def finish(self) -> None:
        """The whole body is here: decode, submit every entry, answer when all are in."""
        body = b"".join(self.body) if len(self.body) != 1 else self.body[0]
        self.body = []
        futures: list[asyncio.Future[bytes]] = []
        try:
            entries = self.ingress.decode(self.request, body)
            appender, stream = self.ingress.appender, self.request.stream
            for entry in entries:  # a batch: every append joins the same round trip, in order
                futures.append(appender.submit(stream, entry))
            appender.submitted(stream)
        except Exception as exc:
            for future in futures:  # already on their way: at least once, as with ASGI
                future.add_done_callback(_consume)
            self.answer(self.ingress.failed(self.request, exc))
            return
        self.count = len(futures)
        if not futures:
            self.answer(self.ingress.accepted(self.request, 0))
        elif len(futures) == 1:
            futures[0].add_done_callback(self._appended)
        else:
            asyncio.gather(*futures).add_done_callback(self._appended)

    def _appended(self, future: asyncio.Future[Any]) -> None:
        exc = future.exception() if not future.cancelled() else asyncio.CancelledError()
        if exc is None:
            self.answer(self.ingress.accepted(self.request, self.count))
        else:
            self.answer(self.ingress.failed(self.request, exc))

    def answer(self, answer: http.Answer) -> None:
        if self.response_complete:
            return
        self.response_complete = True
        protocol = self.protocol
        if self.disconnected:
            return
        protocol.transport.write(encode(answer, protocol.server_state.default_headers,
                                        self.keep_alive))
        if not self.keep_alive:
            protocol.transport.close()
        protocol.on_response_complete()


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class FastProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with `pick`'s requests served by a `FastCycle`."""

    pick: Pick

    def on_headers_complete(self) -> None:
        parser = self.parser
        ingress = None
        if (parser.get_method() == b"POST" and self.limit_concurrency is None
                and not self.root_path and not parser.should_upgrade()):
            target = self.url.partition(b"?")[0]
            if target[:1] == b"/" and b"%" not in target and b"#" not in target:
                try:
                    path = target.decode("ascii")
                except UnicodeDecodeError:
                    path = ""
                if path:
                    ingress = type(self).pick(path, self.server, self.headers)
        if ingress is None:
            super().on_headers_complete()
            return
        keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
        cycle = FastCycle(self, ingress, path, keep_alive, self.expect_100_continue)
        existing = self.cycle
        self.cycle = cycle  # type: ignore[assignment]
        if existing is None or existing.response_complete:
            cycle.start(self.headers)
        else:  # pipelined behind an unanswered request: uvicorn's queue keeps the order
            self.flow.pause_reading()
            self.pipeline.appendleft((cycle, self.headers))  # type: ignore[arg-type]

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        if isinstance(cycle, FastCycle):
            cycle.start(app)  # queued with its headers in the app's place
        else:
            super()._start_asgi_task(cycle, app)

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if isinstance(cycle, FastCycle):
            if not cycle.response_complete:
                cycle.feed(body)
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if isinstance(cycle, FastCycle):
            if not cycle.response_complete:
                cycle.end()
        else:
            super().on_message_complete()


def protocol(pick: Pick) -> type[FastProtocol]:
    """A protocol class for `uvicorn.Config(http=...)` whose fast requests `pick` chooses."""
    return type("IngressProtocol", (FastProtocol,), {"pick": staticmethod(pick)})
