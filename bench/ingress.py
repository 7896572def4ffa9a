"""P1 ingress: durable 202s per second on one broker, against a bare ASGI app.

Both sides take the same closed-loop load from a separate process: wrk, one thread, 32
connections, binary-mode CloudEvents with 100 bytes of data. wrk -t1 was measured to reach
about 21k req/s against the bare app on this 2-core box (-t2 does worse: its second
thread takes the server's core); the Python fallback (`bench.loadgen`, aiohttp) reaches
only about 6k req/s with 1 to 4 processes, so it cannot tell a 0.5x Ripple from a 1.0x
one and is used only when wrk cannot be installed. Only 2xx answers count.
"""

from __future__ import annotations

from typing import Any

from bench import harness, wrk

CONNECTIONS = 32


def _load(binary: str | None, url: str, duration: float) -> dict[str, Any]:
    if binary:
        return wrk.run(binary, url, connections=CONNECTIONS, threads=1, duration=duration)
    out = harness.loadgen("closed", url, "--connections", str(CONNECTIONS), "--procs", "2",
                          "--duration", str(duration), "--type", "bench.ingress",
                          timeout=duration + 60)
    out["rate"] = out["ok"] / out["seconds"] if out["seconds"] else 0.0
    return out


def run(duration: float, log: Any = print) -> dict[str, Any]:
    binary = wrk.ensure(log)
    generator = "wrk -t1 -c32" if binary else "bench.loadgen (aiohttp, 2 processes, 32 connections)"
    with harness.running(lambda: harness.App("bare")) as (bare,):
        base = _load(binary, bare.url, duration)
    with harness.running(lambda: harness.Ripple(harness.BROKER)) as (ripple,):
        _load(binary, ripple.broker_url, min(2.0, duration))  # warm-up
        figure = _load(binary, ripple.broker_url, duration)
    return {
        "id": "P1", "name": "ingress", "unit": "202/s",
        "figure": figure["rate"], "baseline": base["rate"],
        "ratio": figure["rate"] / base["rate"] if base["rate"] else None,
        "goal": ">= 0.5", "met": bool(base["rate"]) and figure["rate"] / base["rate"] >= 0.5,
        "baseline_is": "bare raw-ASGI app on uvicorn+httptools answering 202",
        "load": generator,
        "details": {"figure": figure, "baseline": base},
    }
