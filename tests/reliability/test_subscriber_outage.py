"""R3, subscriber outage: a subscriber that answers 503 for a while gets every event once
it recovers, through the Trigger's persisted retries; a subscriber that fails for good
sends every event to the dead-letter sink with Knative's knativeerror* attributes, and
delivered + dead-lettered = accepted, exactly.

CI: a 5 s outage, 200 events to the failing subscriber. Full: a 60 s outage, 3,000 events.
"""

from __future__ import annotations

import base64
import collections
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import Form
from tests.support.mesh import Mesh
from tests.support.prober import (
    Ledger,
    PacedSender,
    broker_manifest,
    post_events,
    tally,
    trigger_manifest,
    trigger_path,
    wait_until,
)
from tests.support.sinks import Answer, Received, RecordingSink

pytestmark = pytest.mark.reliability

# Exponential from 0.1 s with 12 retries spans about 400 s; Retry-After (1 s, honoured up
# to 2 s) sets the floor of each wait. A 60 s outage ends well inside the budget.
OUTAGE_DELIVERY = {"retry": 12, "backoffPolicy": "exponential", "backoffDelay": "PT0.1S",
                   "retryAfterMax": "PT2S"}


def test_subscriber_outage_then_recovery_delivers_every_event(data_dir: Path, form: Form) -> None:
    outage, rate = form.pick(5, 60), 20
    recovers_at = [float("inf")]
    refused = collections.Counter[str]()

    def down_then_up(request: Received, _n: int) -> Answer:
        if time.monotonic() < recovers_at[0]:
            refused[request.ce.get("id", "")] += 1
            return Answer(503, b"", {"retry-after": "1"})
        return Answer(200)

    ledger = Ledger()
    with RecordingSink(ledger.behaviour(down_then_up)) as sink:
        mesh = Mesh(data_dir).start()
        try:
            trigger = trigger_manifest("all", "outage", sink.url, OUTAGE_DELIVERY)
            mesh.apply(broker_manifest("outage", trigger))
            mesh.wait_ready(trigger_path("all"))
            recovers_at[0] = time.monotonic() + outage
            sender = PacedSender(mesh, "/default/outage", rate=rate, duration=outage, prefix="o")
            sent = sender.start().join()
            delivered = wait_until(lambda: ledger.has_all(sent.accepted), timeout=form.pick(30, 150))
        finally:
            mesh.stop()
    result = tally(f"R3 outage {form.name} outage={outage}s", sent.accepted, ledger.delivered(),
                   sent.statuses)
    line = (f"{result.line()} answered-503={sum(refused.values())} "
            f"events-that-saw-the-outage={len(refused)}")
    print(line)
    assert delivered and result.lost == 0, line
    assert result.accepted == rate * outage, line
    assert len(refused) >= result.accepted * 0.9, "the outage did not hit the events: " + line
    assert result.duplicates == 0, line


BODY = b'{"error": "permanent"}'
ANSWERS = [Answer(200), Answer(500, BODY), Answer(503), Answer(400, BODY)]
"""By id modulo 4: delivered; retried then dead-lettered with a body, and without one;
dead-lettered at once (400 is not retried)."""
ATTEMPTS = [1, 3, 3, 1]


def _kind(request: Received) -> int:
    return int(request.ce["id"].rsplit("-", 1)[1]) % 4


def test_permanently_failing_subscriber_dead_letters_with_knative_error_attributes(
        data_dir: Path, form: Form) -> None:
    count = int(form.pick(200, 3000))
    delivery = {"retry": 2, "backoffPolicy": "linear", "backoffDelay": "PT0.05S"}
    ledger, dead = Ledger(), Ledger()
    with RecordingSink(ledger.behaviour(lambda r, _n: ANSWERS[_kind(r)])) as sink, \
            RecordingSink(dead.behaviour()) as dls:
        delivery["deadLetterSink"] = {"uri": dls.url}  # type: ignore[assignment]
        mesh = Mesh(data_dir).start()
        try:
            trigger = trigger_manifest("all", "failing", sink.url, delivery)
            mesh.apply(broker_manifest("failing", trigger))
            subscriber_uri = mesh.wait_ready(trigger_path("all"))["status"]["subscriberUri"]
            accepted: list[str] = []
            post_events(mesh, "/default/failing", [f"f-{i}" for i in range(count)], accepted)
            wait_until(lambda: all(i in ledger.arrivals or i in dead.arrivals for i in accepted),
                       timeout=60)
        finally:
            mesh.stop()
    delivered, dead_lettered = ledger.delivered(), dead.delivered()
    line = (f"R3 dead-letter {form.name}: accepted={len(accepted)} delivered={len(delivered)} "
            f"dead-lettered={len(dead_lettered)} attempts={len(sink.received)} "
            f"duplicates={tally('', accepted, delivered + dead_lettered).duplicates}")
    print(line)
    assert len(accepted) == count, line
    assert set(delivered) | set(dead_lettered) == set(accepted), line
    assert len(delivered) + len(dead_lettered) == len(accepted), line  # each once, in one place
    assert {_kind(r) for r in sink.received if r.ce["id"] in delivered} == {0}, line
    attempts = collections.Counter(r.ce["id"] for r in sink.received)
    wrong = {i: n for i, n in attempts.items() if n != ATTEMPTS[int(i.rsplit("-", 1)[1]) % 4]}
    assert not wrong, f"attempts per event differ from retry: 2: {list(wrong.items())[:5]}; {line}"
    for letter in dls.received:
        answer = ANSWERS[_kind(letter)]
        ce = letter.ce
        assert ce["knativeerrorcode"] == str(answer.status), ce
        assert ce["knativeerrordest"] == subscriber_uri, ce
        if answer.body:
            assert base64.b64decode(ce["knativeerrordata"]) == answer.body, ce
        else:
            assert "knativeerrordata" not in ce, ce
