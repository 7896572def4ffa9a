"""Sequence and Parallel end to end, built from channels and subscriptions as Knative does."""

from __future__ import annotations

import pytest

from tests.support.mesh import Mesh
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

FLOWS = "/apis/flows.knative.dev/v1/namespaces/default"


def appender(suffix: str):
    """A step that replies with the event, its data extended by `suffix` (Knative's SequenceTest)."""
    def answer(request, _n):
        headers = {f"ce-{k}": v for k, v in request.ce.items()}
        headers["content-type"] = request.headers.get("content-type", "text/plain")
        return Answer(200, request.body + suffix.encode(), headers)
    return answer


def test_sequence_of_three_steps_with_its_reply(mesh: Mesh) -> None:
    with RecordingSink(appender("-step1")) as s1, RecordingSink(appender("-step2")) as s2, \
            RecordingSink(appender("-step3")) as s3, RecordingSink() as final:
        mesh.apply(f"""
apiVersion: flows.knative.dev/v1
kind: Sequence
metadata: {{name: seq, namespace: default}}
spec:
  channelTemplate: {{apiVersion: messaging.knative.dev/v1, kind: InMemoryChannel}}
  steps:
    - uri: {s1.url}
    - uri: {s2.url}
    - uri: {s3.url}
  reply: {{uri: '{final.url}'}}
""")
        seq = mesh.wait_ready(f"{FLOWS}/sequences/seq", timeout=30)
        assert len(seq["status"]["channelStatuses"]) == 3 and len(seq["status"]["subscriptionStatuses"]) == 3
        path = seq["status"]["address"]["url"][len(mesh.url):]
        assert path == "/channels/default/seq-kn-sequence-0"
        headers = {"ce-specversion": "1.0", "ce-id": "s-1", "ce-source": "/test",
                   "ce-type": "dev.knative.sources.ping", "content-type": "text/plain"}
        assert mesh.post(path, b"TestSequence", headers)[0] == 202
        got = final.wait_for(1)[0]
        assert got.body == b"TestSequence-step1-step2-step3"
        assert got.ce["type"] == "dev.knative.sources.ping" and got.headers["content-type"] == "text/plain"


def test_trigger_to_a_sequence_and_a_parallel_with_a_passing_and_a_dropping_filter(mesh: Mesh) -> None:
    with RecordingSink(lambda r, n: appender("")(r, n)) as passing, \
            RecordingSink(lambda r, n: Answer(202)) as dropping, \
            RecordingSink(appender("-one")) as one, RecordingSink(appender("-two")) as two, \
            RecordingSink() as out:
        mesh.apply(f"""
apiVersion: flows.knative.dev/v1
kind: Parallel
metadata: {{name: par, namespace: default}}
spec:
  branches:
    - filter: {{uri: '{passing.url}'}}
      subscriber: {{uri: '{one.url}'}}
    - filter: {{uri: '{dropping.url}'}}
      subscriber: {{uri: '{two.url}'}}
  reply: {{uri: '{out.url}'}}
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: flows, namespace: default}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: to-parallel, namespace: default}}
spec:
  broker: flows
  subscriber: {{ref: {{apiVersion: flows.knative.dev/v1, kind: Parallel, name: par}}}}
""")
        par = mesh.wait_ready(f"{FLOWS}/parallels/par", timeout=30)
        assert len(par["status"]["branchStatuses"]) == 2
        mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/triggers/to-parallel")
        assert mesh.send_event("/default/flows", "p-1", data=b"x") == 202
        got = out.wait_for(1)[0]
        assert got.body == b"x-one"
        dropping.wait_for(1)  # the branches run side by side: the dropping one may come later
        assert len(two.received) == 0
        mesh.cli("delete", "parallel", "par")
        wait_until(lambda: "par-kn-parallel" not in mesh.cli("get", "subscriptions").stdout
                   + mesh.cli("get", "imc").stdout, what="the Parallel's children collected")


def test_trigger_whose_subscriber_is_a_sequence(mesh: Mesh) -> None:
    with RecordingSink(appender("-a")) as step, RecordingSink() as final:
        mesh.apply(f"""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: to-seq, namespace: default}}
---
apiVersion: flows.knative.dev/v1
kind: Sequence
metadata: {{name: one-step, namespace: default}}
spec:
  steps: [{{uri: '{step.url}'}}]
  reply: {{uri: '{final.url}'}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: seq-trigger, namespace: default}}
spec:
  broker: to-seq
  filter: {{attributes: {{type: go}}}}
  subscriber: {{ref: {{apiVersion: flows.knative.dev/v1, kind: Sequence, name: one-step}}}}
""")
        mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/triggers/seq-trigger", timeout=30)
        assert mesh.send_event("/default/to-seq", "ts-1", type="go", data=b"in") == 202
        got = final.wait_for(1)[0]
        assert got.body == b"in-a" and got.ce["id"] == "ts-1"
