"""The set of running fan-outs of one process, one per log (a broker's or a channel's).

The broker and channel planes call `Fanouts.sync(specs)` with every log they want fanned
out, each time their resources change; fan-outs of new logs start, vanished ones stop and
are returned so the owner can delete their streams. A spec's `match` is looked up on
every batch, so an owner that mutates its index in place needs no restart.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Callable, Mapping

import redis.asyncio as aioredis

from channels import tracing
from channels.fanout import Fanout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogSpec:
    stream: str
    match: Callable[[Mapping[str, object]], list[str]]
    queue_of: Callable[[str], str]
    retention: float = 0.0
    """Seconds the log keeps entries behind the fan-out (`channels.retention`)."""
    max_retained: int = 100_000


class Fanouts:
    def __init__(self, client: aioredis.Redis, *, consumer: str,
                 on_length: Callable[[str, int], None] = lambda _s, _n: None) -> None:
        self.redis, self.consumer, self.on_length = client, consumer, on_length
        self.tracer = tracing.OFF
        """Set by the composition root; each fan-out started from then on records its hops."""
        self._running: dict[str, tuple[Fanout, asyncio.Task[None]]] = {}

    def sync(self, specs: list[LogSpec], *, owner: str) -> list[str]:
        """Fan out exactly `specs` among the streams starting with `owner`; return the
        streams that stopped."""
        wanted = {spec.stream: spec for spec in specs}
        gone = [s for s in self._running if s.startswith(owner) and s not in wanted]
        for stream in gone:
            fanout, task = self._running.pop(stream)
            fanout.stopped = True
            task.cancel()
        for stream, spec in wanted.items():
            running = self._running.get(stream)
            if running is None or running[1].done():
                fanout = Fanout(self.redis, stream, spec.match, spec.queue_of,
                                consumer=self.consumer, on_length=self.on_length,
                                retention_s=spec.retention, max_retained=spec.max_retained,
                                tracer=self.tracer)
                self._running[stream] = (fanout, asyncio.create_task(_guard(fanout), name=f"fanout:{stream}"))
            else:
                running[0].retention, running[0].max_retained = spec.retention, spec.max_retained
        return gone

    async def close(self) -> None:
        for fanout, task in self._running.values():
            fanout.stopped = True
            task.cancel()
        tasks = [task for _, task in self._running.values()]
        if tasks:  # bounded, as in Deliveries.close
            await asyncio.wait(tasks, timeout=2.0)
        self._running.clear()


async def _guard(fanout: Fanout) -> None:
    while not fanout.stopped:
        try:
            await fanout.run()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("fan-out crashed; restarting", extra={"log": fanout.log_stream})
            await asyncio.sleep(1.0)
