"""The supervisor (`ripple.supervising`): the backoff policy as a table, and the guard's
behaviour with an injected clock and sleep (no real time passes)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ripple import supervising
from ripple.supervising import Backoff

POLICY = Backoff(initial=0.5, factor=2.0, cap=30.0, healthy_after=60.0)


@pytest.mark.parametrize(("failures", "ran_for", "expected"), [
    (0, 0.0, 1),       # the first failure
    (1, 0.1, 2),       # a crash loop counts up
    (5, 59.9, 6),      # just short of healthy
    (5, 60.0, 1),      # a healthy run resets the count, this failure is the first again
    (9, 3600.0, 1),
])
def test_next_failures(failures: int, ran_for: float, expected: int) -> None:
    assert supervising.next_failures(POLICY, failures, ran_for) == expected


@pytest.mark.parametrize(("failures", "expected"), [
    (0, 0.0),
    (1, 0.5),
    (2, 1.0),
    (3, 2.0),
    (6, 16.0),
    (7, 30.0),         # capped
    (10_000, 30.0),    # no overflow on a long crash loop
])
def test_delay(failures: int, expected: float) -> None:
    assert supervising.delay(POLICY, failures) == expected


class FakeTime:
    """A clock that only the fake sleep advances; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Script:
    """A task factory whose runs follow a script: each entry is how long (fake seconds) the
    run lasts and how it ends ("raise" or "return"); after the script, it blocks."""

    def __init__(self, time: FakeTime, runs: list[tuple[float, str]]) -> None:
        self.time, self.runs, self.calls = time, list(runs), 0
        self.blocked = asyncio.Event()

    async def __call__(self) -> None:
        self.calls += 1
        if not self.runs:
            self.blocked.set()
            await asyncio.Event().wait()
        lasted, ending = self.runs.pop(0)
        self.time.now += lasted
        if ending == "raise":
            raise ValueError(f"run {self.calls} crashed")


async def test_a_crashing_task_is_restarted_with_capped_exponential_backoff(
        caplog: pytest.LogCaptureFixture) -> None:
    time = FakeTime()
    script = Script(time, [(0.1, "raise")] * 8)
    supervisor = supervising.Supervisor(clock=time.clock, sleep=time.sleep, backoff=POLICY)
    supervisor.spawn("informer", script)
    await asyncio.wait_for(script.blocked.wait(), 5)
    assert time.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert supervisor.restarts["informer"] == 8
    failures = [r for r in caplog.records if r.getMessage() == "task failed; restarting"]
    assert len(failures) == 8 and all(r.task == "informer" and r.exc_info for r in failures)
    await supervisor.stop(1.0)
    assert supervisor.tasks["informer"].cancelled()


async def test_a_healthy_run_resets_the_backoff() -> None:
    time = FakeTime()
    script = Script(time, [(0, "raise"), (0, "raise"), (0, "raise"), (120.0, "raise"), (0, "raise")])
    supervisor = supervising.Supervisor(clock=time.clock, sleep=time.sleep, backoff=POLICY)
    supervisor.spawn("leader", script)
    await asyncio.wait_for(script.blocked.wait(), 5)
    assert time.sleeps == [0.5, 1.0, 2.0, 0.5, 1.0]
    await supervisor.stop(1.0)


async def test_a_task_that_returns_is_logged_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    time = FakeTime()
    script = Script(time, [(0, "return")])
    supervisor = supervising.Supervisor(clock=time.clock, sleep=time.sleep, backoff=POLICY)
    supervisor.spawn("informer", script, backoff=Backoff(initial=3.0))
    await asyncio.wait_for(script.blocked.wait(), 5)
    assert script.calls == 2 and time.sleeps == [3.0]
    assert any(r.getMessage() == "task ended unexpectedly; restarting" and r.task == "informer"
               for r in caplog.records)
    await supervisor.stop(1.0)


async def test_an_essential_task_that_crashes_ends_the_watch_loudly(caplog: pytest.LogCaptureFixture) -> None:
    time = FakeTime()
    supervisor = supervising.Supervisor(clock=time.clock, sleep=time.sleep)
    other = Script(time, [])
    supervisor.spawn("informer", other)
    supervisor.spawn("server", Script(time, [(0, "raise")]), essential=True)
    with pytest.raises(supervising.TaskFailed) as failed:
        await asyncio.wait_for(supervisor.watch(), 5)
    assert failed.value.name == "server"
    assert isinstance(failed.value.__cause__, ValueError)
    assert time.sleeps == []  # never restarted
    assert any(r.levelno == logging.CRITICAL and r.task == "server" for r in caplog.records)
    await supervisor.stop(1.0)
    assert supervisor.tasks["informer"].cancelled()


async def test_an_essential_task_that_finishes_ends_the_watch_quietly() -> None:
    time = FakeTime()
    supervisor = supervising.Supervisor(clock=time.clock, sleep=time.sleep)
    supervisor.spawn("server", Script(time, [(0, "return")]), essential=True)
    await asyncio.wait_for(supervisor.watch(), 5)
    assert supervisor.tasks["server"].done() and not supervisor.tasks["server"].cancelled()


async def test_stop_names_a_task_that_does_not_stop_in_time(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()
    cancelled = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            await release.wait()  # e.g. a drain that takes its time

    supervisor = supervising.Supervisor()
    supervisor.spawn("slow", stubborn)
    supervisor.spawn("quick", Script(FakeTime(), []))
    await asyncio.sleep(0)
    await supervisor.stop(0.01)
    assert cancelled.is_set() and supervisor.tasks["quick"].cancelled()
    assert [r.task for r in caplog.records if r.getMessage() == "task did not stop in time"] == ["slow"]
    release.set()  # it swallowed the cancel to drain: it ends, and is not restarted
    with pytest.raises(asyncio.CancelledError):
        await supervisor.tasks["slow"]
    assert supervisor.restarts["slow"] == 0


async def test_stop_can_pick_tasks_by_name() -> None:
    supervisor = supervising.Supervisor()
    supervisor.spawn("a", Script(FakeTime(), []))
    supervisor.spawn("b", Script(FakeTime(), []))
    await asyncio.sleep(0)
    await supervisor.stop(1.0, names=["a"])
    assert supervisor.tasks["a"].cancelled() and not supervisor.tasks["b"].done()
    await supervisor.stop(1.0)


def test_a_name_is_supervised_once() -> None:
    async def main() -> None:
        supervisor = supervising.Supervisor()
        supervisor.spawn("a", Script(FakeTime(), []))
        with pytest.raises(ValueError, match="'a'"):
            supervisor.spawn("a", Script(FakeTime(), []))
        await supervisor.stop(1.0)

    asyncio.run(main())
