"""R1, the prober: a steady stream of uniquely numbered events into a Broker while a chaos
loop SIGKILLs `ripple up` (both workers) at random moments and restarts it.

Every id that got a 202 must reach the subscriber (lost = 0), and redeliveries, which at
least once allows for what was in flight at a kill, stay within 0.1% of what was accepted.
CI: 50 ev/s for 30 s, 2 or 3 kills. Full (`make soak`): 200 ev/s for 5 min, a kill about
every 20 s.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.reliability.conftest import Form
from tests.support.chaos import MeshChaos, kill_times
from tests.support.mesh import Mesh
from tests.support.prober import (
    Ledger,
    PacedSender,
    broker_manifest,
    store_url,
    tally,
    trigger_drained,
    trigger_manifest,
    trigger_path,
    wait_until,
)
from tests.support.sinks import RecordingSink

pytestmark = pytest.mark.reliability

DUPLICATE_BOUND = 0.001


def test_no_accepted_event_is_lost_while_ripple_is_killed_at_random(data_dir: Path, form: Form,
                                                                      seed: int) -> None:
    rate, duration = form.pick(50, 200), form.pick(30, 300)
    gaps = (form.pick(7, 10), form.pick(11, 30))
    times = kill_times(random.Random(seed), duration, gaps)
    ledger = Ledger()
    with RecordingSink(ledger.behaviour()) as sink:
        mesh = Mesh(data_dir, workers=2).start()
        chaos = MeshChaos(mesh, times)
        try:
            mesh.apply(broker_manifest("probe", trigger_manifest("all", "probe", sink.url)))
            mesh.wait_ready(trigger_path("all"))
            sender = PacedSender(mesh, "/default/probe", rate=rate, duration=duration, prefix="p")
            sender.start()
            chaos.start()
            sent = sender.join()
            chaos.join()
            wait_until(lambda: ledger.has_all(sent.accepted), timeout=120)
            # Redeliveries of what was in flight come soon after a restart; wait until nothing
            # is left that could still be delivered, so the duplicate count is final.
            drained = wait_until(lambda: trigger_drained(store_url(mesh), "default", "probe", "all"), 30)
        finally:
            chaos.stop()
            mesh.stop()
    result = tally(f"R1 {form.name} seed={seed} rate={rate}/s duration={duration}s kills={len(times)} "
                   f"restarts={[round(r, 1) for r in chaos.restarts]}",
                   sent.accepted, ledger.delivered(), sent.statuses)
    print(result.line())
    assert len(chaos.restarts) == len(times) >= 2, result.line()
    assert result.lost == 0, result.line()
    assert drained, "the trigger's queue never drained: " + result.line()
    assert result.duplicates <= DUPLICATE_BOUND * result.accepted, result.line()
