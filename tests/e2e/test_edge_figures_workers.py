"""`ripple up --workers 2`: the console's edge figures are the mesh's, not the answering
worker's. While the figures are read, both workers publish their dispatch totals to the
store; the sum of what they published is every delivery the subscriber got, and the
edgestats API (answered by either worker) reads it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import redis

from controllers.platforms.local import delivery_rates
from ripple import keys
from tests.support.mesh import Mesh
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

EDGES = "/apis/ripple.dev/v1/namespaces/default/edgestats?targets=trigger:t"
EVENTS = 40


def manifest(url: str) -> str:
    return ("apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: default, namespace: default}\n"
            "---\napiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t, namespace: default}\n"
            f"spec:\n  broker: default\n  subscriber: {{uri: \"{url}\"}}\n")


def published(store: redis.Redis) -> dict[str, float]:
    """Each worker's published attempts of Trigger t."""
    out = {}
    for worker in store.zrange(keys.DELIVERY_TOTALS_WORKERS, 0, -1):
        raw = store.hget(keys.delivery_totals(worker.decode()), "default/trigger:t")
        out[worker.decode()] = delivery_rates.decode(raw).attempts if raw else 0.0
    return out


def test_edge_figures_sum_every_workers_deliveries(data_dir: Path) -> None:
    mesh = Mesh(data_dir, workers=2).start()
    try:
        with RecordingSink(lambda _r, _n: (time.sleep(0.02), Answer(202))[1]) as sink:
            mesh.apply(manifest(sink.url + "/"))
            mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/triggers/t")
            store = redis.Redis(port=int((data_dir / "valkey.port").read_text()))
            [item] = mesh.get(EDGES)["items"]  # a read: the workers publish from now on
            assert item["target"] == "trigger:t"
            wait_until(lambda: len(published(store)) == 2, what="both workers publish")
            for i in range(EVENTS):
                assert mesh.send_event("/default/default", f"e{i}") == 202
            wait_until(lambda: len(sink.received) == EVENTS, what="every event delivered")
            mesh.get(EDGES)  # keeps them wanted
            wait_until(lambda: sum(published(store).values()) == EVENTS,
                       what="the workers' totals add up to the deliveries")
            print("attempts per worker:", json.dumps(published(store)))

            def figures() -> bool:
                [item] = mesh.get(EDGES)["items"]
                return bool(item["rate"])
            wait_until(figures, what="a rate from the published totals")
    finally:
        assert mesh.stop(timeout=30) == 0
