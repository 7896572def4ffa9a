"""P4 fan-out: P2 with 1,000 Triggers that never match plus the 1 that does, against P2
with the 1 Trigger alone (its figure from the same run).

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

import time
from typing import Any

from bench import delivery, events, harness

NON_MATCHING = 1000
READY_TIMEOUT = 180.0


def manifest(sink_url: str, non_matching: int = NON_MATCHING) -> str:
    parts = [harness.BROKER]
    for i in range(non_matching // 2):
        parts.append(harness.trigger(f"exact-{i}", sink_url, type_=f"bench.nomatch.{i}"))
        parts.append(harness.trigger(f"prefix-{i}", sink_url, prefix=f"bench.nomatch.p{i}."))
    parts.append(harness.trigger("t1", sink_url, type_=events.MATCH))
    return "".join(parts)


def run(duration: float, p2: dict[str, Any] | None = None, log: Any = print) -> dict[str, Any]:
    if p2 is None or not p2.get("figure"):
        p2 = delivery.run(duration, log)
    count = delivery.prefill_count(p2["details"]["baseline"]["rate"], duration)
    row: dict[str, Any] = {
        "id": "P4", "name": "fan-out", "unit": "ev/s", "figure": None, "baseline": p2["figure"],
        "ratio": None, "goal": ">= 0.9", "met": False,
        "baseline_is": "P2 (1 trigger) from this run",
    }
    with harness.running(lambda: harness.App("sink")) as (sink,):
        started = time.monotonic()
        with harness.running(lambda: harness.Ripple(manifest(sink.url))) as (ripple,):
            if not ripple.wait_triggers_ready(NON_MATCHING + 1, timeout=READY_TIMEOUT):
                warnings = ripple.log_errors()
                top = f"; ripple logged {warnings[0][1]}x '{warnings[0][0]}'" if warnings else ""
                row["extra"] = (f"not measured: {_ready_or_none(ripple)} of {NON_MATCHING + 1} "
                                f"triggers Ready after {READY_TIMEOUT:.0f} s{top}")
                row["details"] = {"ripple_warnings": warnings}
                return row
            ready_after = time.monotonic() - started
            delivery.drain(ripple, sink, 2_000, duration)  # warm-up
            figure = delivery.drain(ripple, sink, count, duration)
            figure["ready_seconds"] = round(ready_after, 1)
            warnings = ripple.log_errors()
    ratio = figure["rate"] / p2["figure"] if p2["figure"] else None
    extra = f"{NON_MATCHING + 1} triggers Ready after {ready_after:.0f} s"
    cpu, base_cpu = figure.get("cpu_us_per_event"), p2["details"]["figure"].get("cpu_us_per_event")
    if cpu and base_cpu:
        extra += f"; CPU per event {cpu:.0f} µs vs {base_cpu:.0f} µs ({base_cpu / cpu:.2f})"
    row.update(figure=figure["rate"], ratio=ratio, met=ratio is not None and ratio >= 0.9,
               extra=extra,
               details={"figure": figure, "ripple_warnings": warnings})
    return row


def _ready_or_none(ripple: harness.Ripple) -> str:
    try:
        return str(ripple.ready_triggers())
    except Exception as exc:  # the API itself may be failing: say so
        return f"? (the API answers {getattr(exc, 'code', type(exc).__name__)})"
