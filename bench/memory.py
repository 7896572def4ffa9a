"""P6 memory: peak RSS of the Ripple processes while 100k events back up behind a stalled
subscriber, against their idle RSS in the same setup just before the load.

The subscriber (`python -m bench.apps stall`) accepts connections and reads, but never
answers. The Trigger's delivery times out after 1 s and retries twice, 1 s apart, so the
dispatcher keeps its `max_in_flight` slots busy with attempts that fail, and the schedule
and queue grow in Valkey. The 100k events go in through the broker ingress
(`bench.loadgen closed`, 32 connections), then the backlog is held for `duration`
seconds more. Throughout, a thread samples VmRSS every 0.1 s: the sum over `ripple up` and
its workers (the figure), and the embedded Valkey on its own (reported, not scored: the
backlog is meant to live there).

The idle figure is the median of 3 s of samples taken after every Trigger is Ready and
the process has settled, before the first event.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

from bench import harness

EVENTS = 100_000
CONNECTIONS = 32
IDLE_SECONDS = 3.0
MIB = 1024 * 1024


def manifest(stall_url: str) -> str:
    return harness.BROKER + (
        "---\napiVersion: eventing.knative.dev/v1\nkind: Trigger\n"
        "metadata: {name: t1, namespace: default}\n"
        "spec:\n  broker: default\n"
        f"  subscriber: {{uri: \"{stall_url}\"}}\n"
        "  delivery: {timeout: PT1S, retry: 2, backoffPolicy: linear, backoffDelay: PT1S}\n"
    )


class Sampler(threading.Thread):
    """VmRSS of the Ripple processes (summed) and of Valkey, every `interval` seconds."""

    def __init__(self, ripple: harness.Ripple, interval: float = 0.1) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.ripple, self.interval = ripple, interval
        self.samples: list[tuple[float, int, int]] = []  # (t, ripple bytes, valkey bytes)
        self.per_process: dict[int, int] = {}  # peak per ripple pid
        self._stop_event = threading.Event()

    def run(self) -> None:
        pids: list[int] = []
        refreshed = 0.0
        valkey = self.ripple.valkey_pid
        while not self._stop_event.is_set():
            now = time.monotonic()
            if now - refreshed > 2.0:  # workers could restart; do not rescan /proc every tick
                pids, refreshed = self.ripple.pids(), now
            sizes = {pid: harness.rss_bytes(pid) for pid in pids}
            for pid, size in sizes.items():
                self.per_process[pid] = max(self.per_process.get(pid, 0), size)
            self.samples.append((now, sum(sizes.values()),
                                 harness.rss_bytes(valkey) if valkey else 0))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)

    def window(self, start: float, end: float = float("inf")) -> list[tuple[float, int, int]]:
        return [s for s in self.samples if start <= s[0] <= end]


def backlog(ripple: harness.Ripple) -> dict[str, int]:
    """Where the events are: the broker log, the trigger's queue, the retry schedule."""
    import redis

    from ripple import keys

    client = redis.Redis.from_url(ripple.redis_url)
    try:
        return {"log": int(client.xlen(keys.broker_log("default", "default"))),
                "queue": int(client.xlen(keys.broker_queue("default", "default", "t1"))),
                "schedule": int(client.zcard(keys.broker_schedule("default", "default")))}
    finally:
        client.close()


def run(duration: float, log: Any = print, workers: int = 1) -> dict[str, Any]:
    with harness.running(lambda: harness.App("stall")) as (stall,), \
            harness.running(lambda: harness.Ripple(manifest(stall.url), workers)) as (ripple,):
        if not ripple.wait_triggers_ready(1, timeout=60):
            raise RuntimeError("trigger t1 did not become Ready: " + ripple.log_tail())
        time.sleep(2.0)  # let start-up allocations settle
        sampler = Sampler(ripple)
        sampler.start()
        try:
            time.sleep(IDLE_SECONDS)
            loaded_at = time.monotonic()
            sent = harness.loadgen("closed", ripple.broker_url, "--connections",
                                   str(CONNECTIONS), "--count", str(EVENTS),
                                   "--duration", "900", timeout=960)
            sent_at = time.monotonic()
            held = backlog(ripple)
            time.sleep(duration)  # the backlog stays; the stalled deliveries go on
            end = backlog(ripple)
        finally:
            sampler.stop()
        warnings = ripple.log_errors()
    idle = sampler.window(0.0, loaded_at)
    loaded = sampler.window(loaded_at)
    idle_rss = statistics.median(s[1] for s in idle)
    peak_rss = max(s[1] for s in loaded)
    idle_valkey = statistics.median(s[2] for s in idle)
    peak_valkey = max(s[2] for s in loaded)
    end_rss = loaded[-1][1]
    ratio = peak_rss / idle_rss if idle_rss else None
    return {
        "id": "P6", "name": "memory", "unit": "MiB",
        "figure": peak_rss / MIB, "baseline": idle_rss / MIB, "ratio": ratio,
        "goal": "<= 1.2x", "met": ratio is not None and ratio <= 1.2,
        "baseline_is": "idle RSS of the same `ripple up` (Trigger Ready, before any event)",
        # the log keeps fanned-out entries a few seconds for `ripple event tail`: not backlog
        "extra": (f"{sent['ok']:,} events accepted in {sent_at - loaded_at:.0f} s, backlog "
                  f"{held['queue'] + held['schedule']:,} queued or scheduled "
                  f"(+{held['log']:,} in the log); "
                  f"Valkey {idle_valkey / MIB:.0f} -> {peak_valkey / MIB:.0f} MiB"),
        "details": {
            "sent": sent, "backlog_after_load": held, "backlog_at_end": end,
            "hold_seconds": duration, "workers": workers,
            "ripple_end_mib": round(end_rss / MIB, 1),
            "peak_per_process_mib": {str(p): round(v / MIB, 1)
                                     for p, v in sampler.per_process.items()},
            "valkey_idle_mib": round(idle_valkey / MIB, 1),
            "valkey_peak_mib": round(peak_valkey / MIB, 1),
            "series_mib": [(round(t - loaded_at, 1), round(r / MIB, 1), round(v / MIB, 1))
                           for t, r, v in sampler.samples[::10]],
            "ripple_warnings": warnings,
        },
    }
