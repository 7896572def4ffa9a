"""T1 and T2: what per-event tracing costs on the hot path (issue #13's goal: P1 and P2
fall by at most 10% with tracing on).

Each round starts one `ripple up --trace-sample 0` and one with tracing on (the default,
every event traced), one after the other, and measures P1's ingress rate (T1) or P2's
drain (T2) against each. Rounds alternate which goes first, so a machine that slows down
during the row hurts both sides alike. The ratio is the median of the rounds' own ratios
(on / off within one round), which cancels a machine that is faster in one round than in
the next; the figure and baseline shown are the medians of each side. The CPU per event of
both is noted, since it moves much less than the rate on a shared machine.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench import delivery, harness, ingress, wrk

ROUNDS = 5
OFF = ("--trace-sample", "0")
ON = ("--trace-sample", "1")


def _ingress(binary: str | None, up_args: tuple[str, ...], duration: float) -> dict[str, Any]:
    with harness.running(lambda: harness.Ripple(harness.BROKER, up_args=up_args)) as (ripple,):
        ingress._load(binary, ripple.broker_url, min(2.0, duration))  # warm-up
        return ingress._timed(binary, ripple.broker_url, duration, ripple.cpu)


def _delivery(sink: harness.App, count: int, up_args: tuple[str, ...], duration: float) -> dict[str, Any]:
    with harness.running(lambda: harness.Ripple(delivery.manifest(sink.url), up_args=up_args)) as (ripple,):
        if not ripple.wait_triggers_ready(1, timeout=60):
            raise RuntimeError("trigger t1 did not become Ready: " + ripple.log_tail())
        delivery.drain(ripple, sink, 2_000, duration)  # warm-up
        return delivery.drain(ripple, sink, count, duration)


def _rounds(measure: Any, log: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    on: list[dict[str, Any]] = []
    off: list[dict[str, Any]] = []
    sides = {"off": lambda n: measure(OFF), "on": lambda n: measure(ON)}
    for n, measured in enumerate(harness.alternating(ROUNDS, sides)):
        off.append(measured["off"])
        on.append(measured["on"])
        for side, result in measured.items():
            log(f"round {n + 1}: tracing {side}: {result['rate']:,.0f}/s, "
                f"CPU per event {result.get('cpu_us_per_event') or 0:.0f} µs")
    return on, off


def _rates(rounds: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['rate']:,.0f}" for r in rounds)


def _row(bench_id: str, name: str, unit: str, on: list[dict[str, Any]], off: list[dict[str, Any]]) -> dict[str, Any]:
    figure = statistics.median(r["rate"] for r in on)
    base = statistics.median(r["rate"] for r in off)
    ratio = statistics.median(a["rate"] / b["rate"] for a, b in zip(on, off)) if all(b["rate"] for b in off) else None
    cpu_on = statistics.median(r["cpu_us_per_event"] or 0 for r in on)
    cpu_off = statistics.median(r["cpu_us_per_event"] or 0 for r in off)
    return {
        "id": bench_id, "name": name, "unit": unit,
        "figure": figure, "baseline": base, "ratio": ratio,
        "goal": ">= 0.9", "met": ratio is not None and ratio >= 0.9,
        "baseline_is": (f"the same row with `--trace-sample 0`, {ROUNDS} alternating rounds; "
                        "the median of the rounds' ratios"),
        "extra": (f"CPU per event {cpu_on:.0f} µs on vs {cpu_off:.0f} µs off ({cpu_off / cpu_on:.2f}); "
                  f"rates on {_rates(on)}, off {_rates(off)}") if cpu_on else "",
        "details": {"on": on, "off": off},
    }


def run_ingress(duration: float, log: Any = print) -> dict[str, Any]:
    binary = wrk.ensure(log)
    on, off = _rounds(lambda up_args: _ingress(binary, up_args, duration), log)
    return _row("T1", "ingress, tracing on vs off", "202/s", on, off)


def run_delivery(duration: float, log: Any = print) -> dict[str, Any]:
    with harness.running(lambda: harness.App("sink")) as (sink,):
        base = delivery.baseline(sink, duration)
        count = delivery.prefill_count(base["rate"], duration)
        on, off = _rounds(lambda up_args: _delivery(sink, count, up_args, duration), log)
    return _row("T2", "delivery, tracing on vs off", "ev/s", on, off)
