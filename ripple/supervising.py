"""Supervised long-lived tasks: every background loop of a worker is named and guarded.

Called by the composition root (`controllers.platforms.local.platform.run_worker`), in the
style of kopf's `aiotasks.guard` and `running.run_tasks`. Each task is spawned by name
with a factory that makes its coroutine. When a task ends, its end is logged, then:

- an ordinary task is started again after a capped exponential backoff, which resets
  once the task has run healthily for `Backoff.healthy_after` seconds;
- an essential task ends the supervision: `watch()` returns when it finished on its own
  (the server after SIGTERM), or raises `TaskFailed` when it crashed, so the worker stops
  loudly with a non-zero exit and `ripple up` restarts it.

`stop()` cancels what is still running and waits with a timeout, naming any task that
does not stop in time. The backoff arithmetic is pure (`next_failures`, `delay`); the clock
and the sleep are arguments, so tests run the supervisor without real time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Factory = Callable[[], Awaitable[None]]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Backoff:
    """How long to wait before a task's next start, from how often it failed in a row."""

    initial: float = 0.5
    """Seconds before the first restart."""
    factor: float = 2.0
    """Each further failure in a row multiplies the delay by this."""
    cap: float = 30.0
    """The delay never exceeds this."""
    healthy_after: float = 60.0
    """A run at least this long counts as healthy: the next failure starts again at `initial`."""


def next_failures(policy: Backoff, failures: int, ran_for: float) -> int:
    """Failures in a row after a run of `ran_for` seconds that ended (this one included)."""
    return 1 if ran_for >= policy.healthy_after else failures + 1


def delay(policy: Backoff, failures: int) -> float:
    """Seconds to wait before the next start after `failures` failures in a row (>= 1)."""
    if failures <= 0:
        return 0.0
    # min() before the power would still overflow for huge counts: bound the exponent.
    exponent = min(failures - 1, 64)
    return float(min(policy.cap, policy.initial * policy.factor ** exponent))


class TaskFailed(Exception):
    """An essential task crashed; the worker must stop. Chained to the task's exception."""

    def __init__(self, name: str) -> None:
        super().__init__(f"essential task {name!r} failed")
        self.name = name


class Supervisor:
    """The root tasks of one worker process."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep,
                 backoff: Backoff = Backoff()) -> None:
        self.clock, self.sleep, self.backoff = clock, sleep, backoff
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.restarts: dict[str, int] = {}
        self._ended: asyncio.Queue[tuple[str, BaseException | None]] = asyncio.Queue()

    def spawn(self, name: str, factory: Factory, *, essential: bool = False,
              backoff: Backoff | None = None) -> asyncio.Task[None]:
        """Start `factory()` as the task `name`, guarded as described in the module docstring."""
        if name in self.tasks:
            raise ValueError(f"a task named {name!r} is supervised already")
        self.restarts[name] = 0
        guard = self._essential(name, factory) if essential else \
            self._restarting(name, factory, backoff or self.backoff)
        task = asyncio.create_task(guard, name=name)
        self.tasks[name] = task
        return task

    async def watch(self) -> None:
        """Wait until an essential task ends: return if it finished, raise if it crashed."""
        name, error = await self._ended.get()
        if error is not None:
            raise TaskFailed(name) from error

    async def stop(self, timeout: float, *, names: list[str] | None = None) -> None:
        """Cancel the tasks (all, or `names`) and wait up to `timeout` for them to end."""
        tasks = [t for n, t in self.tasks.items() if names is None or n in names]
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            log.error("task did not stop in time", extra={"task": task.get_name(), "timeout": timeout})

    async def _essential(self, name: str, factory: Factory) -> None:
        try:
            await factory()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            log.critical("essential task failed; stopping the worker", exc_info=exc, extra={"task": name})
            self._ended.put_nowait((name, exc))
            return
        log.info("essential task finished; stopping the worker", extra={"task": name})
        self._ended.put_nowait((name, None))

    async def _restarting(self, name: str, factory: Factory, policy: Backoff) -> None:
        failures = 0
        while True:
            started = self.clock()
            try:
                await factory()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _unless_stopping()
                failures = next_failures(policy, failures, self.clock() - started)
                wait = delay(policy, failures)
                log.error("task failed; restarting", exc_info=exc,
                          extra={"task": name, "failures": failures, "restart_in": wait})
            else:
                _unless_stopping()
                failures = next_failures(policy, failures, self.clock() - started)
                wait = delay(policy, failures)
                log.error("task ended unexpectedly; restarting",
                          extra={"task": name, "failures": failures, "restart_in": wait})
            await self.sleep(wait)
            self.restarts[name] += 1


def _unless_stopping() -> None:
    """A task that swallowed its cancellation (e.g. to drain) is stopping, not failing:
    end its guard instead of restarting it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
