"""A command container for the revision runtime's tests: a tiny HTTP server on `$PORT`.

`python tests/support/replica_server.py` (stdlib only, so it starts fast) answers:
- `GET /` 200 with `{"pid", "cwd", "env": {K_*, PORT, GREETING}}`;
- `GET /ready` 200 once the file named by `$READY_FILE` exists (503 before), counting each
  probe it sees by appending a line to `$PROBES_FILE` when set, so a test can wait until
  probes were refused before it checks that the replica is not ready;
- `GET /exit?code=N` answers, then exits with status N (a crash, or 75: "recycle me").
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

ENV_SHOWN = ("K_REVISION", "K_CONFIGURATION", "K_SERVICE", "PORT", "GREETING",
             "RIPPLE_TIMEOUT_SECONDS")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        url = urlsplit(self.path)
        if url.path == "/ready":
            if os.environ.get("PROBES_FILE"):
                with open(os.environ["PROBES_FILE"], "a") as probes:
                    probes.write("probe\n")
            ready = os.path.exists(os.environ.get("READY_FILE", ""))
            self._answer(200 if ready else 503, {"ready": ready})
        elif url.path == "/exit":
            code = int(parse_qs(url.query).get("code", ["1"])[0])
            self._answer(200, {"exiting": code})
            threading.Timer(0.01, os._exit, (code,)).start()
        else:
            self._answer(200, {"pid": os.getpid(), "cwd": os.getcwd(),
                               "env": {k: os.environ[k] for k in ENV_SHOWN if k in os.environ}})

    def _answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    server = HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
