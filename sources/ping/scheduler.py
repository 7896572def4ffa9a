"""PingSource ticks: one task per PingSource per process, and a claim in Redis so that each
tick fires exactly once however many processes run, across restarts.

`SourcePlane` calls `PingScheduler.sync(jobs)` whenever PingSources change. Every process
sleeps until the next tick of every job, then runs one Lua script that compares the tick
with the last one fired (`keys.ping_tick`) and, only if it is newer, records it and appends
the event to the source's delivery queue, atomically. The first process to arrive wins;
the others see the tick taken. From there the delivery engine sends the event to the sink
with retries, so a tick that fired is delivered even if its process dies right after.

Ticks that fell while no process ran are not replayed: the next tick notices the gap
(`cron.Schedule.missed`) and logs how many were skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import redis.asyncio as aioredis

from ripple import cloudevents as ce
from ripple import cron, errors, metrics, redisclient

log = logging.getLogger(__name__)

_FIRE = """
local last = redis.call('GET', KEYS[1])
if last and tonumber(last) >= tonumber(ARGV[1]) then
  return {0, last}
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
return {1, last or ''}
"""


@dataclass(frozen=True)
class PingJob:
    """One PingSource, as the scheduler needs it; rebuilt when the source changes."""

    namespace: str
    name: str
    schedule: cron.Schedule
    tick_key: str
    stream: str
    attributes: Mapping[str, str]
    """The event's attributes except `id` and `time`, which each tick sets."""
    data: bytes | None


class PingScheduler:
    def __init__(self, client: aioredis.Redis, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self.redis, self.clock, self.sleep, self.new_id = client, clock, sleep, new_id
        self._fire = client.register_script(_FIRE)
        self._jobs: dict[tuple[str, str], PingJob] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    def sync(self, jobs: list[PingJob]) -> None:
        wanted = {(j.namespace, j.name): j for j in jobs}
        for key in [k for k in self._tasks if wanted.get(k) != self._jobs.get(k)]:
            self._tasks.pop(key).cancel()
            self._jobs.pop(key, None)
        for key, job in wanted.items():
            if key not in self._tasks:
                self._jobs[key] = job
                self._tasks[key] = asyncio.create_task(self._run(job), name=f"ping:{key[0]}/{key[1]}")

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._jobs.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    async def _run(self, job: PingJob) -> None:
        # Until `sync` or `close` drops the job, not only until cancelled: a cancel that
        # lands while a Redis command completes can be lost inside redis-py (seen on Python
        # 3.11), and the task would go on firing a deleted source's ticks.
        while self._jobs.get((job.namespace, job.name)) is job:
            now = self._now()
            tick = job.schedule.next_after(now)
            await self.sleep(max(0.0, (tick - now).total_seconds()))
            while self._now() < tick:  # the loop's timer may wake a hair early
                await self.sleep(0.001)
            try:
                await self.fire(job, tick)
            except errors.StoreUnavailable as exc:
                log.warning("ping tick not stored: the store is unavailable",
                            extra={"source": f"{job.namespace}/{job.name}", "tick": tick.isoformat(),
                                   "error": str(exc)})
            except Exception:
                log.exception("ping tick failed", extra={"source": f"{job.namespace}/{job.name}"})

    async def fire(self, job: PingJob, tick: dt.datetime) -> bool:
        """Claim `tick` and enqueue its event; False when another process had claimed it.
        Raises errors.StoreUnavailable when the store cannot take it."""
        event = ce.CloudEvent({**job.attributes, "id": self.new_id(),
                               "time": tick.isoformat().replace("+00:00", "Z")}, job.data)
        record = ce.to_record(event)
        args: list[bytes | str] = [str(int(tick.timestamp()))]
        for field, value in record.items():
            args += [field, value]
        try:
            claimed, last = await self._fire(keys=[job.tick_key, job.stream], args=args)
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        if not claimed:
            return False
        metrics.source_events.labels(kn_namespace_name=job.namespace, kn_source_kind="PingSource",
                                     kn_source_name=job.name).inc()
        if last:
            previous = dt.datetime.fromtimestamp(int(last), dt.UTC)
            missed = job.schedule.missed(previous, tick)
            if missed:
                log.warning("ping ticks missed while no ripple process ran; not replayed",
                            extra={"source": f"{job.namespace}/{job.name}", "missed": missed,
                                   "since": previous.isoformat(), "until": tick.isoformat()})
        return True

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC)
