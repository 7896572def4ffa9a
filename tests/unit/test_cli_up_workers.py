"""`ripple up`'s child workers (`ripple.cli.up.Workers`): a child that dies is logged and
started again after a backoff; one that exits 0 was told to stop and is not. Fake
processes and an injected clock: no process is started and no time passes."""

from __future__ import annotations

import pytest

from ripple import supervising
from ripple.cli import up
from ripple.supervising import Backoff

POLICY = Backoff(initial=1.0, factor=2.0, cap=8.0, healthy_after=60.0)


class FakeProc:
    pids = iter(range(100, 1000))

    def __init__(self) -> None:
        self.pid = next(self.pids)
        self.code: int | None = None
        self.terminated = self.killed = False

    def poll(self) -> int | None:
        return self.code

    def terminate(self) -> None:
        self.terminated = True
        self.code = 0

    def kill(self) -> None:
        self.killed = True

    def wait(self, timeout: float | None = None) -> int | None:
        return self.code


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workers(clock: Clock) -> up.Workers:
    spawned: list[int] = []

    def spawn(index: int) -> FakeProc:
        spawned.append(index)
        return FakeProc()

    w = up.Workers(spawn, range(1, 3), backoff=POLICY, clock=clock)  # type: ignore[arg-type]
    w.spawned = spawned  # type: ignore[attr-defined]
    with w._lock:  # start() without the watcher thread: the test drives check()
        for index in w.indexes:
            w._start(index, clock())
    return w


def test_a_child_that_dies_is_restarted_after_its_backoff(workers: up.Workers, clock: Clock,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    dead = workers.procs[1]
    dead.code = -9  # type: ignore[attr-defined]
    clock.now = 5.0
    workers.check()
    assert workers.due == {1: 6.0} and workers.procs[1] is dead
    died = [r for r in caplog.records if r.getMessage() == "worker died; restarting"]
    assert [(r.worker, r.exit_code, r.restart_in) for r in died] == [(1, -9, 1.0)]
    clock.now = 5.9
    workers.check()
    assert workers.procs[1] is dead  # not yet due
    clock.now = 6.0
    workers.check()
    assert workers.procs[1] is not dead and workers.restarts == 1
    assert workers.spawned == [1, 2, 1]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("runs", "delays"), [
    ([0.1, 0.1, 0.1, 0.1, 0.1], [1.0, 2.0, 4.0, 8.0, 8.0]),    # a crash loop backs off to the cap
    ([0.1, 0.1, 120.0, 0.1], [1.0, 2.0, 1.0, 2.0]),           # a healthy minute resets it
])
def test_backoff_of_a_child_that_keeps_dying(workers: up.Workers, clock: Clock,
                                             runs: list[float], delays: list[float]) -> None:
    seen = []
    for lasted in runs:
        clock.now += lasted
        workers.procs[1].code = 1  # type: ignore[attr-defined]
        workers.check()
        seen.append(workers.due[1] - clock.now)
        clock.now = workers.due[1]
        workers.check()
    assert seen == delays


def test_a_child_that_exits_zero_was_stopped_and_is_not_restarted(
        workers: up.Workers, caplog: pytest.LogCaptureFixture) -> None:
    workers.procs[2].code = 0  # type: ignore[attr-defined]
    workers.check()
    assert 2 not in workers.procs and not workers.due
    assert any(r.getMessage() == "worker stopped; not restarting" and r.worker == 2 for r in caplog.records)


def test_stop_terminates_every_child_and_restarts_none(workers: up.Workers, clock: Clock) -> None:
    procs = list(workers.procs.values())
    workers.stop(timeout=1.0)
    assert all(p.terminated for p in procs)  # type: ignore[attr-defined]
    procs[0].code = -9  # type: ignore[attr-defined]
    clock.now = 100.0
    workers.check()
    assert not workers.due and workers.spawned == [1, 2]  # type: ignore[attr-defined]


def test_a_worker_whose_essential_task_failed_exits_1(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from controllers.platforms.local import platform

    async def failing(*_args: object, **_kwargs: object) -> None:
        raise supervising.TaskFailed("server") from OSError("accept failed")

    monkeypatch.setattr(platform, "run_worker", failing)
    monkeypatch.setattr(up.signal, "signal", lambda *_: None)  # leave pytest's handlers alone
    settings = up.settings_from(up.argparse.Namespace(
        host="127.0.0.1", port=0, workers=1, public_url=None, redis_url="redis://x", data_dir=".",
        appendfsync="everysec", store_timeout=5.0))
    assert up._serve(settings, "redis://x", 3, None, []) == 1  # type: ignore[arg-type]
    assert "Error: worker 3 stopped: essential task 'server' failed" in capsys.readouterr().err


@pytest.mark.parametrize("given, seconds", [([], 3600.0), (["--delivery-backoff-max", "50ms"], 0.05),
                                            (["--delivery-backoff-max", "2m"], 120.0)])
def test_the_delivery_backoff_cap_is_a_flag(given: list[str], seconds: float) -> None:
    parser = up.argparse.ArgumentParser()
    up.add_arguments(parser)
    settings = up.settings_from(parser.parse_args(given))
    assert settings.delivery.backoff_max == seconds


def test_a_bad_delivery_backoff_cap_is_refused_naming_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    parser = up.argparse.ArgumentParser()
    up.add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--delivery-backoff-max", "soon"])
    assert "--delivery-backoff-max: invalid value 'soon'" in capsys.readouterr().err
