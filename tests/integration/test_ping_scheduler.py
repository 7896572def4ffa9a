"""The PingSource scheduler on a real Valkey: each tick is claimed once however many
schedulers race for it, claimed ticks are in the source's queue, and ticks missed while
nothing ran are logged, not replayed."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable

import pytest

from ripple import cloudevents as ce
from ripple import cron, keys
from sources.ping.scheduler import PingJob, PingScheduler
from tests.support.clock import FakeClock
from tests.support.waiting import until

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
    clock = FakeClock(dt.datetime(2026, 11, 27, 12, 0, tzinfo=UTC).timestamp())
    scheduler = PingScheduler(redis_client, clock=clock.time, sleep=clock.sleep)
    scheduler.sync([job("* * * * * *")])  # every second
    try:
        async def fired() -> int:
            return await redis_client.xlen(job().stream)

        await until(lambda: _at_least(fired(), 2))
        scheduler.sync([])
        await until(lambda: not _running("ping:ns/p"), what="the removed job's task ended")
        count = await fired()
        clock.now += 60  # a minute on: nobody is left to fire its ticks
        assert await fired() == count and not _running("ping:ns/p")
        times = [ce.from_record(f).attributes["time"] for _, f in await redis_client.xrange(job().stream)]
        assert times[:2] == ["2026-11-27T12:00:01Z", "2026-11-27T12:00:02Z"]  # each second, once
        assert len(times) == len(set(times))
    finally:
        await scheduler.close()


async def _at_least(count: Awaitable[int], wanted: int) -> bool:
    return await count >= wanted


def _running(name: str) -> bool:
    return any(t.get_name() == name and not t.done() for t in asyncio.all_tasks())
