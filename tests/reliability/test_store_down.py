"""R6, store down: while the store is unreachable every request to the ingress, in every
content mode, is answered 503 with a Retry-After, never 202, and ripple keeps running;
once the store is back the same process accepts and delivers again, with no restart.

Two ways to lose the store: it stops (connections are refused at once), and it is cut off
by a partition (`StoreProxy` drops everything, so only the ingress's write timeout ends a
request). The stronger form of `tests/e2e/test_durability.py`'s single-request
check: CI hammers the ingress with 200 concurrent requests while the store is stopped and
16 while it is cut off (each then waits out the write timeout); full with 2,000 and 200.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import time
from pathlib import Path

import pytest

from ripple import embedded
from tests.reliability.conftest import Form
from tests.support.chaos import StoreProxy
from tests.support.mesh import Mesh
from tests.support.prober import (
    POST_ERRORS,
    Ledger,
    broker_manifest,
    post,
    post_events,
    post_one,
    tally,
    trigger_manifest,
    trigger_path,
    wait_until,
)
from tests.support.sinks import RecordingSink

pytestmark = pytest.mark.reliability

CUT_OFF_ANSWER_BOUND = 8.0
"""Seconds a request may wait for its 503 while the store is cut off: the ingress's write
timeout (`IngressSettings.write_timeout`, 5 s), the watchdog's 1 s tick, and slack for a
busy machine. (Before the write timeout it was the Redis client's socket timeout, 10 s,
once for the append under way and once more for the request's own: 20 s.)"""


def _request(n: int) -> tuple[bytes, dict[str, str]]:
    """The n-th request of the hammer: binary, structured or a batch of two, in turn."""
    attributes = {"specversion": "1.0", "id": f"down-{n}", "source": "/r6", "type": "dev.example.down"}
    if n % 3 == 0:
        headers = {f"ce-{k}": v for k, v in attributes.items()}
        return b'{"n": 1}', headers | {"content-type": "application/json"}
    if n % 3 == 1:
        return json.dumps(attributes | {"data": {"n": 1}}).encode(), \
            {"content-type": "application/cloudevents+json"}
    batch = [attributes, attributes | {"id": f"down-{n}-b"}]
    return json.dumps(batch).encode(), {"content-type": "application/cloudevents-batch+json"}


class Hammer:
    """Posts `count` requests from `threads` threads; tallies answers and how long each took."""

    def __init__(self, mesh: Mesh, path: str) -> None:
        self.mesh, self.path = mesh, path
        self.answers: collections.Counter[str] = collections.Counter()
        self.slowest = 0.0

    def run(self, count: int, threads: int, timeout: float) -> Hammer:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda n: self._one(n, timeout), range(count)))
        return self

    def _one(self, n: int, timeout: float) -> None:
        body, headers = _request(n)
        started = time.monotonic()
        try:
            status, got, _ = post(self.mesh.url + self.path, body, headers, timeout=timeout)
        except POST_ERRORS as exc:
            self.answers[f"no answer: {type(exc).__name__}"] += 1
            return
        finally:
            self.slowest = max(self.slowest, time.monotonic() - started)
        retry_after = got.get("retry-after", "")
        ok = retry_after.isdigit() and int(retry_after) >= 1
        self.answers[f"{status} retry-after={'ok' if ok else repr(retry_after)}"] += 1


def _outage(tmp_path: Path, data_dir: Path, *, cut_off: bool, hammer: int, threads: int) -> str:
    """Accept 50 events, lose the store, hammer, bring it back, accept 50 more; assert."""
    store = embedded.EmbeddedValkey(tmp_path / "store").start()
    proxy = StoreProxy(store.port) if cut_off else None
    ledger = Ledger()
    try:
        with RecordingSink(ledger.behaviour()) as sink:
            mesh = Mesh(data_dir, extra=["--redis-url", proxy.url if proxy else store.url]).start()
            try:
                mesh.apply(broker_manifest("down", trigger_manifest("all", "down", sink.url)))
                mesh.wait_ready(trigger_path("all"))
                before: list[str] = []
                post_events(mesh, "/default/down", [f"before-{i}" for i in range(50)], before)
                # Delivered first: a delivery cut off mid-flight waits for XAUTOCLAIM (a minute),
                # which is not what this check is about.
                assert wait_until(lambda: ledger.has_all(before), timeout=30)
                pid = mesh.proc.pid if mesh.proc else 0
                if proxy:
                    proxy.blackhole()
                else:
                    store.stop()
                started = time.monotonic()
                hammered = Hammer(mesh, "/default/down").run(hammer, threads,
                                                             timeout=CUT_OFF_ANSWER_BOUND * 2)
                seconds = time.monotonic() - started
                if proxy:
                    proxy.restore()
                else:
                    store = embedded.EmbeddedValkey(tmp_path / "store", port=store.port).start()
                recovered = wait_until(lambda: post_one(mesh, "/default/down", "probe") == 202, 30, 0.2)
                after = ["probe"] if recovered else []
                post_events(mesh, "/default/down", [f"after-{i}" for i in range(50)], after)
                wait_until(lambda: ledger.has_all(before + after), timeout=30)
                proc = mesh.proc
                still_running = proc is not None and proc.poll() is None and proc.pid == pid
            finally:
                mesh.stop()
    finally:
        if proxy:
            proxy.__exit__()
        store.stop()
    result = tally(f"R6 {'cut off' if cut_off else 'stopped'}", before + after, ledger.delivered())
    line = (f"{result.line()} during-outage[{dict(hammered.answers)}] "
            f"{hammer} requests in {seconds:.1f}s, "
            f"slowest answer {hammered.slowest:.1f}s, recovered={recovered}")
    print(line)
    assert dict(hammered.answers) == {"503 retry-after=ok": hammer}, line
    if cut_off:
        assert hammered.slowest <= CUT_OFF_ANSWER_BOUND, line
    assert still_running and recovered, line
    assert len(before) == 50 and len(after) == 51 and result.lost == 0, line
    return line


def test_store_stopped_answers_only_503_with_retry_after_then_recovers_without_restart(
        data_dir: Path, tmp_path: Path, form: Form) -> None:
    _outage(tmp_path, data_dir, cut_off=False, hammer=int(form.pick(200, 2000)), threads=16)


def test_store_cut_off_answers_only_503_with_retry_after_then_recovers_without_restart(
        data_dir: Path, tmp_path: Path, form: Form) -> None:
    _outage(tmp_path, data_dir, cut_off=True, hammer=int(form.pick(16, 200)),
            threads=int(form.pick(16, 50)))
