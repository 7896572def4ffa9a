"""P4 fan-out: P2 with 1,000 Triggers that never match plus the 1 that does, against P2
with the 1 Trigger alone.

Both `ripple up`s run side by side (each idle while the other drains), and the row is
`ROUNDS` alternating rounds of a drain of each; the ratio is the median of the rounds' own
ratios, as T1 and T2 do. P2's figure from earlier in the run was the baseline before: the
machine's speed drifts over the minutes between (P4 read 0.62 and 1.03 on one day).

Half of the non-matching Triggers use an exact filter (`filter.attributes.type`), half a
prefix filter (`filters: [{prefix: {type: ...}}]`); all point at the same sink, so any
wrong match would show as extra arrivals. All 1,001 are applied with `ripple up -f` and
must be Ready within `READY_TIMEOUT` before the drain starts (the time that takes is
reported, not scored). Since the broker ingress routes each event itself (issue #14), the
prefill writes the log and t1's queue as that ingress does, so this row measures what the
1,000 idle Triggers cost the delivery; matching each event against them is the ingress's
work now (P1, P3), and with `ripple up --no-ingress-routing` the fan-out's again. When they are not, the row says why, with Ripple's most frequent
warnings, and has no figure.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import delivery, events, harness

NON_MATCHING = 1000
READY_TIMEOUT = 180.0
ROUNDS = 3


def manifest(sink_url: str, non_matching: int = NON_MATCHING) -> str:
    parts = [harness.BROKER]
    for i in range(non_matching // 2):
        parts.append(harness.trigger(f"exact-{i}", sink_url, type_=f"bench.nomatch.{i}"))
        parts.append(harness.trigger(f"prefix-{i}", sink_url, prefix=f"bench.nomatch.p{i}."))
    parts.append(harness.trigger("t1", sink_url, type_=events.MATCH))
    return "".join(parts)


def run(duration: float, p2: dict[str, Any] | None = None, log: Any = print) -> dict[str, Any]:
    """`p2`: P2's row from this run, for the size of the prefill (its raw POST loop's rate)."""
    row: dict[str, Any] = {
        "id": "P4", "name": "fan-out", "unit": "ev/s", "figure": None, "baseline": None,
        "ratio": None, "goal": ">= 0.9", "met": False,
        "baseline_is": f"1 Trigger alone, {ROUNDS} alternating rounds; the median of the rounds' ratios",
    }
    with harness.running(lambda: harness.App("sink")) as (sink,):
        loop_rate = (p2["details"]["baseline"]["rate"] if p2 and p2.get("details")
                     else delivery.baseline(sink, duration)["rate"])
        count = delivery.prefill_count(loop_rate, duration)
        with harness.running(lambda: harness.Ripple(delivery.manifest(sink.url))) as (one,):
            if not one.wait_triggers_ready(1, timeout=60):
                raise RuntimeError("trigger t1 did not become Ready: " + one.log_tail())
            started = time.monotonic()
            with harness.running(lambda: harness.Ripple(manifest(sink.url))) as (many,):
                if not many.wait_triggers_ready(NON_MATCHING + 1, timeout=READY_TIMEOUT):
                    warnings = many.log_errors()
                    top = f"; ripple logged {warnings[0][1]}x '{warnings[0][0]}'" if warnings else ""
                    row["extra"] = (f"not measured: {_ready_or_none(many)} of {NON_MATCHING + 1} "
                                    f"triggers Ready after {READY_TIMEOUT:.0f} s{top}")
                    row["details"] = {"ripple_warnings": warnings}
                    return row
                ready_after = time.monotonic() - started
                for ripple in (one, many):
                    delivery.drain(ripple, sink, 2_000, duration)  # warm-up
                alone: list[dict[str, Any]] = []
                fanned: list[dict[str, Any]] = []
                sides = {"one": lambda n: delivery.drain(one, sink, count, duration),
                         "many": lambda n: delivery.drain(many, sink, count, duration)}
                for n, measured in enumerate(harness.alternating(ROUNDS, sides)):
                    alone.append(measured["one"])
                    fanned.append(measured["many"])
                    log(f"round {n + 1}: 1,001 Triggers {fanned[-1]['rate']:,.0f}/s, "
                        f"1 Trigger {alone[-1]['rate']:,.0f}/s")
                warnings = many.log_errors()
    ratios = [f["rate"] / a["rate"] for f, a in zip(fanned, alone) if a["rate"]]
    ratio = statistics.median(ratios) if ratios else None
    cpu = statistics.median(f.get("cpu_us_per_event") or 0 for f in fanned)
    base_cpu = statistics.median(a.get("cpu_us_per_event") or 0 for a in alone)
    extra = f"{NON_MATCHING + 1} triggers Ready after {ready_after:.0f} s"
    if cpu and base_cpu:
        extra += f"; CPU per event {cpu:.0f} µs vs {base_cpu:.0f} µs ({base_cpu / cpu:.2f})"
    extra += f"; the rounds' ratios {', '.join(f'{r:.2f}' for r in ratios)}"
    row.update(figure=statistics.median(f["rate"] for f in fanned),
               baseline=statistics.median(a["rate"] for a in alone),
               ratio=ratio, met=ratio is not None and ratio >= 0.9, extra=extra,
               details={"figure": fanned, "baseline": alone, "ripple_warnings": warnings})
    return row


def _ready_or_none(ripple: harness.Ripple) -> str:
    try:
        return str(ripple.ready_triggers())
    except Exception as exc:  # the API itself may be failing: say so
        return f"? (the API answers {getattr(exc, 'code', type(exc).__name__)})"
