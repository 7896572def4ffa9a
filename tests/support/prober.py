"""The reliability prober: send events with unique ids, tally which were accepted and
which were delivered, and compare the two.

Used by `tests/reliability` and `tests/e2e/test_durability.py`. The producer side is
`post_events` (a burst, as fast as a thread pool goes) or `PacedSender` (a steady rate,
each event stamped with its send time in the `sentat` extension). The subscriber side is
`Ledger`, a `RecordingSink` behaviour that records every id it answered 2xx, with its
arrival time. `tally` turns both into the counts the checks assert on: a 202 is a promise,
so an accepted id that never got a 2xx from the sink is lost; an id that got more than one
is a duplicate (at least once allows it, the checks bound it).
"""

from __future__ import annotations

import collections
import concurrent.futures
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis

from ripple import keys
from tests.support.mesh import Mesh
from tests.support.sinks import Answer, Behaviour, Received

POST_ERRORS = (OSError, http.client.HTTPException)
"""What a post to a killed or restarting process raises: refused, reset, cut off. Such an
event was not accepted, so it is not owed."""


def trigger_manifest(name: str, broker: str, subscriber: str, delivery: dict[str, Any] | None = None,
                     namespace: str = "default") -> str:
    """A Trigger (to a subscriber URI) as a manifest document; JSON is YAML."""
    spec: dict[str, Any] = {"broker": broker, "subscriber": {"uri": subscriber}}
    if delivery:
        spec["delivery"] = delivery
    return json.dumps({"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
                       "metadata": {"name": name, "namespace": namespace}, "spec": spec})


def broker_manifest(name: str, *triggers: str, namespace: str = "default") -> str:
    """A Broker and the given Trigger documents, as one multi-document manifest."""
    broker = json.dumps({"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                         "metadata": {"name": name, "namespace": namespace}})
    return "\n---\n".join([broker, *triggers]) + "\n"


def trigger_path(name: str, namespace: str = "default") -> str:
    return f"/apis/eventing.knative.dev/v1/namespaces/{namespace}/triggers/{name}"


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` passes; returns whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float = 10.0
         ) -> tuple[int, dict[str, str], bytes]:
    """`Mesh.post` with a timeout of the caller's choosing; header names lower-cased."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def post_one(mesh: Mesh, path: str, event_id: str,
             extensions: dict[str, str] | None = None) -> int | None:
    """The status of one binary-mode post, or None when there was no answer."""
    try:
        return mesh.send_event(path, event_id, extensions=extensions)
    except POST_ERRORS:
        return None


def post_events(mesh: Mesh, path: str, ids: Iterable[str], accepted: list[str], *,
                threads: int = 16) -> None:
    """Post every id as fast as `threads` connections go; append the ones that got a 202."""

    def one(event_id: str) -> None:
        if post_one(mesh, path, event_id) == 202:
            accepted.append(event_id)

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, ids))


@dataclass
class Sent:
    accepted: list[str] = field(default_factory=list)
    statuses: collections.Counter[int | None] = field(default_factory=collections.Counter)
    posts: list[tuple[str, float, float, int | None]] = field(default_factory=list)
    """Every post: (id, wall-clock time sent, time answered, status or None)."""

    def answered_between(self, start: float, end: float) -> collections.Counter[int | None]:
        """The statuses of the posts sent after `start` and answered before `end`."""
        return collections.Counter(
            s for _, sent, answered, s in self.posts if sent > start and answered < end)


class PacedSender:
    """Posts `rate` events a second for `duration` seconds from a pool of threads, each with
    a unique id `<prefix>-<n>` and its wall-clock send time in the `sentat` extension.

    The pace is kept against the schedule, not the previous post: a slow answer (a killed
    process, a store outage) does not lower the average rate, and a post that finds no
    process answers at once (refused). `threads` bounds the posts in flight."""

    def __init__(self, mesh: Mesh, path: str, *, rate: float, duration: float, prefix: str = "e",
                 threads: int = 16) -> None:
        self.mesh, self.path, self.rate, self.duration = mesh, path, rate, duration
        self.prefix, self.threads = prefix, threads
        self.sent = Sent()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"sender-{prefix}", daemon=True)
        self._error: BaseException | None = None

    def start(self) -> PacedSender:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> Sent:
        self._thread.join(timeout if timeout is not None else self.duration + 60)
        assert not self._thread.is_alive(), "the sender did not finish"
        if self._error is not None:
            raise self._error
        return self.sent

    def _run(self) -> None:
        try:
            with concurrent.futures.ThreadPoolExecutor(self.threads) as pool:
                total = int(self.rate * self.duration)
                started = time.monotonic()
                for n in range(total):
                    delay = started + n / self.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    pool.submit(self._post, f"{self.prefix}-{n}")
        except BaseException as exc:  # re-raised in join, on the test's thread
            self._error = exc

    def _post(self, event_id: str) -> None:
        now = time.time()
        status = post_one(self.mesh, self.path, event_id, {"sentat": repr(now)})
        answered = time.time()
        with self._lock:
            self.sent.posts.append((event_id, now, answered, status))
            self.sent.statuses[status] += 1
            if status == 202:
                self.sent.accepted.append(event_id)


class Ledger:
    """The subscriber's side: every id answered 2xx, with its arrival time.

    `behaviour(inner)` wraps a `RecordingSink` behaviour; the arrival time is taken before
    `inner` runs, so a slow answer does not count as latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.arrivals: dict[str, list[float]] = collections.defaultdict(list)
        self.sent_at: dict[str, float] = {}

    def behaviour(self, inner: Behaviour | None = None) -> Behaviour:
        def record(request: Received, n: int) -> Answer:
            arrived = time.time()
            answer = inner(request, n) if inner is not None else Answer(200)
            if 200 <= answer.status < 300:
                event_id = request.ce.get("id", "")
                with self._lock:
                    self.arrivals[event_id].append(arrived)
                    sent = request.ce.get("sentat")
                    if sent is not None:
                        self.sent_at.setdefault(event_id, float(sent))
            return answer

        return record

    def delivered(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter({i: len(times) for i, times in self.arrivals.items()})

    def has_all(self, ids: Iterable[str]) -> bool:
        with self._lock:
            return all(i in self.arrivals for i in ids)

    def latencies(self, ids: Iterable[str] | None = None) -> list[float]:
        """Seconds from send to first arrival, for `ids` (default: every id with a send time)."""
        with self._lock:
            wanted = self.sent_at.keys() if ids is None else ids
            return [self.arrivals[i][0] - self.sent_at[i] for i in wanted
                    if i in self.sent_at and self.arrivals.get(i)]


@dataclass(frozen=True)
class Tally:
    """What a run owes and what it paid: the numbers every reliability check prints."""

    name: str
    sent: int
    accepted: int
    delivered: int
    lost: int
    duplicates: int
    unowed: int
    """Delivered but never answered 202 (the process died between the XADD and the answer)."""
    statuses: dict[str, int]

    @property
    def duplicate_ratio(self) -> float:
        return self.duplicates / self.accepted if self.accepted else 0.0

    def line(self) -> str:
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items()))
        return (f"{self.name}: sent={self.sent} accepted={self.accepted} delivered={self.delivered} "
                f"lost={self.lost} duplicates={self.duplicates} ({self.duplicate_ratio:.3%}) "
                f"unowed={self.unowed} statuses[{statuses}]")


def tally(name: str, accepted: Iterable[str], delivered: collections.Counter[str],
          statuses: collections.Counter[int | None] | None = None) -> Tally:
    owed = set(accepted)
    statuses = statuses or collections.Counter()
    return Tally(
        name=name,
        sent=sum(statuses.values()) or len(owed),
        accepted=len(owed),
        delivered=len(owed & delivered.keys()),
        lost=len(owed - delivered.keys()),
        duplicates=sum(n - 1 for n in delivered.values()),
        unowed=len(delivered.keys() - owed),
        statuses={("none" if k is None else str(k)): v for k, v in statuses.items()},
    )


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100) of `values`."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def store_url(mesh: Mesh) -> str:
    """The Redis URL a mesh uses: its `--redis-url`, else its embedded Valkey's port file."""
    if "--redis-url" in mesh.extra:
        return mesh.extra[mesh.extra.index("--redis-url") + 1]
    port = (mesh.data_dir / "valkey.port").read_text().strip()
    return f"redis://127.0.0.1:{port}/0"


def trigger_drained(url: str, namespace: str, broker: str, trigger: str) -> bool:
    """The broker's log is fanned out and the trigger's queue holds nothing, in flight or
    scheduled: no redelivery can still come."""
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        log = keys.broker_log(namespace, broker)
        groups = {g["name"]: g for g in client.xinfo_groups(log)} if client.exists(log) else {}
        fanout = groups.get(keys.FANOUT_GROUP.encode())
        if fanout is not None and (fanout["pending"] or fanout.get("lag")):
            return False
        queue = keys.broker_queue(namespace, broker, trigger)
        return client.xlen(queue) == 0 and client.zcard(keys.broker_schedule(namespace, broker)) == 0
    except redis.RedisError:
        return False
    finally:
        client.close()
