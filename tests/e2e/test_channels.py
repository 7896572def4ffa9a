"""Channels and Subscriptions end to end: InMemoryChannel manifests on Ripple's durable
channel, replies to `spec.reply`, and one failing subscriber not slowing another."""

from __future__ import annotations

import pytest

from tests.support.mesh import Mesh
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

MESSAGING = "/apis/messaging.knative.dev/v1/namespaces/default"


def subscription(name: str, channel: str, subscriber: str, reply: str = "", kind: str = "InMemoryChannel") -> str:
    return f"""
apiVersion: messaging.knative.dev/v1
kind: Subscription
metadata: {{name: {name}, namespace: default}}
spec:
  channel: {{apiVersion: messaging.knative.dev/v1, kind: {kind}, name: {channel}}}
  subscriber: {{uri: '{subscriber}'}}
  {f"reply: {{uri: '{reply}'}}" if reply else ""}
"""


def test_in_memory_channel_fans_out_replies_and_isolates_a_failing_subscriber(mesh: Mesh) -> None:
    reply = Answer(200, b"echo", {"ce-specversion": "1.0", "ce-id": "r", "ce-source": "/echo",
                                  "ce-type": "echoed", "content-type": "text/plain"})
    with RecordingSink(lambda r, n: reply) as echo, RecordingSink() as replies, \
            RecordingSink(lambda r, n: Answer(503)) as failing:
        mesh.apply("""
apiVersion: messaging.knative.dev/v1
kind: InMemoryChannel
metadata: {name: orders, namespace: default}
spec:
  delivery: {retry: 100, backoffPolicy: linear, backoffDelay: PT0.2S}
""" + "---" + subscription("echo", "orders", echo.url, replies.url)
                   + "---" + subscription("broken", "orders", failing.url))
        channel = mesh.wait_ready(f"{MESSAGING}/inmemorychannels/orders")
        mesh.wait_ready(f"{MESSAGING}/subscriptions/echo")
        mesh.wait_ready(f"{MESSAGING}/subscriptions/broken")  # or the events may come before it
        url = channel["status"]["address"]["url"]
        assert url.endswith("/channels/default/orders")
        path = url[len(mesh.url):]
        for i in range(20):
            assert mesh.send_event(path, f"o-{i}", type="order") == 202
        got = replies.wait_for(20)
        assert {r.ce["type"] for r in got} == {"echoed"} and len(echo.received) == 20
        failing.wait_for(1)  # still being retried, holding back nothing else

        def both_listed() -> bool:  # the channel's status follows its subscriptions' own
            listed = mesh.get(f"{MESSAGING}/inmemorychannels/orders")["status"].get("subscribers") or []
            return len(listed) == 2 and all(s["ready"] == "True" for s in listed)
        wait_until(both_listed, what="both subscribers listed ready in the channel's status")


def test_a_failing_reply_is_retried_alone_then_dead_letters_the_original(mesh: Mesh) -> None:
    reply = Answer(200, b"echo", {"ce-specversion": "1.0", "ce-id": "r", "ce-source": "/echo",
                                  "ce-type": "echoed", "content-type": "text/plain"})
    with RecordingSink(lambda r, n: reply) as echo, RecordingSink(lambda r, n: Answer(503)) as replies, \
            RecordingSink() as dls:
        mesh.apply("""
apiVersion: messaging.knative.dev/v1
kind: InMemoryChannel
metadata: {name: replies, namespace: default}
""" + "---" + subscription("echo-dls", "replies", echo.url, replies.url).replace(
            "spec:\n", "spec:\n  delivery: {retry: 2, backoffPolicy: linear, backoffDelay: PT0.05S, "
                       f"deadLetterSink: {{uri: '{dls.url}'}}}}\n"))
        mesh.wait_ready(f"{MESSAGING}/subscriptions/echo-dls")
        assert mesh.send_event("/channels/default/replies", "rp-1", type="order") == 202
        dead = dls.wait_for(1)[0]
        assert len(echo.received) == 1 and len(replies.received) == 3
        assert dead.ce["id"] == "rp-1" and dead.ce["type"] == "order"
        assert dead.ce["knativeerrordest"] == replies.url and dead.ce["knativeerrorcode"] == "503"


def test_channel_kind_defaults_to_an_in_memory_backing(mesh: Mesh) -> None:
    with RecordingSink() as sink:
        mesh.apply("""
apiVersion: messaging.knative.dev/v1
kind: Channel
metadata: {name: plain, namespace: default}
""" + "---" + subscription("plain-sub", "plain", sink.url, kind="Channel"))
        channel = mesh.wait_ready(f"{MESSAGING}/channels/plain")
        assert channel["spec"]["channelTemplate"]["kind"] == "InMemoryChannel"
        assert channel["status"]["channel"]["kind"] == "InMemoryChannel"
        mesh.wait_ready(f"{MESSAGING}/subscriptions/plain-sub")
        assert mesh.send_event("/channels/default/plain", "c-1") == 202
        assert sink.wait_for(1)[0].ce["id"] == "c-1"
        assert "plain" in mesh.cli("get", "channels").stdout


def test_subscription_to_a_missing_channel_is_not_ready(mesh: Mesh) -> None:
    mesh.apply(subscription("orphan", "nowhere", "http://127.0.0.1:9/"))
    ready: dict = {}

    def not_ready() -> bool:
        conditions = (mesh.get(f"{MESSAGING}/subscriptions/orphan").get("status") or {}).get("conditions", [])
        ready.update(next((c for c in conditions if c["type"] == "Ready"), {}))
        return ready.get("status") == "False"
    wait_until(not_ready, what="the Subscription is not Ready")
    assert ready["status"] == "False" and "nowhere" in ready["message"]
    assert mesh.send_event("/channels/default/nowhere", "x") == 404


def test_kn_style_channel_and_subscription_commands(mesh: Mesh) -> None:
    with RecordingSink() as sink:
        mesh.cli("channel", "create", "cli-ch")
        mesh.cli("subscription", "create", "cli-sub", "--channel", "cli-ch", "--sink", sink.url)
        mesh.wait_ready(f"{MESSAGING}/subscriptions/cli-sub")
        assert "cli-ch" in mesh.cli("channel", "list").stdout
        assert "cli-sub" in mesh.cli("subscription", "list").stdout
        assert mesh.send_event("/channels/default/cli-ch", "k-1") == 202
        assert sink.wait_for(1)[0].ce["id"] == "k-1"
        mesh.cli("subscription", "delete", "cli-sub")
        mesh.cli("channel", "delete", "cli-ch")
        assert mesh.cli("get", "channel", "cli-ch", check=False).returncode == 1
