"""Faults for the reliability checks: kill the mesh on a schedule, kill the store, cut the
store off, and a subscriber that never answers.

Used by `tests/reliability`. `MeshChaos` SIGKILLs `ripple up` (its worker children die
with it) at the times a seeded RNG picked, and restarts it on the same data dir, which
adopts the embedded Valkey. `kill_store` SIGKILLs a Valkey server by the pid in its data
dir, as a crash would. `StoreProxy` stands between ripple and its store and can drop
everything, as a network partition does. `HangingSink` accepts connections and reads
requests but never answers, so every attempt to it lasts until the caller's timeout. The
proxy and the sink run in processes of their own, so they cost the measuring test nothing.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ripple import embedded
from tests.support.mesh import Mesh


def kill_times(rng: random.Random, duration: float, interval: tuple[float, float]) -> list[float]:
    """Seconds from the start at which to kill: gaps drawn from `interval`, all before
    `duration` minus one smallest gap, so the last kill leaves time to deliver."""
    times: list[float] = []
    t = 0.0
    while True:
        t += rng.uniform(*interval)
        if t > duration - interval[0]:
            return times
        times.append(t)


@dataclass
class MeshChaos:
    """SIGKILLs `mesh` at each of `times` (seconds after `start`) and restarts it at once."""

    mesh: Mesh
    times: list[float]
    restarts: list[float] = field(default_factory=list)
    """Seconds each restart took until /healthz answered."""

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos", daemon=True)
        self._error: BaseException | None = None

    def start(self) -> MeshChaos:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def join(self) -> None:
        """Wait for the remaining kills; re-raise a failed restart on the caller's thread."""
        self._thread.join(max(self.times, default=0) + 120)
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Cancel the kills still to come (a failed check must not leave them running)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(60)

    def _run(self) -> None:
        try:
            for at in self.times:
                if self._stop.wait(max(0.0, self._started + at - time.monotonic())):
                    return
                self.mesh.kill()
                began = time.monotonic()
                self.mesh.start()
                self.restarts.append(time.monotonic() - began)
        except BaseException as exc:  # re-raised in join, on the test's thread
            self._error = exc


def kill_store(store: embedded.EmbeddedValkey) -> int:
    """SIGKILL the Valkey server of `store` (the pid it wrote in its data dir) and reap it;
    returns the pid. Its AOF is whatever Valkey had written, as after a crash."""
    pid = int((store.data_dir / "valkey.pid").read_text().strip())
    assert pid == store.pid, f"the pid file names {pid}, the store started {store.pid}"
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)  # it is our child: reap it, or it lingers as a zombie that looks alive
    store.pid = 0
    return pid


class HangingSink:
    """A subscriber that reads every request and never answers, in its own process
    (`tests.support.hanging_child`), so that its connections cost the test process
    nothing. Each aiohttp attempt opens its own connection (one with no answer cannot be
    reused), so `connections` counts attempts and `open` the attempts in flight."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen([sys.executable, "-m", "tests.support.hanging_child"],
                                      stdout=subprocess.PIPE, cwd=Path(__file__).parents[2])
        assert self._proc.stdout is not None
        self._out = self._proc.stdout.fileno()
        self._port = int(self._proc.stdout.readline())
        os.set_blocking(self._out, False)
        self._accepted = self._closed = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def _read(self) -> None:
        while self._proc.returncode is None:
            try:
                chunk = os.read(self._out, 65536)
            except BlockingIOError:
                return
            if not chunk:
                return
            self._accepted += chunk.count(b"+")
            self._closed += chunk.count(b"-")

    @property
    def connections(self) -> int:
        self._read()
        return self._accepted

    @property
    def open(self) -> int:
        self._read()
        return self._accepted - self._closed

    def __enter__(self) -> HangingSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self._read()  # the counts stay readable after exit
        self._proc.kill()
        self._proc.wait(10)
        assert self._proc.stdout is not None
        self._proc.stdout.close()


class StoreProxy:
    """A proxy in front of a store (`tests.support.store_proxy`, its own process) that
    `blackhole()` turns into a network partition and `restore()` heals."""

    def __init__(self, store_port: int) -> None:
        argv = [sys.executable, "-m", "tests.support.store_proxy", str(store_port)]
        self._proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                                      cwd=Path(__file__).parents[2])
        assert self._proc.stdout is not None
        self.port = int(self._proc.stdout.readline())

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _switch(self, signum: int, wanted: str) -> None:
        assert self._proc.stdout is not None
        self._proc.send_signal(signum)
        assert self._proc.stdout.readline().strip() == wanted

    def blackhole(self) -> None:
        self._switch(signal.SIGUSR1, "black")

    def restore(self) -> None:
        self._switch(signal.SIGUSR2, "open")

    def __enter__(self) -> StoreProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.kill()
        self._proc.wait(10)
        assert self._proc.stdout is not None
        self._proc.stdout.close()
