"""`ripple.orphans`: a child started through the launcher dies with its parent, even when
the parent is killed with SIGKILL; a child whose parent is already gone exits at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from ripple import orphans
from tests.support.waiting import wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_launched_child_dies_with_a_killed_parent(signum: int) -> None:
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import subprocess, sys, time
        from ripple import orphans
        child = subprocess.Popen(orphans.launch(["sleep", "60"], {int(signum)}))
        print(child.pid, flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        wait_until(lambda: _cmdline(child).startswith("sleep"), timeout=10, what="the exec")
        parent.kill()
        parent.wait()
        wait_until(lambda: not _alive(child), timeout=10, what="the child's end with its parent")
    finally:
        parent.kill()


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_a_launched_command_that_does_not_exist_is_one_line_and_127() -> None:
    done = subprocess.run(orphans.launch(["no-such-command-here"]), capture_output=True, text=True)
    assert done.returncode == 127
    assert done.stderr.strip() == "no-such-command-here: No such file or directory"


def test_a_child_whose_parent_is_gone_exits_with_the_status_asked() -> None:
    code = "from ripple import orphans; orphans.die_with_parent(1, status=3); print('still here')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (3, "")


def test_arming_in_a_child_of_ours_reports_success() -> None:
    code = f"from ripple import orphans; print(orphans.die_with_parent({os.getpid()}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "True"


def _ignored(status: str) -> set[int]:
    """The signals a /proc/PID/status text says are ignored (its SigIgn mask)."""
    line = next(line for line in status.splitlines() if line.startswith("SigIgn:"))
    mask = int(line.split()[1], 16)
    return {signum for signum in range(1, 65) if mask >> (signum - 1) & 1}


@pytest.mark.parametrize("signum", [signal.SIGPIPE, signal.SIGXFSZ])
def test_a_launched_command_has_the_signals_python_ignores_at_their_default(signum: int) -> None:
    # The launcher's interpreter ignored both at start; `cat` reads its own status after the exec.
    done = subprocess.run(orphans.launch(["cat", "/proc/self/status"]), capture_output=True,
                          text=True, check=True)
    assert signum not in _ignored(done.stdout)


def test_a_launched_command_that_ignored_sigint_keeps_it_ignored() -> None:
    # Only what Python's own start-up changed is put back: a disposition the parent chose stays.
    code = textwrap.dedent("""
        import signal, subprocess, sys
        from ripple import orphans
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.stdout.write(subprocess.run(orphans.launch(["cat", "/proc/self/status"]),
                                        capture_output=True, text=True).stdout)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert signal.SIGINT in _ignored(done.stdout)
    assert signal.SIGPIPE not in _ignored(done.stdout)


def test_a_launched_pipeline_ends_quietly_when_its_reader_stops() -> None:
    # `yes` dies of SIGPIPE once `head` has its line, as from a shell; with SIGPIPE ignored it
    # got EPIPE instead and said "yes: standard output: Broken pipe".
    done = subprocess.run(orphans.launch(["sh", "-c", "yes | head -n 1"]), capture_output=True,
                          text=True, timeout=10)
    assert (done.returncode, done.stdout, done.stderr) == (0, "y\n", "")
