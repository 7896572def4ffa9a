"""C1 control plane: 1,000 Triggers applied in one file with `ripple apply -f`, seconds
until all are Ready, against 1 Trigger applied the same way in the same run.

Both run on a `ripple up` whose Broker is already Ready, so the figure is the control
plane's: admission and the store writes of the apply, the informer, the work queue, the
reconcilers and their status writes, and the data plane applying the Triggers (Ready waits
for it). The apply's own duration is reported apart. Issue #9's goal: within 3 s.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from bench import harness

TRIGGERS = 1000
GOAL_SECONDS = 3.0


def _apply_and_wait(ripple: harness.Ripple, path: Path, count: int, already: int) -> dict[str, float]:
    started = time.monotonic()
    subprocess.run([harness.RIPPLE, "--server", ripple.url, "apply", "-f", str(path)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    applied = time.monotonic() - started
    harness.wait_until(lambda: ripple.ready_triggers() >= already + count, timeout=120, interval=0.02)
    return {"applied_s": round(applied, 2), "ready_s": round(time.monotonic() - started, 2)}


def run(duration: float = 0.0, log: Any = print) -> dict[str, Any]:
    row: dict[str, Any] = {"id": "C1", "name": "1,000 Triggers to Ready", "unit": "s",
                           "goal": f"<= {GOAL_SECONDS:.0f} s", "baseline_is": "1 Trigger, same run"}
    with harness.running(lambda: harness.App("sink")) as (sink,):
        with harness.running(lambda: harness.Ripple(harness.BROKER)) as (ripple,):
            harness.wait_until(lambda: _broker_ready(ripple), timeout=30)
            one = ripple.tmp / "one.yaml"
            one.write_text(harness.trigger("single", sink.url, type_="bench.single"))
            baseline = _apply_and_wait(ripple, one, 1, 0)
            many = ripple.tmp / "many.yaml"
            many.write_text("".join(harness.trigger(f"t-{i}", sink.url, type_=f"bench.t{i}")
                                    for i in range(TRIGGERS)))
            figure = _apply_and_wait(ripple, many, TRIGGERS, 1)
    row.update(figure=figure["ready_s"], baseline=baseline["ready_s"],
               ratio=figure["ready_s"] / baseline["ready_s"] if baseline["ready_s"] else None,
               met=figure["ready_s"] <= GOAL_SECONDS,
               extra=f"apply itself took {figure['applied_s']} s; 1 Trigger: {baseline['ready_s']} s",
               details={"figure": figure, "baseline": baseline})
    log(f"C1: {TRIGGERS} Triggers Ready after {figure['ready_s']} s (apply {figure['applied_s']} s)")
    return row


def _broker_ready(ripple: harness.Ripple) -> bool:
    broker = harness.get_json(ripple.url + "/apis/eventing.knative.dev/v1/namespaces/default/brokers/default",
                              token=ripple.token)
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (broker.get("status") or {}).get("conditions") or [])
