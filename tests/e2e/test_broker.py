"""The durable Broker end to end: `ripple up` as a process, driven over HTTP and the CLI,
delivering to real HTTP sinks."""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import subprocess
import threading
import time
import urllib.request

import pytest

from tests.support.mesh import RIPPLE, Mesh
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

TRIGGERS = "/apis/eventing.knative.dev/v1/namespaces/default/triggers"
BROKERS = "/apis/eventing.knative.dev/v1/namespaces/default/brokers"


def broker_yaml(name: str, delivery: str = "") -> str:
    return f"""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: {name}, namespace: default}}
{("spec:" + chr(10) + "  delivery: " + delivery) if delivery else ""}
"""


def trigger_yaml(name: str, broker: str, subscriber: str, filter_: str = "", delivery: str = "") -> str:
    return f"""
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: {name}, namespace: default}}
spec:
  broker: {broker}
  subscriber: {subscriber}
  {filter_}
  {("delivery: " + delivery) if delivery else ""}
"""


def test_send_through_the_cli_reaches_the_subscriber_unchanged(mesh: Mesh) -> None:
    with RecordingSink() as sink:
        mesh.apply(broker_yaml("quick") + "---" + trigger_yaml(
            "hello", "quick", f"{{uri: '{sink.url}/hello'}}", "filter: {attributes: {type: dev.example.hello}}"))
        mesh.wait_ready(f"{TRIGGERS}/hello")
        out = mesh.cli("event", "send", "--to", "broker:quick", "--type", "dev.example.hello",
                       "--source", "/me", "--id", "e-1", "--data", '{"msg": "hi"}',
                       "--extension", "myext=v1")
        assert "202" in out.stdout
        mesh.cli("event", "send", "--to", "broker:quick", "--type", "dev.example.other",
                 "--source", "/me", "--id", "e-2")
        # the fan-out reads the broker's log in order: by the time e-3, sent after e-2, has
        # arrived, e-2 was filtered, and had it matched it would have been queued ahead of e-3
        assert mesh.send_event("/default/quick", "e-3", type="dev.example.hello") == 202
        wait_until(lambda: {"e-1", "e-3"} <= set(sink.ids()), what="e-1 and e-3 delivered")
        assert sorted(sink.ids()) == ["e-1", "e-3"]
        got = next(r for r in sink.received if r.ce["id"] == "e-1")
        assert got.path == "/hello"
        assert got.ce["id"] == "e-1" and got.ce["type"] == "dev.example.hello" and got.ce["myext"] == "v1"
        assert json.loads(got.body) == {"msg": "hi"}
        assert got.headers["content-type"].startswith("application/json")
        assert "knativearrivaltime" in got.ce and "knativebrokerttl" not in got.ce
        assert got.headers["prefer"] == "reply" and got.headers["kn-namespace"] == "default"
        assert got.ce["traceparent"].startswith("00-") and got.headers["traceparent"] == got.ce["traceparent"]


@pytest.mark.parametrize(
    "method, path, headers, body, status, mentions",
    [
        ("POST", "/default/ing", {"ce-specversion": "1.0", "ce-source": "/s", "ce-type": "t"}, b"{}", 400, "id"),
        ("POST", "/default/ing", {"ce-specversion": "9.9", "ce-id": "1", "ce-source": "/s", "ce-type": "t"},
         b"", 400, "specversion"),
        ("POST", "/default/ing", {"content-type": "application/cloudevents+json"}, b"{not json", 400, "JSON"),
        ("POST", "/default/nope", {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"},
         b"", 404, "nope"),
        ("GET", "/default/ing", {}, None, 405, "POST"),
        ("POST", "/default/ing", {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"},
         b"{}", 202, ""),
        ("POST", "/default/ing", {"content-type": "application/cloudevents+json"},
         json.dumps({"specversion": "1.0", "id": "2", "source": "/s", "type": "t", "data": {"a": 1}}).encode(),
         202, ""),
        ("POST", "/default/ing", {"content-type": "application/cloudevents-batch+json"},
         json.dumps([{"specversion": "1.0", "id": str(i), "source": "/s", "type": "t"} for i in range(3)]).encode(),
         202, ""),
        ("POST", "/default/ing", {"content-type": "application/cloudevents-batch+json"},
         json.dumps([{"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, {"id": "x"}]).encode(),
         400, "[1]"),
        # paths as Knative's ingress answers them: `/` 404, not /<ns>/<name> 400, one
        # trailing slash tolerated; the method is checked first
        ("POST", "/", {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}, b"", 404, ""),
        ("POST", "/default", {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"},
         b"", 400, "/<namespace>/<name>"),
        ("POST", "/default/ing/x", {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"},
         b"", 400, "/<namespace>/<name>"),
        ("POST", "/default/ing/", {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"},
         b"", 202, ""),
        ("GET", "/default", {}, None, 405, "POST"),
        ("POST", "/channels/default", {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"},
         b"", 400, "channel"),
    ],
)
def test_ingress_contract(mesh: Mesh, method, path, headers, body, status, mentions) -> None:
    mesh.apply(broker_yaml("ing"))
    mesh.wait_ready(f"{BROKERS}/ing")
    request = urllib.request.Request(mesh.url + path, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            got, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        got, text = e.code, e.read().decode()
    assert got == status, text
    assert mentions in text


def test_oversized_body_is_refused_before_it_is_read(mesh: Mesh) -> None:
    import http.client

    mesh.apply(broker_yaml("ing"))
    mesh.wait_ready(f"{BROKERS}/ing")
    conn = http.client.HTTPConnection("127.0.0.1", mesh.port, timeout=10)
    conn.putrequest("POST", "/default/ing")
    for k, v in {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t",
                 "content-length": str(4 * 1024 * 1024 + 1)}.items():
        conn.putheader(k, v)
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413 and b"limit" in response.read()


def test_options_probe_allows_post(mesh: Mesh) -> None:
    mesh.apply(broker_yaml("ing"))
    request = urllib.request.Request(mesh.url + "/default/ing", method="OPTIONS")
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.status == 200 and "POST" in r.headers["allow"]


def test_reply_goes_back_into_the_broker_and_filters_apply(mesh: Mesh) -> None:
    reply = Answer(200, b"pong", {"ce-specversion": "1.0", "ce-id": "reply-1", "ce-source": "/replier",
                                  "ce-type": "dev.example.pong", "content-type": "text/plain"})
    with RecordingSink(lambda r, n: reply) as replier, RecordingSink() as final:
        mesh.apply(broker_yaml("chain")
                   + "---" + trigger_yaml("ping", "chain", f"{{uri: '{replier.url}'}}",
                                          "filters: [{cesql: \"type = 'dev.example.ping'\"}]")
                   + "---" + trigger_yaml("pong", "chain", f"{{uri: '{final.url}'}}",
                                          "filters: [{prefix: {type: dev.example.po}}]"))
        mesh.wait_ready(f"{TRIGGERS}/ping")
        mesh.wait_ready(f"{TRIGGERS}/pong")
        assert mesh.send_event("/default/chain", "p-1", type="dev.example.ping") == 202
        got = final.wait_for(1)[0]
        assert got.ce["type"] == "dev.example.pong" and got.body == b"pong"
        assert got.ce["traceparent"].split("-")[1] == replier.received[0].ce["traceparent"].split("-")[1]


def test_failing_subscriber_dead_letters_with_knative_error_attributes(mesh: Mesh) -> None:
    body = b'{ "message": "catastrophic failure" }'
    with RecordingSink(lambda r, n: Answer(500, body)) as failing, RecordingSink() as dls:
        mesh.apply(broker_yaml("dl", f"{{retry: 2, backoffPolicy: linear, backoffDelay: PT0.05S, "
                                     f"deadLetterSink: {{uri: '{dls.url}'}}}}")
                   + "---" + trigger_yaml("failing", "dl", f"{{uri: '{failing.url}'}}"))
        mesh.wait_ready(f"{TRIGGERS}/failing")
        assert mesh.send_event("/default/dl", "d-1") == 202
        dead = dls.wait_for(1)[0]
        assert len(failing.received) == 3  # retry: 2 -> three attempts
        assert dead.ce["id"] == "d-1"
        assert dead.ce["knativeerrordest"] == failing.url
        assert dead.ce["knativeerrorcode"] == "500"
        assert base64.b64decode(dead.ce["knativeerrordata"]) == body


def test_a_trigger_delivery_with_only_a_dead_letter_sink_is_taken_wholesale(mesh: Mesh) -> None:
    # Knative: the Trigger's delivery replaces the Broker's, so the Broker's retries do not apply
    with RecordingSink(lambda r, n: Answer(500)) as failing, RecordingSink() as dls:
        mesh.apply(broker_yaml("whole", "{retry: 5, backoffPolicy: linear, backoffDelay: PT0.05S}")
                   + "---" + trigger_yaml("dls-only", "whole", f"{{uri: '{failing.url}'}}",
                                          delivery=f"{{deadLetterSink: {{uri: '{dls.url}'}}}}"))
        mesh.wait_ready(f"{TRIGGERS}/dls-only")
        assert mesh.send_event("/default/whole", "w-1") == 202
        assert dls.wait_for(1)[0].ce["id"] == "w-1"
        assert len(failing.received) == 1  # no retries


def test_pass_through_headers_reach_the_subscriber(mesh: Mesh) -> None:
    with RecordingSink() as sink:
        mesh.apply(broker_yaml("hdr") + "---" + trigger_yaml("hdr", "hdr", f"{{uri: '{sink.url}'}}"))
        mesh.wait_ready(f"{TRIGGERS}/hdr")
        status, _, _ = mesh.post("/default/hdr", b"{}", {
            "ce-specversion": "1.0", "ce-id": "h-1", "ce-source": "/s", "ce-type": "t",
            "content-type": "application/json", "X-Request-Id": "req-42", "Knative-Custom": "yes",
            "X-Not-Passed": "no"})
        assert status == 202
        got = sink.wait_for(1)[0]
        assert got.headers["x-request-id"] == "req-42" and got.headers["knative-custom"] == "yes"
        assert "x-not-passed" not in got.headers


def test_a_reply_out_of_hops_dead_letters_the_original_naming_the_broker(mesh: Mesh) -> None:
    reply = Answer(200, b"pong", {"ce-specversion": "1.0", "ce-id": "reply-1", "ce-source": "/replier",
                                  "ce-type": "dev.example.pong", "content-type": "text/plain"})
    with RecordingSink(lambda r, n: reply) as replier, RecordingSink() as dls:
        mesh.apply(broker_yaml("hops") + "---" + trigger_yaml(
            "loop", "hops", f"{{uri: '{replier.url}'}}", "filter: {attributes: {type: dev.example.ping}}",
            delivery=f"{{deadLetterSink: {{uri: '{dls.url}'}}}}"))
        broker = mesh.wait_ready(f"{BROKERS}/hops")
        mesh.wait_ready(f"{TRIGGERS}/loop")
        # one hop left after the ingress: the reply would need another, so the Broker refuses
        # it (Knative's ingress answers 400) and the original is dead-lettered
        assert mesh.send_event("/default/hops", "h-1", type="dev.example.ping",
                               extensions={"knativebrokerttl": "2"}) == 202
        dead = dls.wait_for(1)[0]
        assert dead.ce["id"] == "h-1" and dead.ce["type"] == "dev.example.ping"
        assert dead.ce["knativeerrordest"] == broker["status"]["address"]["url"]
        assert dead.ce["knativeerrorcode"] == "400"
        assert "hops" in base64.b64decode(dead.ce["knativeerrordata"]).decode()
        assert len(replier.received) == 1


def test_trigger_to_an_unserved_kind_is_not_ready_with_a_reason(mesh: Mesh) -> None:
    mesh.apply(broker_yaml("refs") + "---" + trigger_yaml(
        "to-sink", "refs", "{ref: {apiVersion: eventing.knative.dev/v1alpha1, kind: KafkaSink, name: display}}"))
    ready: list[dict] = []

    def not_ready() -> bool:
        status = mesh.get(f"{TRIGGERS}/to-sink").get("status") or {}
        ready[:] = [c for c in status.get("conditions", []) if c["type"] == "Ready"]
        return bool(ready) and ready[0]["status"] == "False"
    wait_until(not_ready, what="the Trigger is not Ready")
    assert ready[0]["reason"] == "KindNotServed" and "display" in ready[0]["message"]
    table = mesh.cli("get", "triggers").stdout
    assert "to-sink" in table and "KindNotServed" in table


def test_invalid_manifest_is_refused_naming_the_field(mesh: Mesh) -> None:
    bad = trigger_yaml("bad", "b", "{uri: 'http://x'}", "filters: [{cesql: \"type = \"}]")
    result = mesh.cli("apply", "-f", "-", input=bad, check=False)
    assert result.returncode == 1
    assert "spec.filters[0].cesql" in result.stderr
    missing = mesh.cli("get", "trigger", "bad", check=False)
    assert missing.returncode == 1 and "not found" in missing.stderr


def test_metrics_count_dispatches_in_seconds(mesh: Mesh) -> None:
    with RecordingSink() as sink:
        mesh.apply(broker_yaml("m") + "---" + trigger_yaml("mt", "m", f"{{uri: '{sink.url}'}}"))
        mesh.wait_ready(f"{TRIGGERS}/mt")
        mesh.send_event("/default/m", "m-1", type="metric.test")
        sink.wait_for(1)
    # the dispatch is measured once its answer is handled, a moment after the sink has it
    wait_until(lambda: 'kn_trigger_name="mt"' in mesh.metrics(), what="the dispatch measured")
    text = mesh.metrics()
    assert 'kn_eventing_dispatch_duration_seconds_bucket{' in text
    assert 'kn_trigger_name="mt"' in text and 'cloudevents_type="metric.test"' in text
    assert 'kn_eventing_ingress_events_total{' in text


def test_event_tail_streams_events_as_they_enter(mesh: Mesh) -> None:
    mesh.apply(broker_yaml("tailed"))
    mesh.wait_ready(f"{BROKERS}/tailed")
    tail = subprocess.Popen([RIPPLE, "event", "tail", "broker:tailed", "-o", "json"],
                            env=dict(mesh.env, RIPPLE_SERVER=mesh.url), stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for text in tail.stdout:  # type: ignore[union-attr]
            lines.put(text)
    threading.Thread(target=read, daemon=True).start()
    try:
        # A tail follows from the moment it first reads the log, which the test cannot
        # see: send until an event shows up, each with its own id.
        deadline, sent, line = time.monotonic() + 20, list[str](), ""
        while not line:
            assert time.monotonic() < deadline, "the tail printed nothing"
            sent.append(f"t-{len(sent)}")
            assert mesh.send_event("/default/tailed", sent[-1], type="tail.me") == 202
            with contextlib.suppress(queue.Empty):
                line = lines.get(timeout=0.5)
        event = json.loads(line)
        assert event["id"] in sent and event["type"] == "tail.me"
    finally:
        tail.terminate()
        tail.wait(5)


def test_kn_style_commands_create_list_describe_and_delete(mesh: Mesh) -> None:
    with RecordingSink() as sink:
        mesh.cli("broker", "create", "kn-style")
        mesh.cli("trigger", "create", "kn-trigger", "--broker", "kn-style", "--filter", "type=kn.test",
                 "--sink", sink.url)
        mesh.wait_ready(f"{TRIGGERS}/kn-trigger")
        assert "kn-style" in mesh.cli("broker", "list").stdout
        assert "kn-trigger" in mesh.cli("trigger", "list").stdout
        described = mesh.cli("describe", "broker", "kn-style").stdout
        assert "Ready" in described and "/default/kn-style" in described
        as_json = json.loads(mesh.cli("get", "trigger", "kn-trigger", "-o", "json").stdout)
        assert as_json["spec"]["filter"]["attributes"] == {"type": "kn.test"}
        assert as_json["status"]["subscriberUri"] == sink.url
        mesh.cli("event", "send", "--to", "broker:kn-style", "--type", "kn.test", "--source", "/cli")
        assert sink.wait_for(1)[0].ce["type"] == "kn.test"
        mesh.cli("trigger", "delete", "kn-trigger")
        mesh.cli("broker", "delete", "kn-style")
        gone = mesh.cli("get", "broker", "kn-style", check=False)
        assert gone.returncode == 1 and "not found" in gone.stderr
