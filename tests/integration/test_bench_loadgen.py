"""P3's paced generator (`bench.loadgen paced`) against the benchmark sink, both real
processes: every event sent once, ids of the run's own prefix, stamped unless asked not
to be, and a server that is not there counted as errors, not waited for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import harness


@pytest.fixture(scope="module")
def sink() -> Iterator[harness.App]:
    app = harness.App("sink")
    try:
        yield app
    finally:
        app.stop()


@pytest.mark.parametrize("rate", [500, 3000])
def test_every_event_is_sent_once_at_the_rate(sink: harness.App, rate: int) -> None:
    sink.reset()
    sent = harness.loadgen("paced", sink.url, "--rate", str(rate), "--duration", "1",
                           "--prefix", f"t{rate}")
    assert (sent["ok"], sent["other"], sent["errors"], sent["sent"]) == (rate, 0, 0, rate)
    assert 0.9 < sent["seconds"] < 3.0, sent
    assert sent["response_p50_ms"] <= sent["response_p99_ms"]
    events = sink.stats()["stamped_events"]
    ids = sorted(e[0] for e in events)
    assert ids == sorted(f"t{rate}-{n}" for n in range(rate))


def test_a_warm_up_is_not_stamped(sink: harness.App) -> None:
    sink.reset()
    sent = harness.loadgen("paced", sink.url, "--rate", "200", "--duration", "0.5", "--no-stamp")
    assert sent["ok"] == 100
    assert (sink.count(), sink.stamped()) == (100, 0)


def test_a_server_that_is_not_there_is_errors_not_a_hang() -> None:
    sent = harness.loadgen("paced", f"http://127.0.0.1:{harness.free_port()}/", "--rate", "100",
                           "--duration", "0.5", timeout=30)
    assert (sent["ok"], sent["errors"]) == (0, 50), sent
