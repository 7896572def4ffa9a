"""The set of running dispatchers of one process, and the retry-schedule promoter.

The broker, channel and sources' planes call `Deliveries.sync(targets, kinds=...)` with
every queue of the kinds they own (`identities.Kind`), each time their resources change.
Dispatchers of new keys start, changed targets are swapped in place (a new policy or
subscriber applies to the next attempt), and the dispatchers of vanished keys stop. One
promoter task moves due retries of the schedules of the running dispatchers back into
their queues; a schedule no dispatcher uses any more is no longer polled. The dispatchers
of idle queues wait in one `channels.idling.IdleReader`, shared by the process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, Collection, Iterable

from ripple import errors
from ripple.settings import DeliverySettings

from channels import idling, tracing
from channels.dispatching import Dispatcher, Target
from channels.identities import Kind, TargetKey
from channels.queues import Queues
from channels.sending import Sender

log = logging.getLogger(__name__)


class Deliveries:
    def __init__(
        self,
        queues: Queues,
        sender: Sender,
        *,
        consumer: str,
        settings: DeliverySettings,
        clock: Callable[[], float] = time.time,
        tracer: tracing.Tracer = tracing.OFF,
    ) -> None:
        self.queues, self.sender, self.consumer, self.tracer = queues, sender, consumer, tracer
        self.settings, self.clock = settings, clock
        self._dispatchers: dict[TargetKey, Dispatcher] = {}
        self._tasks: dict[TargetKey, asyncio.Task[None]] = {}
        self._schedules: set[str] = set()
        self._promoter: asyncio.Task[None] | None = None
        self._closed = False
        self.idle = idling.IdleReader(queues, consumer, on_stray=self._stray)
        """The one reader of every idle queue of this process (`channels.idling`)."""

    def targets(self) -> dict[TargetKey, Target]:
        return {key: d.target for key, d in self._dispatchers.items()}

    def sync(self, targets: Iterable[Target], *,
             kinds: Collection[Kind] | None = None) -> list[Target]:
        """Serve exactly `targets` among the targets of `kinds` (None: of every kind), the
        kinds the caller owns; return the removed ones."""
        wanted = {t.key: t for t in targets}
        removed = []
        for key in [k for k in self._dispatchers
                    if (kinds is None or k.kind in kinds) and k not in wanted]:
            removed.append(self._dispatchers[key].target)
            self._stop(key)
        for key, target in wanted.items():
            current = self._dispatchers.get(key)
            if current is None:
                self._start(target)
            elif current.target.stream != target.stream:
                self._stop(key)
                self._start(target)
            else:
                current.target = target
        self._schedules = {d.target.schedule for d in self._dispatchers.values()
                           if d.target.schedule}
        if self._promoter is None or self._promoter.done():
            self._promoter = asyncio.create_task(self._promote_forever(), name="retry-promoter")
        return removed

    def _start(self, target: Target) -> None:
        dispatcher = Dispatcher(self.queues, self.sender, target, consumer=self.consumer,
                                settings=self.settings, clock=self.clock, tracer=self.tracer,
                                idle=self.idle)
        self._dispatchers[target.key] = dispatcher
        self._tasks[target.key] = asyncio.create_task(self._guard(dispatcher), name=f"dispatch:{target.key}")

    async def _guard(self, dispatcher: Dispatcher) -> None:
        """A dispatcher that crashes is logged and restarted, never silently gone."""
        while not dispatcher.stopped:
            try:
                await dispatcher.run()
                return
            except asyncio.CancelledError:
                raise
            except errors.StoreUnavailable as exc:
                log.warning("dispatcher lost the store; restarting",
                            extra={"queue": dispatcher.target.key, "error": str(exc)})
            except Exception:
                log.exception("dispatcher crashed; restarting", extra={"queue": dispatcher.target.key})
            await asyncio.sleep(1.0)

    def _stray(self, stream: str) -> None:
        """Entries were read for a queue whose dispatcher left the idle reader: whoever
        serves that stream now re-reads its pending entries (a new dispatcher does anyway)."""
        for dispatcher in self._dispatchers.values():
            if dispatcher.target.stream == stream:
                dispatcher.reread()

    def _stop(self, key: TargetKey) -> None:
        dispatcher = self._dispatchers.pop(key, None)
        if dispatcher is not None:
            dispatcher.stopped = True
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    async def _promote_forever(self) -> None:
        while not self._closed:
            for schedule in list(self._schedules):
                try:
                    await self.queues.promote(schedule, self.clock())
                except errors.StoreUnavailable as exc:
                    log.warning("retry schedule unavailable", extra={"schedule": schedule, "error": str(exc)})
                    await asyncio.sleep(1.0)
                except Exception:  # one bad schedule must not stop every retry of the process
                    log.exception("retry promotion failed", extra={"schedule": schedule})
                    await asyncio.sleep(1.0)
            await asyncio.sleep(self.settings.schedule_poll)

    async def close(self, drain_timeout: float = 5.0) -> None:
        """Stop reading, let in-flight deliveries finish within the bound, then cancel."""
        self._closed = True
        for dispatcher in self._dispatchers.values():
            dispatcher.stopped = True
        reading = list(self._tasks.values())
        if self._promoter is not None:
            reading.append(self._promoter)
        for task in reading:
            task.cancel()
        if reading:  # bounded: a read stuck in the client must not hold up shutdown
            await asyncio.wait(reading, timeout=2.0)
        await self.idle.close()
        await asyncio.gather(*(d.drain(drain_timeout) for d in self._dispatchers.values()))
        self._dispatchers.clear()
        self._tasks.clear()
