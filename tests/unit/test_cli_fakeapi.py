"""A tiny Kubernetes-shaped API server in a thread, recording requests, for the CLI tests.

Used by `test_cli_http.py` and `test_cli_http_events.py` (it holds no tests itself). The
fake keeps objects in a dict, answers Status errors, defaults a Broker's class (so
`apply` sees server-side defaults), serves a broker ingress that answers 202, and
`/tail/` streams, closed or chunked and held open.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ripple.cli import main

CLASS = "eventing.knative.dev/broker.class"
DISCOVERY = [
    {
        "group": "eventing.knative.dev",
        "version": "v1",
        "kind": "Broker",
        "plural": "brokers",
        "singular": "broker",
        "shortNames": [],
        "namespaced": True,
    },
    {
        "group": "eventing.knative.dev",
        "version": "v1",
        "kind": "Trigger",
        "plural": "triggers",
        "singular": "trigger",
        "shortNames": [],
        "namespaced": True,
    },
    {
        "group": "serving.knative.dev",
        "version": "v1",
        "kind": "Service",
        "plural": "services",
        "singular": "service",
        "shortNames": ["ksvc", "kservice"],
        "namespaced": True,
    },
]
PLURALS = {d["plural"]: d for d in DISCOVERY}
EVENTS = [
    {"specversion": "1.0", "id": "e1", "type": "dev.x", "source": "/s", "data": {"n": 1}},
    {"specversion": "1.0", "id": "e2", "type": "dev.y", "source": "/s", "data": "hi"},
]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class State:
    objects: dict[str, dict] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    ingress_status: int = 202
    first_read: threading.Event = field(default_factory=threading.Event)
    version: int = 0


def status(code: int, message: str, causes: list[dict] | None = None) -> dict:
    return {"kind": "Status", "code": code, "message": message, "details": {"causes": causes or []}}


class Handler(BaseHTTPRequestHandler):
    state: State

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _answer(self, code: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.state.seen.append(Seen(self.command, self.path, headers, body))
        parts = self.path.strip("/").split("/")
        if self.path == "/apis":
            self._answer(200, {"resources": DISCOVERY})
        elif self.path == "/default/default" and self.command == "POST":
            code = self.state.ingress_status
            self._answer(code, {} if code == 202 else status(code, "bad event: no ce-type"))
        elif parts[0] == "tail" and parts[1:] == ["chunked"]:
            self._chunked()
        elif parts[0] == "tail":
            self._tail(parts)
        elif parts[:1] == ["apis"] and len(parts) in (6, 7) and parts[5] in PLURALS:
            self._resource(parts, json.loads(body) if body else None)
        else:
            self._answer(404, status(404, f"no route {self.path}"))

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def _tail(self, parts: list[str]) -> None:
        if parts[1:] != ["default", "default"]:
            self._answer(404, {"code": 404, "message": f"broker {'/'.join(parts[1:])} not found"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        for event in EVENTS:
            self.wfile.write(json.dumps(event).encode() + b"\n\n")
            self.wfile.flush()

    def _chunked(self) -> None:
        """One line, then silence until the test has read it: a live stream, as uvicorn sends."""
        self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in (b'{"id": "live"}\n', b'{"id": "later"}\n'):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()
            self.state.first_read.wait(5)
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def _resource(self, parts: list[str], obj: dict | None) -> None:
        plural, ns = parts[5], parts[4]
        kind = PLURALS[plural]["kind"]
        if len(parts) == 6 and self.command == "GET":
            prefix = self.path + "/"
            items = [o for p, o in self.state.objects.items() if p.startswith(prefix)]
            return self._answer(200, {"items": items})
        if len(parts) == 6 and self.command == "POST":
            assert obj is not None
            path = f"{self.path}/{obj['metadata']['name']}"
            if path in self.state.objects:
                return self._answer(
                    409, status(409, f'{plural} "{obj["metadata"]["name"]}" already exists')
                )
            if kind == "Trigger" and not obj.get("spec", {}).get("broker"):
                return self._answer(
                    422,
                    status(
                        422,
                        f'Trigger "{obj["metadata"]["name"]}" is invalid',
                        [{"field": "spec.broker", "message": "required"}],
                    ),
                )
            if kind == "Broker":
                obj["metadata"].setdefault("annotations", {}).setdefault(
                    CLASS, "MTChannelBasedBroker"
                )
                obj["status"] = {
                    "address": {
                        "url": f"http://127.0.0.1:{self.server.server_port}/{ns}/"
                        f"{obj['metadata']['name']}"
                    },
                    "conditions": [{"type": "Ready", "status": "True"}],
                }
            return self._answer(201, self._store(path, obj))
        current = self.state.objects.get(self.path)
        if current is None:
            return self._answer(404, status(404, f'{plural} "{parts[6]}" not found'))
        if self.command == "GET":
            return self._answer(200, current)
        if self.command == "DELETE":
            del self.state.objects[self.path]
            return self._answer(200, status(200, "deleted"))
        assert obj is not None and self.command == "PUT"
        if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            return self._answer(409, status(409, "the object has been modified"))
        self._answer(200, self._store(self.path, obj))

    def _store(self, path: str, obj: dict) -> dict:
        self.state.version += 1
        obj["metadata"]["resourceVersion"] = str(self.state.version)
        obj["metadata"].setdefault("creationTimestamp", "2024-05-01T00:00:00Z")
        self.state.objects[path] = obj
        return obj


@pytest.fixture
def api() -> Iterator[tuple[str, State]]:
    state = State()
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", state
    server.shutdown()
    server.server_close()


def ripple(url: str, *argv: str) -> int:
    return main.main(["--server", url, *argv])


MANIFEST = """\
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: default
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: t1
  namespace: ns1
spec:
  broker: default
  filter:
    attributes:
      type: {type}
  subscriber:
    uri: http://example.com/
"""
