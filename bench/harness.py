"""The processes every benchmark needs: `ripple up`, the sink, the bare app, the loaders.

Called by the benchmark modules (`bench.ingress`, `bench.delivery`, `bench.latency`,
`bench.fanout`). Everything runs on 127.0.0.1 with a free port and, for Ripple, a fresh
temporary `--data-dir`; everything is stopped by pid at the end (SIGTERM first: `ripple
up` then shuts its embedded Valkey down itself). All waits are bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

from bench import events

PYTHON = sys.executable
RIPPLE = str(Path(sys.executable).with_name("ripple"))
TRIGGERS = "/apis/eventing.knative.dev/v1/namespaces/default/triggers"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str, timeout: float = 10.0, token: str | None = None) -> Any:
    """GET a JSON document; `token`: the API's, for a control path (issue #15)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as r:
        return json.loads(r.read())


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            if check():
                return True
        time.sleep(interval)
    return False


def _stop(proc: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class App:
    """`python -m bench.apps KIND PORT` in its own process."""

    def __init__(self, kind: str) -> None:
        self.kind, self.port = kind, free_port()
        self.proc = subprocess.Popen([PYTHON, "-m", "bench.apps", kind, str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(self._listening, 15):
            self.stop()
            raise RuntimeError(f"bench.apps {kind} did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _listening(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = get_json(self.url + "_stats")
        return stats

    def count(self) -> int:
        return int(get_json(self.url + "_count")["count"])

    def stamped(self) -> int:
        """Requests that carried `ce-benchsent` since the last reset."""
        return int(get_json(self.url + "_count")["stamped"])

    def reset(self) -> None:
        get_json(self.url + "_reset")

    def cpu(self) -> float:
        return cpu_seconds([self.proc.pid])

    def stop(self) -> None:
        _stop(self.proc, 10)


UP_ARGS = "RIPPLE_BENCH_UP_ARGS"
"""More `ripple up` flags for every benchmark's mesh, e.g. `--trace-sample 0` to measure
with per-event tracing off."""


class Ripple:
    """`ripple up -f MANIFEST [--workers N]` on a fresh data dir and a free port."""

    NO_ROUTING = "--no-ingress-routing"

    def __init__(self, manifest: str, workers: int = 1, up_args: tuple[str, ...] = ()) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="ripple-bench-"))
        self.port = free_port()
        (self.tmp / "bench.yaml").write_text(manifest)
        self.log = open(self.tmp / "ripple.log", "wb")
        # Its own Ripple config file, never the user's: `ripple up` records its token there,
        # and the CLI the benchmarks run (which inherits this environment) reads it.
        os.environ["RIPPLE_CONFIG"] = str(self.tmp / "config.yaml")
        argv = [RIPPLE, "up", "--port", str(self.port), "--data-dir", str(self.tmp / "data"),
                "--log-level", "WARNING", "-f", str(self.tmp / "bench.yaml"),
                "--workers", str(workers), *up_args, *shlex.split(os.environ.get(UP_ARGS, ""))]
        self.routes_brokers = self.NO_ROUTING not in argv
        """Whether its broker ingress copies events to the Triggers' queues (`write_log`)."""
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.log)
        if not wait_until(self._healthy, 60):
            self.stop()
            raise RuntimeError("ripple up did not become healthy: " + self.log_tail())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def broker_url(self) -> str:
        return f"{self.url}/default/default"

    @property
    def redis_url(self) -> str:
        port = (self.tmp / "data" / "valkey.port").read_text().strip()
        return f"redis://127.0.0.1:{port}/0"

    @property
    def valkey_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((self.tmp / "data" / "valkey.pid").read_text().strip())
        return None

    def pids(self) -> list[int]:
        """`ripple up` and its worker processes; not the embedded Valkey, nor the children
        it forks to rewrite its append-only file (P6 once counted one, a 98 MiB copy of
        Valkey's memory, as Ripple's)."""
        valkey = self.valkey_pid
        return descendants(self.proc.pid, frozenset([valkey] if valkey else []))

    def cpu(self) -> float:
        """CPU seconds used so far by `ripple up` and its workers (not Valkey)."""
        return cpu_seconds(self.pids())

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"ripple up exited {self.proc.returncode}: " + self.log_tail())
        with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
            return bool(r.status == 200)

    @property
    def token(self) -> str:
        """The control API's token, which `ripple up` made in its data dir."""
        return (self.tmp / "data" / "token").read_text().strip()

    def ready_triggers(self) -> int:
        items = get_json(self.url + TRIGGERS, timeout=30, token=self.token).get("items") or []
        return sum(1 for t in items
                   if any(c.get("type") == "Ready" and c.get("status") == "True"
                          for c in (t.get("status") or {}).get("conditions") or []))

    def wait_triggers_ready(self, count: int, timeout: float = 120.0) -> bool:
        return wait_until(lambda: self.ready_triggers() >= count, timeout, interval=0.25)

    def log_errors(self, top: int = 3) -> list[tuple[str, int]]:
        """The most frequent warnings of the run (Ripple logs JSON lines: msg and error)."""
        self.log.flush()
        counts: dict[str, int] = {}
        for line in (self.tmp / "ripple.log").read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError, AttributeError):
                entry = json.loads(line)
                key = str(entry.get("msg"))
                if entry.get("error"):
                    key += f": {entry['error']}"
                counts[key] = counts.get(key, 0) + 1
        return sorted(counts.items(), key=lambda kv: -kv[1])[:top]

    def log_tail(self) -> str:
        self.log.flush()
        return (self.tmp / "ripple.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        _stop(self.proc, 60)
        self.log.close()
        _stop_leftover_valkey(self.tmp / "data")
        shutil.rmtree(self.tmp, ignore_errors=True)


Measured = dict[str, Any]


def alternating(rounds: int, sides: Mapping[str, Callable[[int], Measured]]) -> Iterator[dict[str, Measured]]:
    """Each round's measurement of every side (called with the round's number): in the
    order given in even rounds, reversed in odd ones, so a machine that slows down during a
    row hurts both sides alike; a row then compares the sides round by round."""
    for n in range(rounds):
        names = list(sides) if n % 2 == 0 else list(sides)[::-1]
        yield {name: sides[name](n) for name in names}


def descendants(root: int, prune: frozenset[int] = frozenset()) -> list[int]:
    """`root` and every process below it, from /proc (Linux), leaving out `prune` and
    everything below them."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in prune:
            continue
        found.append(pid)
        todo.extend(parents.get(pid, ()))
    return found


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (gone ones count 0)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / _TICK


def run_queue_seconds(pids: list[int]) -> float:
    """Time the processes' threads have spent runnable but waiting for a CPU so far
    (`/proc/PID/task/TID/schedstat`, second field, ns; gone ones count 0): on a 2-core
    machine shared by the generator, the sink, Ripple and Valkey, a share of any latency."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    total += int((task / "schedstat").read_text().split()[1])
    return total / 1e9


def rss_bytes(pid: int) -> int:
    """Resident set size of one process (VmRSS), 0 when it is gone."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _stop_leftover_valkey(data_dir: Path) -> None:
    """`ripple up` stops its Valkey on SIGTERM; only if it could not, stop it by its pid."""
    with contextlib.suppress(OSError, ValueError):
        pid = int((data_dir / "valkey.pid").read_text().strip())
        os.kill(pid, signal.SIGTERM)


@contextlib.contextmanager
def running(*things: Callable[[], Any]) -> Iterator[list[Any]]:
    """Start each thing in order; stop all of them, in reverse, whatever happens."""
    started: list[Any] = []
    try:
        for make in things:
            started.append(make())
        yield started
    finally:
        for thing in reversed(started):
            with contextlib.suppress(Exception):
                thing.stop()


def loadgen(*args: str, timeout: float = 120.0) -> dict[str, Any]:
    """Run `python -m bench.loadgen ARGS` and return its JSON line, with the CPU seconds
    the loader used (`cpu_seconds`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([PYTHON, "-m", "bench.loadgen", *args], check=False,
                          capture_output=True, text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            out: dict[str, Any] = json.loads(line)
            out["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            return out
    raise RuntimeError("bench.loadgen failed: " + done.stderr[-1000:])


def trigger(
    name: str, subscriber: str, *, type_: str | None = None, prefix: str | None = None
) -> str:
    spec = f"  filter: {{attributes: {{type: {type_}}}}}\n" if type_ else \
        f"  filters: [{{prefix: {{type: \"{prefix}\"}}}}]\n"
    return ("---\napiVersion: eventing.knative.dev/v1\nkind: Trigger\n"
            f"metadata: {{name: {name}, namespace: default}}\n"
            f"spec:\n  broker: default\n{spec}  subscriber: {{uri: \"{subscriber}\"}}\n")


BROKER = ("apiVersion: eventing.knative.dev/v1\nkind: Broker\n"
          "metadata: {name: default, namespace: default}\n")


def broker_records(count: int, type_: str = events.MATCH) -> list[dict[bytes, bytes]]:
    """`count` log entries exactly as the broker ingress writes them (decoded from the
    benchmark's binary-mode request, stamped, encoded with Ripple's own codec)."""
    from broker import stamping
    from ripple import cloudevents as ce

    now = time.time_ns()
    records = []
    for i in range(count):
        headers = events.headers(f"prefill-{i}", type_)
        event = ce.from_http(headers, events.DATA)[0]
        records.append(ce.to_record(stamping.stamp(event, headers, default_ttl=255, now_ns=now)))
    return records


def write_log(redis_url: str, records: list[dict[bytes, bytes]], chunk: int = 2000,
              routed_to: list[str] | None = None) -> None:
    """Write the records into the broker default/default as its ingress does, pipelined:
    with `routed_to` (the Triggers they match), by the ingress's own routed append script
    (`channels.appending`: the log and those Triggers' queues, in scripts of the ingress's
    largest batch); with None, XADDs to the log alone, for the fan-out (`ripple up
    --no-ingress-routing`)."""
    import redis
    from redis.typing import EncodableT, FieldT

    from channels import appending
    from ripple import keys

    stream = keys.broker_log("default", "default")
    client = redis.Redis.from_url(redis_url)
    try:
        if routed_to is not None:
            script = client.register_script(appending._APPEND_ROUTED)
            queues = [keys.broker_queue("default", "default", name) for name in routed_to]
            batch = appending.MAX_BATCH
            for start in range(0, len(records), chunk):
                pipe = client.pipeline(transaction=False)
                for first in range(start, min(start + chunk, len(records)), batch):
                    found, args = appending.routed_arguments(
                        [(r, queues) for r in records[first:min(first + batch, start + chunk)]])
                    script(keys=[stream, *found], args=args, client=pipe)
                pipe.execute()
            return
        for start in range(0, len(records), chunk):
            pipe = client.pipeline(transaction=False)
            for record in records[start:start + chunk]:
                # redis-py wants its own invariant dict type; a dict[bytes, bytes] is one.
                pipe.xadd(stream, cast(dict[FieldT, EncodableT], record))
            pipe.execute()
    finally:
        client.close()
