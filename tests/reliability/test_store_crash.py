"""R2, store crash: the Valkey server is SIGKILLed under load and restarted on the same
port and data dir. With `appendfsync always` every write Valkey acknowledged is in the
fsynced AOF, so every event that got a 202 is delivered after recovery; while the store
is down the ingress answers 503, never 202.

Ripple runs with `--redis-url` against a Valkey this test owns (`EmbeddedValkey`), so the
kill hits only the store. CI: one kill during 8 s at 50 ev/s. Full: 100 ev/s for 2 min, a
kill every 10 to 20 s, each outage 1 to 5 s.
"""

from __future__ import annotations

import collections
import random
import time
from pathlib import Path

import pytest

from ripple import embedded
from tests.reliability.conftest import Form
from tests.support.chaos import kill_store, kill_times
from tests.support.mesh import Mesh
from tests.support.prober import (
    Ledger,
    PacedSender,
    broker_manifest,
    tally,
    trigger_manifest,
    trigger_path,
    wait_until,
)
from tests.support.sinks import RecordingSink

pytestmark = pytest.mark.reliability


@pytest.mark.timeout(240)
def test_sigkill_of_the_store_loses_no_acknowledged_event(data_dir: Path, tmp_path: Path, form: Form,
                                                           seed: int) -> None:
    rate, duration = form.pick(50, 100), form.pick(8, 120)
    rng = random.Random(seed)
    kills = kill_times(rng, duration, (10, 20)) if form.full else [3.0]
    store_dir = tmp_path / "store"
    store = embedded.EmbeddedValkey(store_dir, appendfsync="always").start()
    outages: list[tuple[float, float]] = []
    ledger = Ledger()
    try:
        with RecordingSink(ledger.behaviour()) as sink:
            mesh = Mesh(data_dir, extra=["--redis-url", store.url]).start()
            try:
                mesh.apply(broker_manifest("crash", trigger_manifest("all", "crash", sink.url)))
                mesh.wait_ready(trigger_path("all"))
                started = time.monotonic()
                sender = PacedSender(mesh, "/default/crash", rate=rate, duration=duration, prefix="s")
                sender.start()
                for at in kills:
                    time.sleep(max(0.0, started + at - time.monotonic()))
                    kill_store(store)
                    down = time.time()
                    time.sleep(rng.uniform(1, 5) if form.full else 2.0)
                    up = time.time()  # before the restart: nothing sent after `down` may get a 202
                    store = embedded.EmbeddedValkey(store_dir, appendfsync="always", port=store.port)
                    store.start()
                    outages.append((down, up))
                sent = sender.join()
                # An entry a read claimed just before the kill (its reply lost) waits for
                # XAUTOCLAIM: up to a minute and a half. wait_until returns as soon as all arrived.
                wait_until(lambda: ledger.has_all(sent.accepted), timeout=100)
                assert mesh.proc is not None and mesh.proc.poll() is None, "ripple died with the store"
            finally:
                mesh.stop()
    finally:
        store.stop()
    during: collections.Counter[int | None] = collections.Counter()
    for down, up in outages:
        during += sent.answered_between(down, up)
    result = tally(f"R2 {form.name} seed={seed} store kills={len(outages)}", sent.accepted,
                   ledger.delivered(), sent.statuses)
    line = f"{result.line()} during-outage[{dict(during)}]"
    print(line)
    assert outages, line
    assert result.lost == 0, line
    assert during and set(during) == {503}, line
