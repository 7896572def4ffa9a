"""Mesh-wide live figures on a real Valkey: each worker publishes its dispatch totals while
someone reads them, and a read sums every worker's (`delivery_rates.Publisher`, `Mesh`)."""

from __future__ import annotations

import pytest

from controllers.platforms.local import delivery_rates as dr
from ripple import keys, metrics

pytestmark = pytest.mark.integration

LABELS = {**metrics.trigger_labels("ns", "b", "t"), "cloudevents_type": "x"}
TARGET = ("ns", "trigger:t")


def worker_sample(count: list[float]):
    def sample() -> list[tuple[str, dict[str, str], float]]:
        return [("kn_eventing_dispatch_events_total", {**LABELS, "http_response_status_code": "202"}, count[0]),
                ("kn_eventing_dispatch_events_total", {**LABELS, "http_response_status_code": "500"}, 1.0)]
    return sample


async def test_workers_publish_while_wanted_and_a_read_sums_them(redis_client) -> None:
    one, two = [10.0], [30.0]
    a = dr.Publisher(redis_client, "host-0", worker_sample(one))
    b = dr.Publisher(redis_client, "host-1", worker_sample(two))
    assert not await a.publish()  # nobody reads: nothing published
    assert not await redis_client.exists(keys.delivery_totals("host-0"))

    now = [0.0]
    mesh = dr.Mesh(redis_client, clock=lambda: now[0])
    assert await mesh.read([TARGET]) == {}  # wanted from now on; nothing published yet
    assert await a.publish() and await b.publish()
    reading = await mesh.read([TARGET, ("ns", "trigger:other")])
    assert reading == {TARGET: dr.Totals(42.0, 2.0)}  # 11 + 31 attempts, one failure each

    await mesh.figures([TARGET])
    one[0], two[0] = 20.0, 50.0
    assert await a.publish() and await b.publish()
    now[0] = 5.0
    figures = (await mesh.figures([TARGET]))(TARGET)
    assert figures.rate == pytest.approx(6.0)  # (10 + 20) attempts in 5 s, over both workers
    assert figures.error_rate == 0.0


async def test_a_worker_starting_again_drops_its_earlier_lifes_totals(redis_client) -> None:
    await redis_client.hset(keys.delivery_totals("host-0"), "ns/trigger:gone", dr.encode(dr.Totals(99)))
    mesh = dr.Mesh(redis_client)
    await mesh.read([])
    assert await dr.Publisher(redis_client, "host-0", worker_sample([1.0])).publish()
    assert await mesh.read([("ns", "trigger:gone")]) == {}
    assert await mesh.read([TARGET]) == {TARGET: dr.Totals(2.0, 1.0)}
