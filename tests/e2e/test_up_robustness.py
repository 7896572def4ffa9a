"""`ripple up` never wedges and never orphans, and its output can be read (issue #16).

Real `ripple up` processes, real signals, a real embedded Valkey killed with SIGKILL:
- a second `ripple up` on the same data dir is refused, naming the first, and leaves the
  first's Valkey alone;
- an unreachable store fails start-up naming its URL;
- an embedded Valkey that dies is started again and the mesh serves again;
- SIGINT and SIGTERM stop it while starting, while its store is gone and while it runs,
  leaving no process behind; and promptly while a KafkaSource's cluster is gone, while
  watches and tails are open, and within the drain while sinks hang, losing nothing;
- every bad flag is one line and exit code 2, with nothing left running;
- logs are human on a terminal and JSON otherwise;
- `make quickstart PORT=… DISPLAY_PORT=…` runs on any ports, prefixes the display's lines,
  and on a second run keeps the user's changes to the quickstart's objects.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pty
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from controllers.platforms.local import platform
from ripple import embedded
from ripple.cli import credentials
from tests.support.chaos import kill_store
from tests.support.kafka import MockCluster
from tests.support.mesh import RIPPLE, Mesh, free_port
from tests.support.prober import broker_manifest
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BROKERS = "/apis/eventing.knative.dev/v1/namespaces/default/brokers"
TRIGGERS = "/apis/eventing.knative.dev/v1/namespaces/default/triggers"


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (the embedded Valkey too: its own session, still our child)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def session_members(sid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[4]) == sid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in stderr, stderr
    return lines[0]


def as_the_user(url: str) -> urllib.request.Request:
    """A GET carrying the API token `ripple up` recorded for this user, as the CLI sends it."""
    parts = urllib.parse.urlsplit(url)
    token = credentials.lookup(f"{parts.scheme}://{parts.netloc}")
    return urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(as_the_user(url), timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(as_the_user(url), timeout=5) as r:
            obj = json.loads(r.read())
    except OSError:
        return False
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


def port_free(port: int) -> bool:
    """Nothing listens on it (connections in TIME_WAIT do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def up(*flags: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RIPPLE, "up", "--data-dir", str(data_dir), *flags], text=True,
                          capture_output=True, timeout=120)


@contextmanager
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


# --- 1. one `ripple up` per data dir ------------------------------------------------------

def test_a_second_up_on_the_same_data_dir_is_refused_and_leaves_the_first_alone(data_dir: Path) -> None:
    first = Mesh(data_dir).start()
    try:
        assert first.proc is not None
        valkey = int((data_dir / "valkey.pid").read_text())
        second = up("--port", str(free_port()), data_dir=data_dir)
        assert second.returncode == 1
        assert one_error_line(second.stderr) == (
            f"Error: data dir {data_dir} is in use by another 'ripple up' (pid {first.proc.pid}, "
            f"serving {first.url}); stop it, or give this one another --data-dir")
        assert alive(valkey) and int((data_dir / "valkey.pid").read_text()) == valkey
        first.apply(broker_manifest("still-served"))
        first.wait_ready(f"{BROKERS}/still-served", timeout=30)
        assert "reusing embedded valkey" not in first.log.read_text()
    finally:
        assert first.stop() == 0
    assert not alive(valkey)
    assert not (data_dir / "ripple.lock").exists()


# --- 2. a store that does not answer --------------------------------------------------------

def test_an_unreachable_store_fails_start_up_naming_the_url(data_dir: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    result = up("--port", str(free_port()), "--redis-url", url, data_dir=data_dir)
    assert result.returncode == 1
    assert "Ripple is up" not in result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"Error: cannot reach the store at {url}: ")
    assert "--redis-url" in line


# --- 3. the embedded Valkey dies --------------------------------------------------------------

def test_a_killed_embedded_valkey_is_restarted_and_the_mesh_serves_again(data_dir: Path) -> None:
    mesh = Mesh(data_dir, workers=2).start()
    try:
        mesh.apply(broker_manifest("before"))
        mesh.wait_ready(f"{BROKERS}/before", timeout=30)
        old = int((data_dir / "valkey.pid").read_text())
        os.kill(old, signal.SIGKILL)

        def restarted() -> bool:
            text = (data_dir / "valkey.pid").read_text().strip()
            return text.isdigit() and int(text) != old and alive(int(text))
        wait_until(restarted, timeout=60, what="a new valkey-server")
        wait_until(lambda: "embedded valkey restarted" in mesh.log.read_text(), timeout=30)
        wait_until(lambda: mesh.cli("apply", "-f", "-", input=broker_manifest("after"),
                                    check=False).returncode == 0, timeout=60, what="the API answers")
        mesh.wait_ready(f"{BROKERS}/after", timeout=60)
        assert mesh.get(f"{BROKERS}/before")["metadata"]["name"] == "before"  # the AOF was kept
        wait_until(lambda: mesh.send_event("/default/before", "e1") == 202, timeout=60,
                   what="the ingress accepts again")
        new = int((data_dir / "valkey.pid").read_text())
        log = mesh.log.read_text()
        assert "embedded valkey died; restarting" in log
    finally:
        assert mesh.stop() == 0
    assert not alive(new)


# --- 4. signals, in every state -------------------------------------------------------------

SIGNALS = [signal.SIGINT, signal.SIGTERM]


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_it_while_running_and_leaves_no_process(data_dir: Path, signum: int) -> None:
    mesh = Mesh(data_dir, workers=2).start()
    assert mesh.proc is not None
    try:
        wait_until(lambda: len(descendants(mesh.proc.pid)) >= 2, timeout=30, what="the workers and Valkey")
        below = descendants(mesh.proc.pid)
        mesh.proc.send_signal(signum)
        assert mesh.proc.wait(60) == 0
    finally:
        if mesh.proc.poll() is None:  # a failed check stops what it started
            mesh.kill()
    assert not [p for p in below if alive(p)]
    assert port_free(mesh.port)


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_it_while_its_store_is_gone(data_dir: Path, tmp_path: Path, signum: int) -> None:
    store = embedded.EmbeddedValkey(tmp_path / "store").start()
    mesh = Mesh(data_dir, workers=2, extra=["--redis-url", store.url])
    try:
        mesh.start()
        assert mesh.proc is not None
        below = descendants(mesh.proc.pid)
        kill_store(store)
        wait_until(lambda: status_of(mesh.url + BROKERS) == 503, timeout=60, what="503 without a store")
        mesh.proc.send_signal(signum)
        assert mesh.proc.wait(60) == 0
        assert not [p for p in below if alive(p)]
    finally:
        if mesh.proc is not None and mesh.proc.poll() is None:  # a failed check stops what it started
            mesh.kill()
        store.stop()


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_it_while_it_is_starting(data_dir: Path, signum: int) -> None:
    """A store that takes connections and never answers keeps `ripple up` starting (with a
    long --store-timeout) for as long as the test likes."""
    with taken_port() as silent:
        port = free_port()
        proc = subprocess.Popen([RIPPLE, "up", "--port", str(port), "--data-dir", str(data_dir),
                                 "--redis-url", f"redis://127.0.0.1:{silent}/0", "--store-timeout", "600"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: not port_free(port), timeout=60, what="ripple up bound its port")
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 128 + signum
    assert "Ripple is up" not in err and "Traceback" not in err
    assert err.strip().splitlines()[-1] == "ripple up: stopped"
    assert port_free(port)



# --- 4b. signals while what the mesh depends on is gone or hangs -----------------------------

KAFKA_SOURCE = """
apiVersion: sources.knative.dev/v1beta1
kind: KafkaSource
metadata: {{name: orders, namespace: default}}
spec:
  bootstrapServers: ["{bootstrap}"]
  topics: [orders]
  initialOffset: earliest
  sink: {{uri: "{sink}"}}
"""
STOP_BOUND = 10.0
"""Seconds a stop may take when no delivery is in flight, whatever does not answer."""


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_it_while_its_kafka_cluster_is_gone(data_dir: Path, signum: int) -> None:
    """The cluster goes while a delivered record's offset waits for its commit: aiokafka
    waits for a group coordinator without end, and such a `ripple up` did not stop at all.
    Every call to the cluster is bounded now (`sources.kafka.adapter`)."""
    with MockCluster() as cluster, RecordingSink() as sink:
        cluster.create_topic("orders", 1)
        mesh = Mesh(data_dir).start()
        assert mesh.proc is not None
        try:
            mesh.apply(KAFKA_SOURCE.format(bootstrap=cluster.bootstrap, sink=sink.url))
            mesh.wait_ready("/apis/sources.knative.dev/v1beta1/namespaces/default/kafkasources/orders",
                            timeout=30)
            below = descendants(mesh.proc.pid)
            cluster.produce("orders", b'{"order": 1}', partition=0)
            sink.wait_for(1)
            cluster.close()  # offsets are committed about every second: this one is still due
            wait_until(lambda: "Unable connect to node" in mesh.log.read_text(), timeout=30,
                       what="the consumer noticed the cluster gone")
            started = time.monotonic()
            mesh.proc.send_signal(signum)
            assert mesh.proc.wait(60) == 0
            took = time.monotonic() - started
        finally:
            if mesh.proc.poll() is None:  # a failed check stops what it started
                mesh.kill()
    assert took < STOP_BOUND, f"stopped after {took:.1f} s"
    assert not [p for p in below if alive(p)]


HANGING = """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: held, namespace: default}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: held, namespace: default}}
spec:
  broker: held
  subscriber: {{uri: "{sink}"}}
---
apiVersion: v1
kind: Secret
metadata: {{name: gh, namespace: default}}
stringData: {{token: s3cret}}
---
apiVersion: sources.knative.dev/v1alpha1
kind: GitHubSource
metadata: {{name: repo, namespace: default}}
spec:
  ownerAndRepository: o/r
  eventTypes: [push]
  secretToken: {{secretKeyRef: {{name: gh, key: token}}}}
  sink: {{uri: "{sink}"}}
"""
PUSH = b'{"ref": "refs/heads/main", "repository": {"full_name": "o/r"}}'


def watching(mesh: Mesh, path: str, connected: threading.Event, ended: list[str]) -> None:
    """A watch as a client holds one open (the console, `kubectl get -w`); `ended` says how
    it ended: "clean", or the error."""
    request = urllib.request.Request(mesh.url + path, headers=mesh.auth)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            while line := answer.readline():
                connected.set()
        ended.append("clean")
    except Exception as exc:  # what the test reports
        ended.append(repr(exc))


def test_a_signal_ends_streams_at_once_and_hanging_deliveries_within_the_drain(
        data_dir: Path, tmp_path: Path) -> None:
    """A Trigger's subscriber and a GitHubSource's sink that never answer, a watch and an
    event tail open: SIGTERM ends the streams cleanly at once (they used to hold the stop
    for uvicorn's whole graceful timeout) and the deliveries after `DRAIN_TIMEOUT`; nothing
    that got a 202 is lost: a restart delivers it."""
    answering = threading.Event()

    def hang(_request: object, _count: int) -> Answer:
        answering.wait(60)
        return Answer(200)

    with RecordingSink(hang) as sink:
        mesh = Mesh(data_dir).start()
        assert mesh.proc is not None
        tail_out = tmp_path / "tail.out"
        tail = None
        try:
            mesh.apply(HANGING.format(sink=sink.url))
            mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/triggers/held")
            source = mesh.wait_ready("/apis/sources.knative.dev/v1alpha1/namespaces/default/githubsources/repo")
            webhook = source["status"]["webhookUrl"][len(mesh.url):]
            connected, ended = threading.Event(), []
            threading.Thread(target=watching, args=(mesh, BROKERS + "?watch=true", connected, ended),
                             daemon=True).start()
            tail = subprocess.Popen([RIPPLE, "event", "tail", "broker:held"], env=dict(mesh.env, RIPPLE_SERVER=mesh.url),
                                    stdout=open(tail_out, "w"), stderr=subprocess.PIPE, text=True)
            assert connected.wait(30), "the watch did not start"
            accepted = ["d-1"]
            signature = "sha256=" + hmac.new(b"s3cret", PUSH, hashlib.sha256).hexdigest()
            assert mesh.post(webhook, PUSH, {"content-type": "application/json", "x-github-event": "push",
                                             "x-github-delivery": "d-1", "x-hub-signature-256": signature})[0] == 202

            def tail_sees_one() -> bool:  # events sent before the tail follows are not its
                accepted.append(f"held-{len(accepted)}")
                assert mesh.send_event("/default/held", accepted[-1]) == 202
                time.sleep(0.2)
                return "held-" in tail_out.read_text()
            wait_until(tail_sees_one, timeout=30, what="the tail follows the broker")
            wait_until(lambda: {"held-1", "d-1"} <= set(sink.ids()), timeout=30, what="both deliveries hang")
            hung = len(sink.received)
            below = descendants(mesh.proc.pid)
            started = time.monotonic()
            mesh.proc.send_signal(signal.SIGTERM)
            assert mesh.proc.wait(60) == 0
            took = time.monotonic() - started
            _, tail_err = tail.communicate(timeout=10)
            assert tail.returncode == 0 and "Traceback" not in tail_err, tail_err
            wait_until(lambda: ended, timeout=10, what="the watch ended")
            assert ended == ["clean"]
            assert platform.DRAIN_TIMEOUT <= took < platform.DRAIN_TIMEOUT + platform.STOP_TIMEOUT, took
            assert not [p for p in below if alive(p)]

            answering.set()
            mesh.start()
            wait_until(lambda: set(accepted) <= set(sink.ids()[hung:]), timeout=60,
                       what="every accepted event delivered after the restart")
        finally:
            answering.set()
            if tail is not None and tail.poll() is None:
                tail.kill()
            if mesh.proc.poll() is None:
                mesh.stop()

# --- 5. bad flags ------------------------------------------------------------------------------

@pytest.mark.parametrize("flags, message", [
    (["--port", "99999"], "argument --port: 99999 is not a port number (1-65535)"),
    (["--redis-url", "localhost:6379"], "argument --redis-url: 'localhost:6379' is not a Redis URL"),
    (["--log-level", "loud"], "argument --log-level: 'loud' is not a log level"),
    (["-f", "no/such/dir"], "Error: -f no/such/dir: no such file or directory"),
])
def test_a_bad_flag_is_one_line_exit_2_and_starts_nothing(data_dir: Path, flags: list[str],
                                                          message: str) -> None:
    result = up(*flags, data_dir=data_dir)
    assert result.returncode == 2
    assert message in one_error_line(result.stderr)
    assert not (data_dir / "valkey.pid").exists()


def test_a_port_in_use_is_one_line_exit_2_and_leaves_no_valkey(data_dir: Path) -> None:
    with taken_port() as port:
        result = up("--port", str(port), data_dir=data_dir)
    assert result.returncode == 2
    assert one_error_line(result.stderr) == (
        f"Error: cannot listen on 127.0.0.1:{port}: the port is in use by another process; "
        f"choose another with --port")
    assert not (data_dir / "valkey.pid").exists()  # no Valkey was started, so none is orphaned
    assert not (data_dir / "ripple.lock").exists()


def test_event_display_on_a_taken_port_is_one_line_exit_2() -> None:
    with taken_port() as port:
        result = subprocess.run([RIPPLE, "event", "display", "--port", str(port)], text=True,
                                capture_output=True, timeout=60)
    assert result.returncode == 2
    assert one_error_line(result.stderr) == (
        f"Error: cannot listen on 127.0.0.1:{port}: the port is in use by another process; "
        f"choose another with --port")


def test_log_level_is_case_insensitive(data_dir: Path) -> None:
    mesh = Mesh(data_dir, extra=["--log-level", "debug"]).start()
    try:
        wait_until(lambda: '"level": "debug", "logger": "controllers.platforms.local.platform", '
                           '"msg": "worker starting"' in mesh.log.read_text(), timeout=30, what="a debug line")
    finally:
        assert mesh.stop() == 0


# --- 6. log format -----------------------------------------------------------------------------

HUMAN = re.compile(r"^\d\d:\d\d:\d\d INFO    ripple\.up: ripple up url=http://127\.0\.0\.1:\d+ ", re.M)


def test_logs_are_human_on_a_terminal(data_dir: Path) -> None:
    master, slave = pty.openpty()
    port = free_port()
    proc = subprocess.Popen([RIPPLE, "up", "--port", str(port), "--data-dir", str(data_dir)],
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen: list[str] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every writer closed the terminal
                return
            if not chunk:
                return
            seen.append(chunk.decode("utf-8", "replace").replace("\r\n", "\n"))
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_until(lambda: status_of(f"http://127.0.0.1:{port}/healthz") == 200, timeout=60,
                   what="ripple up serves")
        text = "".join(seen)
        assert HUMAN.search(text), text
        assert '{"time"' not in text
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        reader.join(10)
        os.close(master)


def test_logs_are_json_when_not_a_terminal_or_as_chosen(data_dir: Path, tmp_path: Path) -> None:
    mesh = Mesh(data_dir).start()  # stderr is a file
    assert mesh.stop() == 0
    first = mesh.log.read_text().splitlines()[0]
    assert json.loads(first)["logger"]
    human = Mesh(tmp_path / "other", extra=["--log-format", "human"]).start()
    assert human.stop() == 0
    assert HUMAN.search(human.log.read_text())


# --- 7, 8, 9. make quickstart ----------------------------------------------------------------

class Make:
    """`make quickstart` in its own session, as a terminal's Ctrl-C would reach it."""

    def __init__(self, tmp_path: Path, data_dir: Path, port: int, display_port: int) -> None:
        self.out = tmp_path / f"make-{len(list(tmp_path.glob('make-*')))}.log"
        self.proc = subprocess.Popen(
            ["make", "--no-print-directory", "-C", str(REPO), "quickstart", f"PORT={port}",
             f"DISPLAY_PORT={display_port}", f"DATA_DIR={data_dir}"],
            stdout=open(self.out, "wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def interrupt(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)
        self.proc.wait(90)
        wait_until(lambda: not session_members(self.proc.pid), timeout=30,
                   what=f"every process of the make session gone: {session_members(self.proc.pid)}")


def test_make_quickstart_runs_on_any_ports_and_keeps_your_changes(tmp_path: Path) -> None:
    port, display_port, data_dir = free_port(), free_port(), tmp_path / "data"
    env = dict(os.environ, RIPPLE_SERVER=f"http://127.0.0.1:{port}")

    def cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([RIPPLE, *args], text=True, capture_output=True, env=env, timeout=60,
                              input=input)

    first = Make(tmp_path, data_dir, port, display_port)
    try:
        wait_until(lambda: "hello-display created" in first.text(), timeout=120,
                   what=f"make: {first.text()}")
        text = first.text()
        assert "trigger.eventing.knative.dev/hello-display created" in text
        assert f"event display on :{display_port}" in text
        assert f"export RIPPLE_SERVER=http://127.0.0.1:{port}" in text
        wait_until(lambda: ready(f"http://127.0.0.1:{port}{TRIGGERS}/hello-display"), timeout=60,
                   what="the quickstart's Trigger is Ready")
        sent = cli("event", "send", "--to", "broker:default", "--type", "dev.example.hello",
                   "--source", "/me", "--data", '{"msg":"hi"}')
        assert sent.returncode == 0, sent.stderr
        wait_until(lambda: "display |   type: dev.example.hello" in first.text(), timeout=60,
                   what="the display printed the event")
        lines = first.text().splitlines()
        start = lines.index("display | ☁️  cloudevents.Event")
        assert all(line.startswith("display | ") for line in lines[start:start + 6])
        # The user points the Trigger at another type.
        changed = json.dumps({
            "apiVersion": "eventing.knative.dev/v1", "kind": "Trigger",
            "metadata": {"name": "hello-display", "namespace": "default"},
            "spec": {"broker": "default", "filter": {"attributes": {"type": "dev.example.mine"}},
                     "subscriber": {"uri": f"http://127.0.0.1:{display_port}/"}}})
        assert cli("apply", "-f", "-", input=changed).returncode == 0
    finally:
        first.interrupt()
    assert port_free(port) and port_free(display_port)
    assert not (data_dir / "ripple.lock").exists()

    second = Make(tmp_path, data_dir, port, display_port)
    try:
        wait_until(lambda: "hello-display kept" in second.text(), timeout=120,
                   what=f"make: {second.text()}")
        text = second.text()
        assert "broker.eventing.knative.dev/default unchanged" in text
        assert ("trigger.eventing.knative.dev/hello-display kept (differs from the manifest: "
                "spec.filter.attributes.type; left as you changed it)") in text
        trigger = json.loads(cli("get", "trigger", "hello-display", "-o", "json").stdout)
        assert "dev.example.mine" in json.dumps(trigger["spec"])
    finally:
        second.interrupt()
    assert port_free(port) and port_free(display_port)
