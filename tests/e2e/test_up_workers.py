"""`ripple up --workers N` keeps its children: a child killed with SIGKILL is logged and
started again, SIGTERM still stops everything, and no child outlives `ripple up`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ripple import embedded
from tests.support.mesh import Mesh
from tests.support.prober import wait_until

pytestmark = pytest.mark.e2e


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def workers(mesh: Mesh) -> set[int]:
    """The child workers (not the embedded Valkey, which runs in its own session)."""
    assert mesh.proc is not None
    return {p for p in children(mesh.proc.pid)
            if b"ripple.cli.up" in Path(f"/proc/{p}/cmdline").read_bytes()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_killed_child_worker_is_restarted_and_sigterm_leaves_no_orphan(data_dir: Path) -> None:
    mesh = Mesh(data_dir, workers=3).start()
    try:
        assert wait_until(lambda: len(workers(mesh)) == 2, timeout=20)
        first = workers(mesh)
        victim = min(first)
        os.kill(victim, 9)
        assert wait_until(lambda: len(workers(mesh)) == 2 and victim not in workers(mesh), timeout=20)
        assert wait_until(lambda: "worker restarted" in mesh.log.read_text(), timeout=5)
        log = mesh.log.read_text()
        assert "worker died; restarting" in log
        now = workers(mesh)
    finally:
        assert mesh.stop(timeout=30) == 0
    assert not any(alive(p) for p in first | now)


def test_children_die_with_a_killed_ripple_up(data_dir: Path) -> None:
    mesh = Mesh(data_dir, workers=2).start()
    try:
        assert wait_until(lambda: len(workers(mesh)) == 1, timeout=20)
        child = workers(mesh).pop()
        valkey = int((data_dir / "valkey.pid").read_text())
        mesh.kill()  # SIGKILL: no cleanup runs, PR_SET_PDEATHSIG takes the children down
        assert wait_until(lambda: not alive(child), timeout=10)
        assert wait_until(lambda: not alive(valkey), timeout=15), "embedded valkey left orphaned"
    finally:
        embedded.EmbeddedValkey(data_dir).start().stop()  # whatever a failed check left: stop it
