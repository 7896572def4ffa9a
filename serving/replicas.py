"""One replica process of a revision: how it starts, how it is signalled, how it ends.

Used by `serving.runtime`. `Running` is what the runtime holds of a replica whatever
started it: a `Command` (the container's command, started by `start_command`) or a
`Forked` (a replica the revision's zygote forked, `serving.zygote`).

No orphans (`ripple.orphans`): a command replica is started through the launcher that sets
PR_SET_PDEATHSIG (SIGKILL) and checks its parent before exec'ing the command. Forked
replicas die with their zygote, and the zygote with us.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import socket
import sys
from typing import Protocol

from ripple import orphans
from serving import zygote


async def start_command(argv: tuple[str, ...], env: dict[str, str], cwd: str | None,
                        host: str) -> Command:
    """Start `argv` listening on a free `$PORT` (the env given, plus PORT)."""
    port = free_port(host)
    process = await asyncio.create_subprocess_exec(
        *orphans.launch(argv, signal.SIGKILL),
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
