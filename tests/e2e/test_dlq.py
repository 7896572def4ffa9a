"""Nothing silently dropped, end to end: a subscriber that fails for good leaves its events
in Ripple's dead-letter store, `ripple dlq` shows them, and once the subscriber is fixed a
redrive delivers them and empties the store, even with a `kill -9` in the middle."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.mesh import RIPPLE, Mesh
from tests.support.sinks import Answer, RecordingSink
from tests.support.manifests import broker_and_trigger
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

TRIGGERS = "/apis/eventing.knative.dev/v1/namespaces/default/triggers"


HELD = """
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: held, namespace: default}
spec:
  broker: dlqb
  subscriber: {ref: {apiVersion: eventing.knative.dev/v1, kind: Broker, name: not-there}}
"""


def dead_letters(mesh: Mesh, *scope: str) -> list[dict]:
    return json.loads(mesh.cli("dlq", "list", *scope, "-o", "json").stdout)


class Switch:
    """A subscriber that answers 500 until it is fixed."""

    def __init__(self) -> None:
        self.fixed = False

    def __call__(self, _request, _n) -> Answer:
        return Answer(202 if self.fixed else 500, b"" if self.fixed else b'{"error": "broken"}')


def test_failing_subscriber_then_list_then_fix_then_redrive(mesh: Mesh) -> None:
    subscriber = Switch()
    with RecordingSink(subscriber) as sink:
        mesh.apply(broker_and_trigger("dlqb", "broken", sink.url + "/in", retry=2) + HELD)
        mesh.wait_ready(f"{TRIGGERS}/broken")
        for i in range(3):
            assert mesh.send_event("/default/dlqb", f"d-{i}", type="dev.example.dlq") == 202
        wait_until(lambda: len(dead_letters(mesh, "trigger:broken")) == 3, timeout=30,
                   what="three dead letters")
        assert len(sink.received) == 9  # three attempts each
        entries = dead_letters(mesh, "trigger:broken")
        assert sorted(e["event"]["id"] for e in entries) == ["d-0", "d-1", "d-2"]
        first = entries[0]
        assert first["target"] == "trigger:broken" and first["code"] == 500 and first["attempts"] == 3
        assert first["destination"] == sink.url + "/in"
        assert first["event"]["knativeerrorcode"] == "500"
        assert first["event"]["knativeerrordest"] == sink.url + "/in"
        assert first["event"]["type"] == "dev.example.dlq" and first["event"]["data"] == {"n": 1}
        assert {e["id"] for e in dead_letters(mesh, "broker:dlqb")} == {e["id"] for e in entries}

        table = mesh.cli("dlq", "list").stdout
        assert "trigger:broken" in table and "dev.example.dlq" in table and "500" in table
        shown = mesh.cli("dlq", "show", "d-1").stdout  # by event id
        assert "Target:       trigger:broken" in shown and '"id": "d-1"' in shown
        described = mesh.cli("describe", "trigger", "broken").stdout
        assert "Dead letters: 3" in described and "Last error: 500 from " + sink.url in described
        # every failed attempt of the queue's first window was logged with its facts
        failed = [json.loads(line) for line in mesh.log.read_text().splitlines()
                  if '"delivery attempt failed' in line and "Trigger/default/broken" in line]
        assert failed and failed[0]["code"] == 500 and failed[0]["destination"] == sink.url + "/in"

        # the Trigger whose subscriber does not resolve holds its events in its queue
        wide = mesh.cli("get", "triggers", "-o", "wide").stdout.splitlines()
        at = wide[0].index("BACKLOG")  # a left-aligned column: its cells start where it does
        assert {line.split()[0]: line[at:].split()[0] for line in wide[1:]}["held"] == "3"
        assert "Backlog:    3" in mesh.cli("describe", "trigger", "held").stdout

        subscriber.fixed = True
        out = mesh.cli("dlq", "redrive", "trigger:broken", "--all").stdout
        assert "3 dead letter(s) back in their queue" in out
        wait_until(lambda: sorted(r.ce["id"] for r in sink.received[9:]) == ["d-0", "d-1", "d-2"],
                   timeout=30, what="the redriven events delivered")
        assert dead_letters(mesh) == []
        assert "Dead letters: 0 (3 in all)" in mesh.cli("describe", "trigger", "broken").stdout


def test_redrive_by_id_to_another_sink_and_purge(mesh: Mesh) -> None:
    with RecordingSink(lambda r, n: Answer(400)) as sink, RecordingSink() as other:
        mesh.apply(broker_and_trigger("dlqc", "refused", sink.url, retry=0))
        mesh.wait_ready(f"{TRIGGERS}/refused")
        for i in range(3):
            assert mesh.send_event("/default/dlqc", f"p-{i}") == 202
        wait_until(lambda: len(dead_letters(mesh, "trigger:refused")) == 3, timeout=30)
        chosen = dead_letters(mesh, "trigger:refused")[0]
        out = mesh.cli("dlq", "redrive", "trigger:refused", chosen["id"], "--to", other.url).stdout
        assert f"redriven trigger:refused {chosen['id']}" in out
        wait_until(lambda: [r.ce["id"] for r in other.received] == [chosen["event"]["id"]], timeout=30)
        missing = mesh.cli("dlq", "redrive", "trigger:refused", "no-such-id", check=False)
        assert missing.returncode == 1 and "no dead letter with the id(s): no-such-id" in missing.stderr

        refused = mesh.cli("dlq", "purge", "broker:dlqc", input="n\n", check=False)
        assert refused.returncode == 1 and "Purge all 2 dead letter(s) of broker:dlqc?" in refused.stderr
        assert len(dead_letters(mesh, "broker:dlqc")) == 2
        assert "2 dead letter(s) purged" in mesh.cli("dlq", "purge", "broker:dlqc", "--yes").stdout
        assert dead_letters(mesh, "broker:dlqc") == []

        bad = mesh.cli("dlq", "list", "trigger:nope", check=False)
        assert bad.returncode == 1 and bad.stderr.startswith("Error: ") and "nope" in bad.stderr
        both = mesh.cli("dlq", "redrive", "--all", "1-0", check=False)
        assert both.returncode == 1 and "--all" in both.stderr


def test_kill_9_during_a_redrive_loses_nothing(data_dir: Path) -> None:
    subscriber = Switch()
    ids = [f"k-{i}" for i in range(200)]
    with RecordingSink(subscriber) as sink:
        mesh = Mesh(data_dir).start()
        try:
            mesh.apply(broker_and_trigger("killb", "killed", sink.url, retry=0))
            mesh.wait_ready(f"{TRIGGERS}/killed")
            for event_id in ids:
                assert mesh.send_event("/default/killb", event_id) == 202
            wait_until(lambda: len(dead_letters(mesh)) == len(ids), timeout=60, what="all dead-lettered")
            failed = len(sink.received)
            subscriber.fixed = True
            redrive = subprocess.Popen([RIPPLE, "--server", mesh.url, "dlq", "redrive", "--all"],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            wait_until(lambda: len(sink.received) > failed, timeout=30, what="redriven deliveries begin")
            mesh.kill()  # deliveries of the redriven events in flight, the rest in the queue
            redrive.wait(30)
            mesh.start()
            # at least once: every event is delivered after the redrive, or still in the store
            wait_until(lambda: set(ids) <= {r.ce["id"] for r in sink.received[failed:]}
                       | {e["event"]["id"] for e in dead_letters(mesh)}, timeout=60, what="nothing lost")
            mesh.cli("dlq", "redrive", "--all", check=False)  # whatever the kill left in the store
            wait_until(lambda: set(ids) <= {r.ce["id"] for r in sink.received[failed:]}, timeout=60,
                       what="every event delivered")
            assert dead_letters(mesh) == []
        finally:
            mesh.stop()


def test_a_reply_out_of_hops_is_kept_not_dropped(mesh: Mesh) -> None:
    reply = Answer(200, b"{}", {"ce-specversion": "1.0", "ce-id": "r-1", "ce-source": "/pong",
                                "ce-type": "dev.example.pong", "content-type": "application/json"})
    with RecordingSink(lambda r, n: reply) as sink:
        mesh.apply(broker_and_trigger("hops", "pong", sink.url, retry=0))
        mesh.wait_ready(f"{TRIGGERS}/pong")
        # two hops: the event takes one; its reply would need another, and the broker refuses it (400)
        assert mesh.send_event("/default/hops", "ttl-1", extensions={"knativebrokerttl": "2"}) == 202
        wait_until(lambda: len(dead_letters(mesh, "trigger:pong")) == 1, timeout=30)
        [entry] = dead_letters(mesh, "trigger:pong")
        assert entry["event"]["id"] == "ttl-1" and entry["code"] == 400  # the original, as Knative
        assert entry["destination"] == f"{mesh.url}/default/hops"
        assert entry["reason"] == f"reply refused by {mesh.url}/default/hops: HTTP 400"


PING = """
apiVersion: sources.knative.dev/v1
kind: PingSource
metadata: {{name: beat, namespace: default}}
spec:
  schedule: "{schedule}"
  contentType: application/json
  data: '{{"beat": true}}'
  sink: {{uri: "{sink}"}}
"""


GITLAB = """
apiVersion: v1
kind: Secret
metadata: {{name: gl, namespace: default}}
stringData: {{token: t0ken}}
---
apiVersion: sources.knative.dev/v1alpha1
kind: GitLabSource
metadata: {{name: project, namespace: default}}
spec:
  projectUrl: https://gitlab.example/group/project
  eventTypes: [push_events]
  secretToken: {{secretKeyRef: {{name: gl, key: token}}}}
  sink: {{uri: "{sink}"}}
"""


def test_a_ping_that_fails_for_good_is_kept_then_redriven_once(data_dir: Path) -> None:
    """A PingSource's event, and a webhook's, get their 12 retries (`sources.plane.
    SOURCE_RETRY`; the backoff capped at 50 ms so that they take a second, not minutes),
    then land in the source's store; once the sink is fixed, a redrive delivers the ping
    once."""
    subscriber = Switch()
    with RecordingSink(subscriber) as sink:
        mesh = Mesh(data_dir, extra=["--delivery-backoff-max", "50ms"]).start()
        try:
            mesh.apply(GITLAB.format(sink=sink.url))
            source = mesh.wait_ready("/apis/sources.knative.dev/v1alpha1/namespaces/default/"
                                     "gitlabsources/project")
            hook = {"content-type": "application/json", "x-gitlab-event": "Push Hook",
                    "x-gitlab-event-uuid": "u-1", "x-gitlab-token": "t0ken"}
            assert mesh.post(source["status"]["webhookUrl"][len(mesh.url):],
                             b'{"object_kind": "push"}', hook)[0] == 202
            wait_until(lambda: dead_letters(mesh, "gitlabsource:project"), timeout=30,
                       what="the webhook's event in the GitLabSource's store")
            [pushed] = dead_letters(mesh, "gitlabsource:project")
            assert pushed["event"]["id"] == "u-1" and pushed["attempts"] == 13
            assert pushed["event"]["type"] == "dev.knative.sources.gitlab.push"

            mesh.apply(PING.format(schedule="* * * * * *", sink=sink.url))  # every second
            wait_until(lambda: dead_letters(mesh, "pingsource:beat"), timeout=30,
                       what="a ping in the PingSource's store")
            mesh.apply(PING.format(schedule="0 0 1 1 *", sink=sink.url))  # no more ticks this year
            first = dead_letters(mesh, "pingsource:beat")[0]
            event = first["event"]
            assert first["target"] == "pingsource:beat" and first["attempts"] == 13
            assert (first["code"], first["destination"], first["reason"]) == (500, sink.url, "HTTP 500")
            assert event["type"] == "dev.knative.sources.ping" and event["data"] == {"beat": True}
            assert event["source"] == "/apis/v1/namespaces/default/pingsources/beat"
            assert event["knativeerrorcode"] == "500" and event["knativeerrordest"] == sink.url
            assert [r.ce["id"] for r in sink.received].count(event["id"]) == 13
            assert "pingsource:beat" in mesh.cli("dlq", "list").stdout

            subscriber.fixed = True
            out = mesh.cli("dlq", "redrive", "pingsource:beat", first["id"]).stdout
            assert f"redriven pingsource:beat {first['id']}" in out
            wait_until(lambda: [r.ce["id"] for r in sink.received].count(event["id"]) == 14,
                       timeout=30, what="the redriven ping delivered")
            # every tick that fired is delivered or kept by now: nothing is left to send
            wait_until(lambda: queue_is_idle(mesh, "pingsource", "beat"), timeout=30,
                       what="the PingSource's queue drained")
            assert [r.ce["id"] for r in sink.received].count(event["id"]) == 14  # once
            assert first["id"] not in {e["id"] for e in dead_letters(mesh, "pingsource:beat")}
        finally:
            mesh.stop()


def queue_is_idle(mesh: Mesh, kind: str, name: str) -> bool:
    status, _, body = mesh.request("GET", f"/apis/ripple.dev/v1/namespaces/default/deliverystats"
                                          f"?target={kind}:{name}")
    assert status == 200, body
    [stats] = json.loads(body)["items"]
    return stats["backlog"] == stats["inFlight"] == stats["retries"] == 0


def test_a_dead_letter_sink_that_fails_too_leaves_the_event_in_the_store(mesh: Mesh) -> None:
    """The subscriber refuses (400, not retried), the Trigger's dead-letter sink answers 500
    to both of its attempts: the store keeps the original with what the sink would have been
    told, and says why."""
    with RecordingSink(lambda r, n: Answer(400, b"no")) as sink, \
            RecordingSink(lambda r, n: Answer(500)) as dls:
        mesh.apply(broker_and_trigger("dlsb", "dls-fails", sink.url, retry=1).replace(
            "backoffDelay: PT0.05S}", f"backoffDelay: PT0.05S, deadLetterSink: {{uri: '{dls.url}'}}}}"))
        mesh.wait_ready(f"{TRIGGERS}/dls-fails")
        assert mesh.send_event("/default/dlsb", "s-1", type="dev.example.dls") == 202
        wait_until(lambda: len(dead_letters(mesh, "trigger:dls-fails")) == 1, timeout=30)
        [entry] = dead_letters(mesh, "trigger:dls-fails")
        assert len(sink.received) == 1 and len(dls.received) == 2
        assert dls.received[0].ce["knativeerrorcode"] == "400"
    assert entry["event"]["id"] == "s-1" and entry["event"]["knativeerrorcode"] == "400"
    assert (entry["code"], entry["destination"]) == (400, sink.url)
    assert entry["reason"] == f"the dead-letter sink {dls.url} failed too: HTTP 500"
