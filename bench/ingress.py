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


def cpu_note(figure: dict[str, Any], base: dict[str, Any]) -> str:
    if not figure.get("cpu_us_per_event") or not base.get("cpu_us_per_event"):
        return ""
    return (f"CPU per event {figure['cpu_us_per_event']:.0f} µs vs "
            f"{base['cpu_us_per_event']:.0f} µs "
            f"({base['cpu_us_per_event'] / figure['cpu_us_per_event']:.2f})")


def _timed(binary: str | None, url: str, duration: float, cpu: Any) -> dict[str, Any]:
    """`_load`, plus the server's CPU time per 2xx answer (µs): unlike the rate, it hardly
    moves when other processes share the cores."""
    before = cpu()
    out = _load(binary, url, duration)
    out["server_cpu_seconds"] = cpu() - before
    out["cpu_us_per_event"] = 1e6 * out["server_cpu_seconds"] / out["ok"] if out["ok"] else None
    return out


def run(duration: float, log: Any = print, workers: int = 1) -> dict[str, Any]:
    binary = wrk.ensure(log)
    generator = "wrk -t1 -c32" if binary else "bench.loadgen (aiohttp, 2 processes, 32 connections)"
    with harness.running(lambda: harness.App("bare")) as (bare,):
        base = _timed(binary, bare.url, duration, bare.cpu)
    with harness.running(lambda: harness.Ripple(harness.BROKER, workers)) as (ripple,):
        _load(binary, ripple.broker_url, min(2.0, duration))  # warm-up
        figure = _timed(binary, ripple.broker_url, duration, ripple.cpu)
    return {
        "id": "P1" if workers == 1 else f"P1w{workers}",
        "name": "ingress" if workers == 1 else f"ingress, {workers} workers", "unit": "202/s",
        "figure": figure["rate"], "baseline": base["rate"],
        "ratio": figure["rate"] / base["rate"] if base["rate"] else None,
        "goal": ">= 0.5", "met": bool(base["rate"]) and figure["rate"] / base["rate"] >= 0.5,
        "baseline_is": "bare raw-ASGI app on uvicorn+httptools answering 202",
        "load": generator,
        "extra": cpu_note(figure, base),
        "details": {"figure": figure, "baseline": base},
    }
