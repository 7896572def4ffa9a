"""Issue #16's CLI verbs end to end: a real `ripple up`, the real `ripple` console script as
processes, real HTTP sinks. kn-plugin-event's `event send` forms, `event tail` on a channel,
`--wait` and `ripple wait` against the real controller's Ready."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time

import pytest

from tests.support.mesh import RIPPLE, Mesh
from tests.support.sinks import RecordingSink

pytestmark = pytest.mark.e2e


def test_event_send_kn_forms_reach_the_subscriber(mesh: Mesh) -> None:
    with RecordingSink() as sink:
        created = mesh.cli("broker", "create", "kn-b", "--wait").stdout
        assert created.endswith("broker.eventing.knative.dev/kn-b condition met\n")
        mesh.cli("trigger", "create", "kn-t", "--broker", "kn-b", "--sink", sink.url,
                 "--wait", "--wait-timeout", "60s")
        sent = mesh.cli("event", "send", "--to", "Broker:eventing.knative.dev/v1:kn-b",
                        "--id", "kn-1", "-f", "player.id=p1", "-f", "player.game=2345",
                        "--field", "points=456", "-f", "ok=true").stdout
        assert sent.startswith(f"Event sent to {mesh.url}/default/kn-b: id=kn-1, status 202")
        mesh.cli("event", "send", "--to-url", f"{mesh.url}/default/kn-b", "--id", "kn-2",
                 "--type", "org.example.gaming.foo", "--source", "/game")
        first, second = sorted(sink.wait_for(2), key=lambda r: r.ce["id"])
        assert first.ce["type"] == "dev.knative.cli.plugin.event.generic"
        assert first.ce["source"].startswith("ripple-event/v")
        assert json.loads(first.body) == {"player": {"id": "p1", "game": 2345}, "points": 456,
                                          "ok": True}
        assert (second.ce["type"], second.ce["source"], json.loads(second.body)) == (
            "org.example.gaming.foo", "/game", {})


def test_wait_for_condition_ready_on_the_real_controller(mesh: Mesh) -> None:
    mesh.cli("broker", "create", "waited")
    out = mesh.cli("wait", "broker", "waited", "--for", "condition=Ready", "--timeout", "60s")
    assert out.stdout == "broker.eventing.knative.dev/waited condition met\n"
    missing = mesh.cli("wait", "broker", "nope", "--for", "condition=Ready", check=False)
    assert missing.returncode == 1 and missing.stderr.startswith("Error: ")
    applied = mesh.cli("apply", "-f", "-", "--wait", "--timeout", "60s", input=(
        "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: applied}\n"
        "---\napiVersion: messaging.knative.dev/v1\nkind: InMemoryChannel\n"
        "metadata: {name: applied-imc}\n")).stdout
    assert applied.splitlines() == [
        "broker.eventing.knative.dev/applied created",
        "inmemorychannel.messaging.knative.dev/applied-imc created",
        "broker.eventing.knative.dev/applied condition met",
        "inmemorychannel.messaging.knative.dev/applied-imc condition met"]
    ready = mesh.get("/apis/eventing.knative.dev/v1/namespaces/default/brokers/applied")
    assert {"type": "Ready", "status": "True"}.items() <= next(
        c for c in ready["status"]["conditions"] if c["type"] == "Ready").items()
    wide = mesh.cli("get", "brokers", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:4] == ["NAME", "URL", "AGE", "CLASS"]
    names = mesh.cli("get", "brokers", "-o", "jsonpath={.items[*].metadata.name}").stdout
    assert "waited" in names.split()


def test_event_tail_follows_a_channel(mesh: Mesh) -> None:
    with RecordingSink() as sink:
        mesh.cli("channel", "create", "tailed-ch", "--wait")
        mesh.cli("subscription", "create", "tailed-sub", "--channel", "tailed-ch",
                 "--sink", sink.url, "--wait")
        tail = subprocess.Popen([RIPPLE, "event", "tail", "channel:tailed-ch", "-o", "json"],
                                env=dict(mesh.env, RIPPLE_SERVER=mesh.url),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            for text in tail.stdout:  # type: ignore[union-attr]
                lines.put(text)
        threading.Thread(target=read, daemon=True).start()
        try:
            # A tail follows from the moment it first reads the log, which the test cannot
            # see: send until an event shows up, each with its own id.
            deadline, sent, line = time.monotonic() + 30, list[str](), ""
            while not line:
                assert tail.poll() is None, tail.stderr.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the tail printed nothing"
                sent.append(f"ch-{len(sent)}")
                mesh.cli("event", "send", "--to", "channel:tailed-ch", "--id", sent[-1],
                         "--type", "tail.channel")
                with contextlib.suppress(queue.Empty):
                    line = lines.get(timeout=0.5)
            event = json.loads(line)
            assert event["id"] in sent and event["type"] == "tail.channel"
            sink.wait_for(len(sent))  # the tail took nothing from the subscribers
        finally:
            tail.terminate()
            tail.wait(5)


def complete_in_bash(words: list[str]) -> list[str]:
    """What bash offers for the last word, with the script `ripple completion bash` wrote."""
    line = " ".join(words)
    script = (f'source <("{RIPPLE}" completion bash); COMP_WORDS=({line}); '
              f'COMP_CWORD={len(words) - 1}; COMP_LINE="{line}"; COMP_POINT=${{#COMP_LINE}}; '
              '_shtab_ripple; printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_version_bare_help_and_bash_completion_as_processes() -> None:
    version = subprocess.run([RIPPLE, "--version"], capture_output=True, text=True, timeout=60)
    assert (version.returncode, version.stdout.startswith("ripple ")) == (0, True)
    bare = subprocess.run([RIPPLE], capture_output=True, text=True, timeout=60)
    assert bare.returncode == 0 and bare.stdout.startswith("usage: ripple")
    assert complete_in_bash(["ripple", "tri"]) == ["trigger"]
    assert complete_in_bash(["ripple", "event", "send", "--to-"]) == ["--to-url"]
    assert "--all" in complete_in_bash(["ripple", "delete", "--a"])
