"""`ripple up` with 1,001 Triggers on one Broker (bench P4's mesh): a bounded number of
Redis connections, and events still reach the one Trigger that matches them.

Measured before `ripple.pooling` and the coalesced queue start-up: 1,328 connections once
the Triggers were Ready, all still open 30 s later (1,001 from the dispatchers' XGROUP
CREATEs, about 300 from their first reads of their pending entries). After: 15 at Ready,
12 once idle."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests.support.mesh import Mesh
from tests.support.sinks import RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

NON_MATCHING = 1000
MAX_CONNECTIONS = 40
"""What 1,001 Triggers may hold: a few kept idle per pool (`ripple.pooling.KEEP_IDLE`), the
idle queues' one blocking read, the informer's watch, the busy ones' reads, Valkey's keeper."""
TRIGGERS = "/apis/eventing.knative.dev/v1/namespaces/default/triggers"
MATCH = "dev.example.match"


def manifest(sink_url: str) -> str:
    """P4's: half exact filters, half prefix filters, none matching `MATCH`; one that does.
    All point at the same sink, so a wrong match would show as an extra arrival."""
    parts = ["apiVersion: eventing.knative.dev/v1\nkind: Broker\n"
             "metadata: {name: default, namespace: default}\n"]

    def trigger(name: str, spec: str) -> str:
        return ("---\napiVersion: eventing.knative.dev/v1\nkind: Trigger\n"
                f"metadata: {{name: {name}, namespace: default}}\n"
                f"spec:\n  broker: default\n{spec}  subscriber: {{uri: \"{sink_url}\"}}\n")

    for i in range(NON_MATCHING // 2):
        parts.append(trigger(f"exact-{i}", f"  filter: {{attributes: {{type: nomatch.{i}}}}}\n"))
        parts.append(trigger(f"prefix-{i}", f"  filters: [{{prefix: {{type: \"nomatch.p{i}.\"}}}}]\n"))
    parts.append(trigger("t1", f"  filter: {{attributes: {{type: {MATCH}}}}}\n"))
    return "".join(parts)


def ready(mesh: Mesh) -> int:
    return sum(1 for t in mesh.get(TRIGGERS)["items"]
               if any(c["type"] == "Ready" and c["status"] == "True"
                      for c in (t.get("status") or {}).get("conditions") or []))


def connections(store: redis.Redis) -> int:
    """Every client of the embedded Valkey but this one."""
    return len(store.client_list(_type="normal")) - 1


@pytest.mark.timeout(300)
def test_a_thousand_triggers_hold_few_connections_and_the_matching_one_delivers(tmp_path: Path) -> None:
    with RecordingSink() as sink:
        path = tmp_path / "triggers.yaml"
        path.write_text(manifest(sink.url + "/"))
        mesh = Mesh(tmp_path / "data", extra=["-f", str(path)]).start(timeout=120)
        store = None
        try:
            wait_until(lambda: ready(mesh) == NON_MATCHING + 1, timeout=240,
                       what="every Trigger Ready")
            store = redis.Redis(port=int((tmp_path / "data" / "valkey.port").read_text()))
            at_ready = connections(store)
            assert at_ready <= MAX_CONNECTIONS, f"{at_ready} connections with every Trigger Ready"
            for i in range(5):  # sent first: no Trigger may take them
                assert mesh.send_event("/default/default", f"other-{i}", type=f"nomatch.p{i}") == 202
            for i in range(20):
                assert mesh.send_event("/default/default", f"e{i}", type=MATCH) == 202
            sink.wait_for(20, timeout=60)
            assert sorted(sink.ids()) == sorted(f"e{i}" for i in range(20))
            after = connections(store)
            assert after <= MAX_CONNECTIONS, f"{after} connections after delivering"
            print(f"connections: {at_ready} at Ready, {after} after the deliveries")
        finally:
            if store is not None:
                store.close()
            assert mesh.stop(timeout=60) == 0
