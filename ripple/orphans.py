"""No orphans: processes of ours that die with the process that started them.

Linux's PR_SET_PDEATHSIG asks the kernel to signal a child when its parent dies, even by
SIGKILL. Every process Ripple starts uses it: `ripple up`'s workers (SIGKILL), the
embedded Valkey (SIGTERM, so it flushes its AOF and exits), a revision's zygote and the
replicas it forks (SIGTERM: they drain), command replicas (SIGKILL), and the `ripple up`
that `ripple demo ci` starts (SIGTERM: it stops its own children).

Two ways in:
- `die_with_parent(parent, signum)`, called first thing by a Python child of ours;
- `launch(argv, signum)`, the argv of a tiny launcher (this venv's interpreter with
  `-I -S`, about as cheap as `python -c pass`) that sets the death signal and then execs
  `argv`: the death signal survives the exec. Not `preexec_fn`, which is unsafe once the
  parent has threads.

Both check the parent after setting the signal and exit if it is already gone, closing the
race with a parent that died first. Linux sends the signal when the *thread* that forked
the child ends: start such children from the main thread or from a thread that lives as
long as they should. Elsewhere than Linux the signal is not available: the children then
outlive a parent killed with SIGKILL (a clean stop still stops them).

The launcher is a Python interpreter, and Python ignores SIGPIPE and SIGXFSZ at start (it
wants EPIPE and EFBIG errors instead); an ignored signal stays ignored across exec. So
before the exec the launcher puts them back to SIG_DFL, as `subprocess.Popen` does with
`restore_signals=True`: otherwise a command replica's `yes | head -1` prints "Broken
pipe" instead of ending quietly, and every command started this way (Valkey included)
differs from the same command started from a shell.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

PR_SET_PDEATHSIG = 1

_LAUNCHER = (
    "import ctypes,os,signal,stat,sys\n"
    "try: ctypes.CDLL(None).prctl(1, int(sys.argv[2]), 0, 0, 0)\n"  # PR_SET_PDEATHSIG
    "except (OSError, AttributeError): pass\n"
    "if os.getppid() != int(sys.argv[1]): os._exit(1)\n"
    # No socket of the parent's (ripple up's port) may outlive it in the command: uvloop
    # leaves inheritable fds open in children (see serving.zygote.close_inherited_sockets).
    "for fd in range(3, 1024):\n"
    "    try:\n"
    "        if stat.S_ISSOCK(os.fstat(fd).st_mode): os.close(fd)\n"
    "    except OSError: pass\n"
    # What Python's start-up ignored, back to the default (subprocess's restore_signals).
    "for name in ('SIGPIPE', 'SIGXFZ', 'SIGXFSZ'):\n"
    "    if hasattr(signal, name): signal.signal(getattr(signal, name), signal.SIG_DFL)\n"
    "try: os.execvp(sys.argv[3], sys.argv[3:])\n"
    "except OSError as e:\n"
    "    sys.stderr.write(f'{sys.argv[3]}: {e.strerror}\\n'); os._exit(127)\n"
)


def launch(argv: Sequence[str], signum: int = signal.SIGKILL) -> list[str]:
    """The argv that runs `argv` as a child that gets `signum` when this process dies."""
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(os.getpid()), str(int(signum)), *argv]


def die_with_parent(parent: int, signum: int = signal.SIGKILL, *, status: int = 1) -> bool:
    """Ask for `signum` when the parent dies; `os._exit(status)` if it is gone already.
    False when the platform has no death signal (the caller may log it)."""
    armed = False
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            armed = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:
        os._exit(status)
    return armed
