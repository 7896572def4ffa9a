"""`ripple.cli.up.ValkeyKeeper`: an embedded Valkey that dies is started again, one that
fails to start is tried again, and nothing is started once `ripple up` stops. A fake
server object; the keeper's own thread (the e2e test kills a real valkey-server)."""

from __future__ import annotations

import threading

from ripple import errors, supervising
from ripple.cli import up
from tests.support.waiting import wait_until

QUICK = supervising.Backoff(initial=0.01, factor=2.0, cap=0.05, healthy_after=60.0)


class FakeValkey:
    def __init__(self, failures: int = 0) -> None:
        self.up, self.failures, self.starts = True, failures, 0
        self.pid, self.port = 100, 6379
        self.lock = threading.Lock()

    def running(self) -> bool:
        with self.lock:
            return self.up

    def restart(self) -> FakeValkey:
        with self.lock:
            self.starts += 1
            if self.failures:
                self.failures -= 1
                raise errors.StoreUnavailable("embedded valkey exited with 1")
            self.up, self.pid = True, self.pid + 1
            return self

    def die(self) -> None:
        with self.lock:
            self.up = False


def test_a_dead_valkey_is_restarted_and_one_that_fails_to_start_is_tried_again() -> None:
    valkey = FakeValkey(failures=2)
    keeper = up.ValkeyKeeper(valkey, backoff=QUICK, poll=0.01)  # type: ignore[arg-type]
    keeper.start()
    try:
        valkey.die()
        wait_until(lambda: keeper.restarts == 1, what="restarted")
        assert valkey.running() and valkey.starts == 3 and valkey.pid == 101
        valkey.die()
        wait_until(lambda: keeper.restarts == 2, what="restarted again")
    finally:
        keeper.stop()


def test_nothing_is_restarted_after_stop() -> None:
    valkey = FakeValkey()
    keeper = up.ValkeyKeeper(valkey, backoff=QUICK, poll=0.01)  # type: ignore[arg-type]
    keeper.start()
    keeper.stop()
    valkey.die()
    assert valkey.starts == 0 and keeper.restarts == 0
