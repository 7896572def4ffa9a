"""Issue #13's operations end to end: replay of a Broker's retained log (and Ctrl-C on it),
and the trace of one event, through `ripple up` and the CLI."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis

from ripple import keys
from tests.e2e.test_dlq import queue_is_idle
from tests.support.mesh import RIPPLE, Mesh
from tests.support.sinks import Answer, Received, RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

EVENTING = "/apis/eventing.knative.dev/v1/namespaces/default"


def test_replay_within_the_retention_window(mesh: Mesh) -> None:
    with RecordingSink() as orders, RecordingSink() as audits:
        mesh.apply(f"""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: replayed
  namespace: default
  annotations: {{ripple.dev/retention: 24h}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: orders, namespace: default}}
spec:
  broker: replayed
  filter: {{attributes: {{type: dev.example.order}}}}
  subscriber: {{uri: '{orders.url}'}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: audits, namespace: default}}
spec:
  broker: replayed
  filter: {{attributes: {{type: dev.example.audit}}}}
  subscriber: {{uri: '{audits.url}'}}
""")
        mesh.wait_ready(f"{EVENTING}/triggers/orders")
        mesh.wait_ready(f"{EVENTING}/triggers/audits")
        for n in range(3):
            assert mesh.send_event("/default/replayed", f"order-{n}", type="dev.example.order") == 202
        assert mesh.send_event("/default/replayed", "audit-0", type="dev.example.audit") == 202
        orders.wait_for(3)
        audits.wait_for(1)
        assert not any("ripplereplay" in r.ce for r in orders.received + audits.received)

        # Through one Trigger: only its events (its filter applies), each marked as replayed.
        done = mesh.cli("event", "replay", "broker:replayed", "--since", "10m", "--trigger", "orders")
        assert "3 event(s) enqueued" in done.stdout, done.stdout
        again = orders.wait_for(6)[3:]
        assert sorted(r.ce["id"] for r in again) == ["order-0", "order-1", "order-2"]
        replay_id = again[0].ce["ripplereplay"]
        assert replay_id.startswith("replay-") and {r.ce["ripplereplay"] for r in again} == {replay_id}

        # Every Trigger, narrowed by type: the audit alone, with a new replay id.
        done = mesh.cli("event", "replay", "broker:replayed", "--since", "10m", "--type", "dev.example.audit")
        assert "1 event(s) enqueued" in done.stdout, done.stdout
        audit = audits.wait_for(2)[1]
        assert audit.ce["id"] == "audit-0" and audit.ce["ripplereplay"] not in ("", replay_id)
        assert len(orders.received) == 6

        # A window after the events replays nothing; bad input is one line naming the flag.
        done = mesh.cli("event", "replay", "broker:replayed", "--since", "10m", "--until", "0s",
                        "--type", "dev.example.none")
        assert "0 event(s) enqueued" in done.stdout
        bad = mesh.cli("event", "replay", "broker:replayed", "--since", "yesterday", check=False)
        assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0
        assert "--since" in bad.stderr and "yesterday" in bad.stderr
        missing = mesh.cli("event", "replay", "broker:replayed", "--since", "1m", "--trigger", "nope",
                           check=False)
        assert missing.returncode == 1 and "nope" in missing.stderr


def test_retention_annotation_is_validated(mesh: Mesh) -> None:
    bad = mesh.cli("apply", "-f", "-", check=False, input="""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: badretention
  namespace: default
  annotations: {ripple.dev/retention: forever}
""")
    assert bad.returncode == 1
    assert "metadata.annotations[ripple.dev/retention]" in bad.stderr or "ripple.dev/retention" in bad.stderr


def _appender(suffix: str, *, new_id: str | None = None, new_type: str | None = None, fail_first: bool = False):
    """A step that replies with the event (a new id and type when given), its data extended."""
    def answer(request: Received, n: int) -> Answer:
        if fail_first and n == 0:
            return Answer(503)
        headers = {f"ce-{k}": v for k, v in request.ce.items() if k != "traceparent"}
        if new_id:
            headers["ce-id"] = new_id
        if new_type:
            headers["ce-type"] = new_type
        headers["content-type"] = request.headers.get("content-type", "text/plain")
        return Answer(200, request.body + suffix.encode(), headers)
    return answer


def _trace(mesh: Mesh, event_id: str) -> dict:
    return json.loads(mesh.cli("event", "trace", event_id, "-o", "json").stdout)


def test_trace_across_a_trigger_a_sequence_and_its_reply(mesh: Mesh) -> None:
    with RecordingSink(_appender("-one", fail_first=True)) as one, \
            RecordingSink(_appender("-two", new_id="tr-1-done", new_type="dev.example.done")) as two, \
            RecordingSink() as done, RecordingSink() as others:
        mesh.apply(f"""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: traced, namespace: default}}
---
apiVersion: flows.knative.dev/v1
kind: Sequence
metadata: {{name: tseq, namespace: default}}
spec:
  steps:
    - uri: {one.url}
      delivery: {{retry: 2, backoffPolicy: exponential, backoffDelay: PT0.1S}}
    - uri: {two.url}
  reply: {{ref: {{apiVersion: eventing.knative.dev/v1, kind: Broker, name: traced}}}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: to-seq, namespace: default}}
spec:
  broker: traced
  filter: {{attributes: {{type: dev.example.traced}}}}
  subscriber: {{ref: {{apiVersion: flows.knative.dev/v1, kind: Sequence, name: tseq}}}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: finished, namespace: default}}
spec:
  broker: traced
  filter: {{attributes: {{type: dev.example.done}}}}
  subscriber: {{uri: '{done.url}'}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: others, namespace: default}}
spec:
  broker: traced
  filter: {{attributes: {{type: dev.example.other}}}}
  subscriber: {{uri: '{others.url}'}}
""")
        mesh.wait_ready("/apis/flows.knative.dev/v1/namespaces/default/sequences/tseq", timeout=30)
        for name in ("to-seq", "finished", "others"):
            mesh.wait_ready(f"{EVENTING}/triggers/{name}", timeout=30)
        parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        assert mesh.send_event("/default/traced", "tr-1", type="dev.example.traced",
                               extensions={"traceparent": parent}) == 202
        assert done.wait_for(1)[0].ce["id"] == "tr-1-done"

        def complete() -> dict | None:
            document = _trace(mesh, "tr-1")
            replies = document["replies"]
            finished = replies and any(h.get("target") == "Trigger/default/finished"
                                       for h in replies[0]["hops"])
            return document if finished else None

        wait_until(complete, what="the whole chain in the trace")
        document = _trace(mesh, "tr-1")
        assert (document["id"], document["source"], document["type"]) == ("tr-1", "/tests", "dev.example.traced")
        hops = document["hops"]
        accepted = hops[0]
        assert accepted["hop"] == "accepted" and accepted["log"] == "broker:default/traced"
        assert accepted["matched"] == ["to-seq"] and accepted["not_matched"] == ["finished", "others"]
        trigger = next(h for h in hops if h.get("target") == "Trigger/default/to-seq")
        assert trigger["status"] == 202 and trigger["outcome"] == "delivered" and trigger["latency"] >= 0
        step0 = [h for h in hops if h.get("target") == "Subscription/default/tseq-kn-sequence-0"
                 and h["phase"] == "subscriber"]
        assert [(h["attempt"], h["status"], h["outcome"]) for h in step0] == [
            (1, 503, "retry"), (2, 200, "replied")]
        assert step0[0]["delay"] > 0
        assert step0[1]["flow"] == {"kind": "Sequence", "name": "tseq", "step": "step 0"}
        channels = [h["log"] for h in hops if h["hop"] == "accepted"]
        assert channels == ["broker:default/traced", "channel:default/tseq-kn-sequence-0",
                            "channel:default/tseq-kn-sequence-1"]
        step1 = next(h for h in hops if h.get("target") == "Subscription/default/tseq-kn-sequence-1")
        assert step1["reply"] == {"id": "tr-1-done", "source": "/tests", "type": "dev.example.done"}

        [reply] = document["replies"]
        assert reply["id"] == "tr-1-done" and reply["outcome"] == "delivered"
        back = [h for h in reply["hops"] if h["hop"] == "accepted"]
        assert back[0]["log"] == "broker:default/traced" and back[0]["matched"] == ["finished"]
        final = next(h for h in reply["hops"] if h.get("target") == "Trigger/default/finished")
        assert final["status"] == 200 and final["outcome"] == "delivered"

        text = mesh.cli("event", "trace", "tr-1").stdout
        assert text.startswith("Event tr-1  (source /tests, type dev.example.traced)")
        assert "did not match: finished, others" in text and "failed, will retry in" in text
        assert "(Sequence tseq, step 0)" in text and "  Reply tr-1-done" in text

        missing = mesh.cli("event", "trace", "no-such-event", check=False)
        assert missing.returncode == 1 and "no trace of event 'no-such-event'" in missing.stderr


PAGE = 256  # `broker.replaying.PAGE`: the replay enqueues whole pages
LOGGED = PAGE * 80


def test_ctrl_c_stops_a_replay_between_pages(data_dir: Path) -> None:
    """Ctrl-C (SIGINT) on `ripple event replay`: the CLI exits 130 at once with one line and
    no traceback; the server ends the replay at a page boundary and logs the exact count;
    every copy enqueued is delivered once to the (slow) subscriber, and nothing more.

    The server is frozen (SIGSTOP) as soon as the first progress line reaches the test, so
    that the 80-page replay is still under way when the SIGINT lands, however loaded the
    machine; it resumes (SIGCONT) once the CLI has exited, and finds its client gone."""
    mesh = Mesh(data_dir).start()
    slow = RecordingSink(lambda r, n: (time.sleep(0.002), Answer(202))[1])
    try:
        with slow:
            logged_broker(mesh, LOGGED, slow)
            cli = subprocess.Popen([RIPPLE, "event", "replay", "broker:big", "--since", "1h",
                                    "--trigger", "slow"], env=dict(mesh.env, RIPPLE_SERVER=mesh.url),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert cli.stderr is not None
            first = cli.stderr.readline()
            assert mesh.proc is not None
            os.kill(mesh.proc.pid, signal.SIGSTOP)
            try:
                assert "replayed" in first, first
                interrupted = time.monotonic()
                cli.send_signal(signal.SIGINT)
                out, err = cli.communicate(timeout=30)
                exited = time.monotonic() - interrupted
            finally:
                os.kill(mesh.proc.pid, signal.SIGCONT)
            assert cli.returncode == 130, (out, err)
            assert "Traceback" not in err and err.count("\n") <= LOGGED // PAGE, err
            [line] = out.splitlines()
            assert " stopped by Ctrl-C: the " in line and "nothing more is enqueued" in line, line
            replay_id = line.split()[1]
            shown = int(line.split(" stopped by Ctrl-C: the ")[1].split()[0])

            stopped: list[dict] = []

            def logged() -> bool:
                stopped[:] = [r for r in (json.loads(line) for line in mesh.log.read_text().splitlines()
                                          if '"replay stopped by its client"' in line)
                              if r.get("replay") == replay_id]
                return bool(stopped)
            wait_until(logged, what="the server's line for the stopped replay")
            enqueued = stopped[0]["enqueued"]
            assert enqueued % PAGE == 0 and shown <= enqueued < LOGGED, (shown, enqueued)
            print(f"\nCtrl-C: the CLI exited {exited:.3f} s after SIGINT; it saw {shown} copies "
                  f"enqueued, the server enqueued {enqueued} of {LOGGED}")

            def replayed() -> int:
                return sum(1 for r in slow.received if r.ce.get("ripplereplay") == replay_id)
            wait_until(lambda: replayed() >= enqueued, timeout=60, what=f"{enqueued} copies delivered")
            wait_until(lambda: queue_is_idle(mesh, "trigger", "slow"), timeout=30,
                       what="the Trigger's queue drained")
            assert replayed() == enqueued  # each once, and nothing past the stop
    finally:
        mesh.stop()


def logged_broker(mesh: Mesh, count: int, sink: RecordingSink) -> None:
    """The Broker `big` with `count` events in its log, all read by its fan-out, then the
    Trigger `slow` to `sink`: so that the Trigger gets the replayed copies alone (a Broker
    hands an event to the Triggers that exist when its fan-out reads it)."""
    mesh.apply("""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: big, namespace: default, annotations: {ripple.dev/retention: 24h}}
""")
    mesh.wait_ready(f"{EVENTING}/brokers/big")
    for batch in range(count // 512):
        events = [{"specversion": "1.0", "id": f"b{batch}-{i}", "source": "/load",
                   "type": "dev.example.load", "data": {"n": i}} for i in range(512)]
        status, _, body = mesh.post("/default/big", json.dumps(events).encode(),
                                    {"content-type": "application/cloudevents-batch+json"})
        assert status == 202, body
    wait_until(lambda: fanout_done(mesh, "big"), timeout=60, what="the fan-out read the log")
    mesh.apply(f"""
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: slow, namespace: default}}
spec:
  broker: big
  subscriber: {{uri: '{sink.url}'}}
""")
    mesh.wait_ready(f"{EVENTING}/triggers/slow")


def test_ctrl_c_in_a_terminal_ends_the_progress_bar_with_one_line(data_dir: Path) -> None:
    """The same Ctrl-C typed in a terminal: `ripple event replay` runs on a pseudo-terminal
    (its own session, the terminal's foreground), draws its progress bar in place (`\\r`),
    and the ^C the terminal turns into SIGINT ends the bar's line, prints the stopped line
    and exits 130, with no traceback. The server is frozen after the first progress, as
    above, so that the replay is certainly under way."""
    mesh = Mesh(data_dir).start()
    slow = RecordingSink(lambda r, n: (time.sleep(0.002), Answer(202))[1])
    try:
        with slow:
            logged_broker(mesh, LOGGED // 2, slow)
            pid, terminal = pty.fork()
            if pid == 0:  # the child: exec at once
                os.execve(RIPPLE, [RIPPLE, "event", "replay", "broker:big", "--since", "1h", "--trigger", "slow"],
                          dict(mesh.env, RIPPLE_SERVER=mesh.url))
            screen = b""
            assert mesh.proc is not None
            try:
                while b"\r" not in screen or b"replayed" not in screen:
                    screen += _read(terminal)
                os.kill(mesh.proc.pid, signal.SIGSTOP)
                os.write(terminal, b"\x03")  # Ctrl-C, as typed
                while chunk := _read(terminal):
                    screen += chunk
                _, status = os.waitpid(pid, 0)
            finally:
                os.kill(mesh.proc.pid, signal.SIGCONT)
                os.close(terminal)
            text = screen.decode(errors="replace")
            assert os.waitstatus_to_exitcode(status) == 130, text
            assert "Traceback" not in text, text
            # The terminal shows "\r\n" for each "\n": the bar's last redraw, the echoed ^C, then
            # the line that ends the bar and the stopped line.
            shown = text.replace("\r\n", "\n").rstrip("\n").split("\n")
            bar = shown[0].rsplit("\r", 1)[-1]
            assert re.fullmatch(r"\[[#.]{30}\]\s+\d+%  \d+ replayed, \d+ read(\^C)?", bar), text
            assert "100%" not in bar, text  # a page or a few of forty: not through
            assert len(shown) == 2 and " stopped by Ctrl-C: the " in shown[1], text
    finally:
        mesh.stop()


def _read(terminal: int) -> bytes:
    """What the terminal shows next; b"" once the program has exited and closed it."""
    ready, _, _ = select.select([terminal], [], [], 60)
    assert ready, "the terminal showed nothing for 60 s"
    try:
        return os.read(terminal, 4096)
    except OSError:  # EIO: the other side is closed
        return b""


def fanout_done(mesh: Mesh, broker: str) -> bool:
    """The Broker's fan-out group has read and acknowledged its whole log (read from the
    store `ripple up` named in its first log line)."""
    [url] = re.findall(r"\(store (redis://[^ ,]+)", mesh.log.read_text())[:1]
    with redis.Redis.from_url(url) as client:
        groups = client.xinfo_groups(keys.broker_log("default", broker))
    return any(g["name"] == keys.FANOUT_GROUP.encode() and g["lag"] == 0 and g["pending"] == 0
               for g in groups)
