"""Issue #13's operations end to end: replay of a Broker's retained log, and the trace of
one event, through `ripple up` and the CLI."""

from __future__ import annotations

import json

import pytest

from tests.support.mesh import Mesh
from tests.support.sinks import RecordingSink
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
