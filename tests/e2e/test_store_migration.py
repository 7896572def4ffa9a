"""A data dir an earlier Ripple wrote, before the resource store's keys had the `{res}` hash
tag (`ripple:res:rv`, ...): `ripple up` renames them once at start, and the resources,
their versions and their Triggers' deliveries carry on as before."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from ripple import embedded, keys
from tests.support.mesh import Mesh
from tests.support.sinks import RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

TRIGGER = "/apis/eventing.knative.dev/v1/namespaces/default/triggers/old"


def manifest(sink: str) -> str:
    return f"""
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: old, namespace: default}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: old, namespace: default}}
spec:
  broker: old
  subscriber: {{uri: '{sink}'}}
"""


def untag(data_dir: Path) -> list[str]:
    """Give the data dir's store the keys an earlier Ripple wrote; the names it had."""
    valkey = embedded.EmbeddedValkey(data_dir).start()
    try:
        with redis.Redis.from_url(valkey.url) as client:
            tagged = sorted(k.decode() for k in client.keys(keys.RESOURCES + "*"))
            for key in tagged:
                client.rename(key, keys.untagged(key))
            return tagged
    finally:
        valkey.stop()


def test_an_earlier_ripples_data_dir_still_works(data_dir: Path) -> None:
    with RecordingSink() as sink:
        mesh = Mesh(data_dir).start()
        try:
            mesh.apply(manifest(sink.url))
            version = mesh.wait_ready(TRIGGER)["metadata"]["resourceVersion"]
            assert mesh.send_event("/default/old", "before") == 202
            wait_until(lambda: "before" in sink.ids(), what="delivered before")
        finally:
            assert mesh.stop() == 0
        tagged = untag(data_dir)
        assert keys.RESOURCE_VERSION in tagged and keys.RESOURCE_CHANGES in tagged

        mesh.start()
        try:
            again = mesh.wait_ready(TRIGGER)
            assert again["metadata"]["resourceVersion"] == version  # the very object, not a new one
            assert mesh.send_event("/default/old", "after") == 202
            wait_until(lambda: "after" in sink.ids(), what="delivered after the renaming")
            with redis.Redis.from_url(f"redis://127.0.0.1:{(data_dir / 'valkey.port').read_text().strip()}/0") as c:
                assert c.keys(keys.UNTAGGED_RESOURCES + "*") == []
                assert sorted(k.decode() for k in c.keys(keys.RESOURCES + "*")) == tagged
        finally:
            mesh.stop()
