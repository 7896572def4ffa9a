"""What the broker promises when processes die: no accepted event is lost.

A burst is accepted while a `kill -9` lands on `ripple up` (every worker dies with it; the
embedded Valkey survives and is adopted on restart), then every id that got a 202 must
reach the subscriber. Also: SIGTERM drains within its bound, and a store outage answers
503 with Retry-After and recovers without a restart.
"""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ripple import embedded
from tests.support.mesh import Mesh
from tests.support.prober import post_events, wait_until
from tests.support.sinks import Answer, RecordingSink

pytestmark = pytest.mark.e2e

TRIGGER = "/apis/eventing.knative.dev/v1/namespaces/default/triggers/keep"


def manifest(sink_url: str) -> str:
    return f"""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: durable, namespace: default}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: keep, namespace: default}}
spec:
  broker: durable
  subscriber: {{uri: '{sink_url}'}}
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_mid_burst_loses_no_accepted_event(data_dir: Path, workers: int) -> None:
    def slowish(_r, _n) -> Answer:
        time.sleep(0.005)
        return Answer(202)

    with RecordingSink(slowish) as sink:
        mesh = Mesh(data_dir, workers=workers).start()
        mesh.apply(manifest(sink.url))
        mesh.wait_ready(TRIGGER)
        accepted: list[str] = []
        ids = [f"k{workers}-{i}" for i in range(1500)]
        sender = threading.Thread(target=post_events, args=(mesh, "/default/durable", ids, accepted))
        sender.start()
        assert wait_until(lambda: len(accepted) >= 400, timeout=30, interval=0.01)
        valkey = int((data_dir / "valkey.pid").read_text())
        mesh.kill()  # mid-burst, with deliveries in flight and a backlog in Redis
        sender.join()
        # the store goes with it (its death signal: SIGTERM, so its AOF is written out)
        assert wait_until(lambda: not _alive(valkey), timeout=15), "embedded valkey left orphaned"
        delivered_before = set(sink.ids())
        assert len(accepted) < len(ids) or len(delivered_before) < len(accepted)

        mesh.start()
        try:
            wait_until(lambda: set(accepted) <= set(sink.ids()), timeout=60, interval=0.1)
            received = sink.ids()
            lost = set(accepted) - set(received)
            assert not lost, f"{len(lost)} accepted events lost, e.g. {sorted(lost)[:5]}"
            duplicates = len(received) - len(set(received))
            print(f"workers={workers} accepted={len(accepted)} delivered={len(set(received))} "
                  f"duplicates={duplicates}")
        finally:
            mesh.stop()


def test_sigterm_drains_within_its_bound_and_stops_the_store(data_dir: Path) -> None:
    with RecordingSink(lambda r, n: (time.sleep(0.5), Answer(202))[1]) as sink:
        mesh = Mesh(data_dir).start()
        mesh.apply(manifest(sink.url))
        mesh.wait_ready(TRIGGER)
        for i in range(20):
            assert mesh.send_event("/default/durable", f"t{i}") == 202
        sink.wait_for(1)
        valkey_pid = int((data_dir / "valkey.pid").read_text())
        started = time.monotonic()
        assert mesh.stop(timeout=30) == 0
        assert time.monotonic() - started < 20
        assert wait_until(lambda: not _alive(valkey_pid), timeout=10)  # the store stopped too


def test_store_outage_answers_503_with_retry_after_then_recovers(data_dir: Path, tmp_path: Path) -> None:
    store = embedded.EmbeddedValkey(tmp_path / "store").start()
    try:
        with RecordingSink() as sink:
            mesh = Mesh(data_dir, extra=["--redis-url", store.url]).start()
            try:
                mesh.apply(manifest(sink.url))
                mesh.wait_ready(TRIGGER)
                assert mesh.send_event("/default/durable", "before") == 202
                store.stop()
                status, headers, body = mesh.post(
                    "/default/durable", b"{}",
                    {"ce-specversion": "1.0", "ce-id": "during", "ce-source": "/s", "ce-type": "t"})
                assert status == 503 and int(headers["retry-after"]) >= 1, body
                store = embedded.EmbeddedValkey(tmp_path / "store", port=store.port).start()
                assert wait_until(lambda: mesh.send_event("/default/durable", "after") == 202,
                                  timeout=15, interval=0.2)
                sink.wait_for(2)
                assert {"before", "after"} <= set(sink.ids())
            finally:
                mesh.stop()
    finally:
        store.stop()


def test_sigkill_in_the_middle_of_a_sequence_loses_nothing(data_dir: Path) -> None:
    def step(suffix: bytes):
        def answer(request, _n):
            time.sleep(0.002)
            headers = {f"ce-{k}": v for k, v in request.ce.items()}
            headers["content-type"] = "text/plain"
            return Answer(200, request.body + suffix, headers)
        return answer

    with RecordingSink(step(b"-1")) as s1, RecordingSink(step(b"-2")) as s2, RecordingSink() as final:
        mesh = Mesh(data_dir).start()
        mesh.apply(f"""
apiVersion: flows.knative.dev/v1
kind: Sequence
metadata: {{name: killed, namespace: default}}
spec:
  steps: [{{uri: '{s1.url}'}}, {{uri: '{s2.url}'}}]
  reply: {{uri: '{final.url}'}}
""")
        mesh.wait_ready("/apis/flows.knative.dev/v1/namespaces/default/sequences/killed", timeout=30)
        accepted: list[str] = []

        def send(event_id: str) -> None:
            try:
                status = mesh.post("/channels/default/killed-kn-sequence-0", b"x", {
                    "ce-specversion": "1.0", "ce-id": event_id, "ce-source": "/t", "ce-type": "t",
                    "content-type": "text/plain"})[0]
                if status == 202:
                    accepted.append(event_id)
            except OSError:
                pass

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(send, f"q-{i}") for i in range(600)]
            assert wait_until(lambda: len(accepted) >= 200, timeout=30, interval=0.01)
            mesh.kill()
            concurrent.futures.wait(futures)
        mesh.start()
        try:
            wait_until(lambda: set(accepted) <= set(final.ids()), timeout=60, interval=0.1)
            lost = set(accepted) - set(final.ids())
            assert not lost, f"{len(lost)} accepted events lost in the Sequence"
            assert all(r.body == b"x-1-2" for r in final.received)
        finally:
            mesh.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
