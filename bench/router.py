"""P7 router overhead: requests per second through the router to one warm replica, against
the same load sent straight to the replica's port, in the same run (issue #10, goal >= 0.5).

The replica is a function host (`ripple function serve`) whose event handler returns None
(202, no body). The router is `serving.routing.Router` on uvicorn with httptools, as
`ripple up` serves its port, with one route (`default/bench`, 100% to one revision) and the
replica as that revision's one ready endpoint; `python -m bench.router PORT HOST:PORT`
runs it. Load: wrk, one thread, 32 connections, the benchmark's binary-mode CloudEvent
(the Python load generator when wrk cannot be installed). Only 2xx answers count.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from bench import harness, wrk

CONNECTIONS = 32
FUNCTION = "def handler(event):\n    return None\n"
NAMESPACE, NAME, REVISION = "default", "bench", "bench-00001"


def serve(port: int, replica: str) -> None:
    """Run the router in front of `replica` (`host:port`) on `port`."""
    import uvicorn

    from serving import routing, traffic

    table = traffic.Table()
    table.set_route({"metadata": {"name": NAME, "namespace": NAMESPACE},
                     "status": {"traffic": [{"revisionName": REVISION, "percent": 100}]}})
    endpoints = routing.StaticEndpoints()
    key = routing.RevisionKey(NAMESPACE, REVISION)
    endpoints.set_revision(key)
    endpoints.set_ready(key, [replica])
    uvicorn.run(routing.Router(table, endpoints), host="127.0.0.1", port=port,
                http="httptools", loop="uvloop", lifespan="off", access_log=False,
                proxy_headers=False, server_header=False, log_level="warning", backlog=4096)


def _load(binary: str | None, url: str, duration: float) -> dict[str, Any]:
    if binary:
        return wrk.run(binary, url, connections=CONNECTIONS, threads=1, duration=duration)
    out = harness.loadgen("closed", url, "--connections", str(CONNECTIONS), "--procs", "2",
                          "--duration", str(duration), "--type", "bench.router",
                          timeout=duration + 60)
    out["rate"] = out["ok"] / out["seconds"] if out["seconds"] else 0.0
    return out


def _healthy(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
        return bool(answer.status == 200)


def _listening(port: int) -> bool:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def _measure(binary: str | None, url: str, duration: float, pids: list[int]) -> dict[str, Any]:
    _load(binary, url, min(2.0, duration))  # warm-up
    before = harness.cpu_seconds(pids)
    out = _load(binary, url, duration)
    out["server_cpu_seconds"] = harness.cpu_seconds(pids) - before
    return out


def _cpu_note(figure: dict[str, Any], base: dict[str, Any]) -> str:
    if not figure.get("ok") or not base.get("ok"):
        return ""
    through = 1e6 * figure["server_cpu_seconds"] / figure["ok"]
    straight = 1e6 * base["server_cpu_seconds"] / base["ok"]
    return f"server CPU per request {through:.0f} µs (router + replica) vs {straight:.0f} µs"


def run(duration: float, log: Any = print) -> dict[str, Any]:
    binary = wrk.ensure(log)
    generator = "wrk -t1 -c32" if binary else "bench.loadgen (aiohttp, 2 processes, 32 connections)"
    with tempfile.TemporaryDirectory(prefix="ripple-bench-router-") as tmp:
        source = Path(tmp) / "fn.py"
        source.write_text(FUNCTION)
        port = harness.free_port()
        replica = subprocess.Popen([harness.RIPPLE, "function", "serve", f"{source}:handler",
                                    "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        router: subprocess.Popen[bytes] | None = None
        try:
            if not harness.wait_until(lambda: _healthy(port), 30):
                raise RuntimeError("ripple function serve did not become healthy")
            log("P7: straight to the replica")
            base = _measure(binary, f"http://127.0.0.1:{port}/", duration, [replica.pid])
            router_port = harness.free_port()
            router = subprocess.Popen([sys.executable, "-m", "bench.router", str(router_port),
                                       f"127.0.0.1:{port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not harness.wait_until(lambda: _listening(router_port), 30):
                raise RuntimeError("the router did not start")
            log("P7: through the router")
            figure = _measure(binary, f"http://127.0.0.1:{router_port}/serving/{NAMESPACE}/{NAME}",
                              duration, [replica.pid, router.pid])
        finally:
            for proc in (router, replica):
                if proc is not None:
                    harness._stop(proc, 10)
    ratio = figure["rate"] / base["rate"] if base["rate"] else None
    return {
        "id": "P7", "name": "router overhead", "unit": "req/s",
        "figure": figure["rate"], "baseline": base["rate"], "ratio": ratio,
        "goal": ">= 0.5", "met": ratio is not None and ratio >= 0.5,
        "baseline_is": "the same warm function replica (ripple function serve) on its own port",
        "load": generator,
        "extra": _cpu_note(figure, base),
        "details": {"figure": figure, "baseline": base},
    }


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2])
