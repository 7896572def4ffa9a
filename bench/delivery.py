"""P2 delivery: events per second from a broker through one pass-through Trigger to a
sink, against a raw aiohttp POST loop to the same sink.

The baseline is `bench.loadgen closed` with 64 connections (Ripple's `max_in_flight` per
trigger) posting the benchmark event to the sink for `duration` seconds. For Ripple, the
broker is filled with N events written exactly as the ingress writes them (Ripple's own
codec and, as its ingress routes each event, its own append script: the log and t1's
queue; in one pipelined burst straight into Valkey), so the measurement is the delivery
alone (and the fan-out's copy, with `ripple up --no-ingress-routing`), not the ingress:
N is about 0.5 x `duration` x the baseline's rate. Both rates are counted at the sink: events received / (last arrival - first
arrival). The drain is bounded by 3 x `duration`.

`drain()` is shared with P4 (`bench.fanout`).
"""

from __future__ import annotations

import time
from typing import Any

from bench import events, harness, ingress

CONNECTIONS = 64


def sink_rate(stats: dict[str, Any]) -> float:
    span = (stats["last_ns"] - stats["first_ns"]) / 1e9
    return stats["count"] / span if span > 0 else 0.0


def baseline(sink: harness.App, duration: float) -> dict[str, Any]:
    sink.reset()
    out = harness.loadgen("closed", sink.url, "--connections", str(CONNECTIONS),
                          "--duration", str(duration), "--count", "2000000", timeout=duration + 60)
    stats = sink.stats()
    return {"rate": sink_rate(stats), "received": stats["count"], "loader": out,
            "cpu_us_per_event": _per_event(out["cpu_seconds"], stats["count"])}


def _per_event(cpu_seconds: float, count: int) -> float | None:
    return 1e6 * cpu_seconds / count if count else None


def prefill_count(baseline_rate: float, duration: float) -> int:
    return max(2_000, min(200_000, int(baseline_rate * duration * 0.5)))


def drain(ripple: harness.Ripple, sink: harness.App, count: int, duration: float) -> dict[str, Any]:
    """Write `count` events matching Trigger t1 (and no other) into the broker as its
    ingress does and time their arrival at the sink."""
    records = harness.broker_records(count)
    sink.reset()
    cpu = ripple.cpu()
    started = time.monotonic()
    harness.write_log(ripple.redis_url, records, routed_to=["t1"] if ripple.routes_brokers else None)
    written = time.monotonic() - started
    harness.wait_until(lambda: sink.count() >= count, timeout=3 * duration, interval=0.25)
    cpu = ripple.cpu() - cpu
    stats = sink.stats()
    return {"rate": sink_rate(stats), "received": stats["count"], "written": count,
            "cpu_us_per_event": _per_event(cpu, stats["count"]),
            "write_seconds": round(written, 3),
            "seconds": round((stats["last_ns"] - stats["first_ns"]) / 1e9, 3)}


def manifest(sink_url: str) -> str:
    return harness.BROKER + harness.trigger("t1", sink_url, type_=events.MATCH)


def run(duration: float, log: Any = print, workers: int = 1) -> dict[str, Any]:
    with harness.running(lambda: harness.App("sink")) as (sink,):
        base = baseline(sink, duration)
        with harness.running(lambda: harness.Ripple(manifest(sink.url), workers)) as (ripple,):
            if not ripple.wait_triggers_ready(1, timeout=60):
                raise RuntimeError("trigger t1 did not become Ready: " + ripple.log_tail())
            drain(ripple, sink, 2_000, duration)  # warm-up
            figure = drain(ripple, sink, prefill_count(base["rate"], duration), duration)
    ratio = figure["rate"] / base["rate"] if base["rate"] else None
    return {
        "id": "P2" if workers == 1 else f"P2w{workers}",
        "name": "delivery" if workers == 1 else f"delivery, {workers} workers", "unit": "ev/s",
        "figure": figure["rate"], "baseline": base["rate"], "ratio": ratio,
        "goal": ">= 0.7", "met": ratio is not None and ratio >= 0.7,
        "baseline_is": f"raw aiohttp POST loop, {CONNECTIONS} connections, to the same sink",
        "extra": ingress.cpu_note(figure, base),
        "details": {"figure": figure, "baseline": base},
    }
