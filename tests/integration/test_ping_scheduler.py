"""The PingSource scheduler on a real Valkey: each tick is claimed once however many
schedulers race for it, claimed ticks are in the source's queue, and ticks missed while
nothing ran are logged, not replayed."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest

from ripple import cloudevents as ce
from ripple import cron, keys
from sources.ping.scheduler import PingJob, PingScheduler

pytestmark = pytest.mark.integration

UTC = dt.timezone.utc


def job(schedule: str = "* * * * *") -> PingJob:
    return PingJob(namespace="ns", name="p", schedule=cron.parse(schedule),
                   tick_key=keys.ping_tick("ns", "p"), stream=keys.source_queue("PingSource", "ns", "p"),
                   attributes={"specversion": "1.0", "type": "dev.knative.sources.ping",
                               "source": "/apis/v1/namespaces/ns/pingsources/p"},
                   data=b"hi")


async def test_racing_schedulers_fire_each_tick_once(redis_client) -> None:
    schedulers = [PingScheduler(redis_client, new_id=lambda i=i: f"id-{i}") for i in range(5)]
    tick = dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    won = await asyncio.gather(*(s.fire(job(), tick) for s in schedulers))
    assert sum(won) == 1
    assert not await schedulers[0].fire(job(), tick)  # a restart does not fire it again
    assert not await schedulers[0].fire(job(), tick - dt.timedelta(minutes=1))  # nor an older one
    entries = await redis_client.xrange(job().stream)
    assert len(entries) == 1
    event = ce.from_record(entries[0][1])
    assert event.type == "dev.knative.sources.ping" and event.data == b"hi"
    assert event.attributes["time"] == "2026-11-27T12:00:00Z"


async def test_missed_ticks_are_logged_not_replayed(redis_client, caplog) -> None:
    scheduler = PingScheduler(redis_client)
    first = dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert await scheduler.fire(job(), first)
    with caplog.at_level(logging.WARNING, logger="sources.ping.scheduler"):
        assert await scheduler.fire(job(), first + dt.timedelta(minutes=10))
    (record,) = [r for r in caplog.records if "missed" in r.getMessage()]
    assert record.missed == 9  # type: ignore[attr-defined]
    assert await redis_client.xlen(job().stream) == 2  # the nine are not replayed


async def test_sync_runs_a_task_per_job_and_stops_removed_ones(redis_client) -> None:
    scheduler = PingScheduler(redis_client)
    scheduler.sync([job("* * * * * *")])  # every second
    try:
        for _ in range(60):
            if await redis_client.xlen(job().stream) >= 2:
                break
            await asyncio.sleep(0.05)
        assert await redis_client.xlen(job().stream) >= 2
        scheduler.sync([])
        await asyncio.sleep(0)
        count = await redis_client.xlen(job().stream)
        await asyncio.sleep(1.2)
        assert await redis_client.xlen(job().stream) == count
    finally:
        await scheduler.close()
