"""One replica process of a revision: how it starts, how it is signalled, how it ends.

Used by `serving.runtime`. `Running` is what the runtime holds of a replica whatever
started it: a `Command` (the container's command, started by `start_command`) or a
`Forked` (a replica the revision's zygote forked, `serving.zygote`).

No orphans: a command replica is started through a tiny launcher (`_LAUNCH`, run by this
venv's interpreter with `-I -S`: about as cheap as `python -c pass`) that sets
PR_SET_PDEATHSIG (SIGKILL) and checks its parent before exec'ing the command. Not with
`preexec_fn`, which is unsafe once the process has threads; the death signal survives the
exec. Forked replicas die with their zygote, and the zygote with us.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import sys
from typing import Protocol

from serving import zygote

# The launcher of a command replica: die with the runtime, then become the command.
_LAUNCH = (
    "import ctypes,os,sys\n"
    "try: ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)\n"          # PR_SET_PDEATHSIG, SIGKILL
    "except (OSError, AttributeError): pass\n"
    "if os.getppid() != int(sys.argv[1]): os._exit(1)\n"
    # No socket of the runtime's (ripple up's port) may outlive it in the command: uvloop
    # leaves inheritable fds open in children (see zygote.close_inherited_sockets).
    "import stat\n"
    "for fd in range(3, 1024):\n"
    "    try:\n"
    "        if stat.S_ISSOCK(os.fstat(fd).st_mode): os.close(fd)\n"
    "    except OSError: pass\n"
    "try: os.execvp(sys.argv[2], sys.argv[2:])\n"
    "except OSError as e:\n"
    "    sys.stderr.write(f'{sys.argv[2]}: {e.strerror}\\n'); os._exit(127)\n"
)


async def start_command(argv: tuple[str, ...], env: dict[str, str], cwd: str | None,
                        host: str) -> Command:
    """Start `argv` listening on a free `$PORT` (the env given, plus PORT)."""
    port = free_port(host)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-S", "-c", _LAUNCH, str(os.getpid()), *argv,
        env={**env, "PORT": str(port)}, cwd=cwd, stdin=asyncio.subprocess.DEVNULL)
    return Command(process, port)


def exit_reason(code: int) -> str:
    """Knative's `ExitCode<N>` reason; a signal counts as 128 + its number, as kubelet."""
    return f"ExitCode{128 - code if code < 0 else code}"


class Running(Protocol):
    @property
    def pid(self) -> int: ...
    @property
    def port(self) -> int: ...

    async def wait(self) -> int | None: ...
    def signal(self, signum: int) -> None: ...


@dataclasses.dataclass
class Command:
    process: asyncio.subprocess.Process
    listen_port: int

    @property
    def port(self) -> int:
        return self.listen_port

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait(self) -> int | None:
        return await self.process.wait()

    def signal(self, signum: int) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)


@dataclasses.dataclass
class Forked:
    replica: zygote.Replica
    parent: zygote.Zygote

    @property
    def pid(self) -> int:
        return self.replica.pid

    @property
    def port(self) -> int:
        return self.replica.port

    async def wait(self) -> int | None:
        return await asyncio.shield(self.replica.exited)

    def signal(self, signum: int) -> None:
        if not self.replica.exited.done():  # not reaped yet: the pid is still ours
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.replica.pid, signum)


def free_port(host: str) -> int:
    """A port free now; the replica binds it a moment later (a rare race: a replica that
    cannot bind exits, and is started again on another port)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
