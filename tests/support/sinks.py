"""A recording HTTP sink for integration and e2e tests: a real server on loopback.

Runs a stdlib ThreadingHTTPServer in a thread. Every POST is recorded (headers lower-cased,
body). `behaviour` decides the answer: a status, optional body and headers, or a reply
event; tests swap it to model flaky, failing or replying subscribers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def ce(self) -> dict[str, str]:
        return {k[3:]: v for k, v in self.headers.items() if k.startswith("ce-")}


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Behaviour = Callable[[Received, int], Answer]
"""(request, how many requests came before it) -> answer."""


class RecordingSink:
    def __init__(self, behaviour: Behaviour | None = None, *, tls: Any = None) -> None:
        """`tls`: a server `ssl.SSLContext`, to be an `https://` subscriber."""
        self.behaviour: Behaviour = behaviour or (lambda _r, _n: Answer(200))
        self.scheme = "https" if tls is not None else "http"
        self.received: list[Received] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with sink._lock:
                    count = len(sink.received)
                    sink.received.append(request)
                answer = sink.behaviour(request, count)
                self.send_response(answer.status)
                for k, v in answer.headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 512  # the default 5 refuses bursts of connections

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:  # the handshake happens in each request's own thread
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=False)
        self.server.handle_error = lambda *_: None  # type: ignore[method-assign]  # resets are expected when ripple is killed
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "RecordingSink":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[str]:
        with self._lock:
            return [r.ce.get("id", "") for r in self.received]

    async def until(self, count: int, timeout: float = 20.0) -> list[Received]:
        """`wait_for` for async tests: yields to the event loop while it waits."""
        import asyncio

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            await asyncio.sleep(0.02)
        with self._lock:
            raise AssertionError(f"sink got {len(self.received)} requests, wanted {count}")

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self._lock:
            raise AssertionError(f"sink got {len(self.received)} requests, wanted {count}")
