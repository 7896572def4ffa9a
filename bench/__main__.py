"""`python -m bench [P1 P2 P3 P4 P5 P6 P7 P1w2 P2w2] [--duration S] [--no-docs]`: run the
benchmarks of issue #5 and print, for each, its figure, its baseline from the same run, the
ratio and the machine. `make bench` runs them all (about 5 minutes on 2 cores). P1w2 and
P2w2 are P1 and P2 against `ripple up --workers 2`.

Benchmarks print numbers and never fail: a benchmark that cannot run prints why, and the
exit status is 0. Results go to `bench/results.json` (gitignored) and the results section
of `docs/benchmarks.md`.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (coldstart, console, delivery, fanout, ingress, latency, machine, memory, readiness,
                   report, router, tracing)

ROOT = Path(__file__).resolve().parent.parent
NAMES = {"P1": "ingress", "P1W2": "ingress, 2 workers", "P2": "delivery",
         "P2W2": "delivery, 2 workers", "P3": "latency",
         "P3W2": "latency, 2 workers", "P3AT5K": "latency, 5,000 ev/s", "P4": "fan-out", "P5": "cold start",
         "P6": "memory", "P7": "router overhead",
         "C1": "1,000 Triggers to Ready", "C2": "console pages, 1,000 Triggers",
         "T1": "ingress, tracing on vs off", "T2": "delivery, tracing on vs off"}


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _safely(bench_id: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.monotonic()
    _log(f"{bench_id} {NAMES[bench_id]}: running")
    try:
        row = run()
    except Exception as exc:
        _log(traceback.format_exc())
        row = {"id": bench_id.replace("W", "w"), "name": NAMES[bench_id], "figure": None, "baseline": None,
               "ratio": None, "met": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    row["seconds"] = round(time.monotonic() - started, 1)
    return row


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", metavar="ID", help="P1 P1w2 P2 P2w2 P3 P3w2 P3at5k P4 P5 P6 P7 C1 C2 T1 T2 (default: all)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--no-docs", action="store_true", help="leave docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    ids = [i.upper() for i in args.ids] or list(NAMES)
    unknown = [i for i in ids if i not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    info = machine.describe()
    line = machine.one_line(info)
    _log(f"machine: {line}")
    rows: list[dict[str, Any]] = []
    p2: dict[str, Any] | None = None  # P4 sizes its prefill by P2's raw POST loop, when P2 ran
    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "P1": lambda: ingress.run(args.duration, _log),
        "P2": lambda: delivery.run(args.duration, _log),
        "P3": lambda: latency.run(args.duration, _log),
        "P3W2": lambda: latency.run(args.duration, _log, workers=2),
        "P3AT5K": lambda: latency.run(args.duration, _log, rate=5000.0),
        "P4": lambda: fanout.run(args.duration, p2, _log),
        "P5": lambda: coldstart.run(args.duration, _log),
        "P6": lambda: memory.run(args.duration, _log),
        "P7": lambda: router.run(args.duration, _log),
        "P1W2": lambda: ingress.run(args.duration, _log, workers=2),
        "P2W2": lambda: delivery.run(args.duration, _log, workers=2),
        "C1": lambda: readiness.run(args.duration, _log),
        "C2": lambda: console.run(args.duration, _log),
        "T1": lambda: tracing.run_ingress(args.duration, _log),
        "T2": lambda: tracing.run_delivery(args.duration, _log),
    }
    for bench_id in ids:
        row = _safely(bench_id, runners[bench_id])
        if bench_id == "P2":
            p2 = row
        row["machine"] = line
        rows.append(row)
        print(report.console([row], line), flush=True)
    print("\n" + report.console(rows, line), flush=True)
    load = str(next((r["load"] for r in rows if r.get("load")), "wrk -t1 -c32"))
    when = report.now()
    report.write_json(ROOT / "bench" / "results.json",
                      {"when": when, "machine": info, "duration": args.duration, "rows": rows})
    if not args.no_docs:
        report.write_docs(ROOT / "docs" / "benchmarks.md", report.markdown(rows, line, when, load))
    _log("wrote bench/results.json" + ("" if args.no_docs else " and docs/benchmarks.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
