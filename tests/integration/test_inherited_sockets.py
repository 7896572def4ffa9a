"""A revision's processes keep no socket of `ripple up`'s, even under uvloop.

uvloop's `create_subprocess_exec` ignores `close_fds`: every inheritable fd reaches the
child, and `ripple up`'s listening socket is inheritable (its workers receive it). A
zygote or command replica that kept it would hold the port after `ripple up` was killed
(a replica drains its in-flight requests first), so the restart failed with "Address
already in use" (found by tests/e2e/test_ci_flow.py's kill -9 mid-run).
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from pathlib import Path

import uvloop

from serving import replicas, zygote

HANDLERS = Path(__file__).resolve().parents[1] / "support" / "functions" / "handlers.py"


def socket_inodes(pid: int) -> set[int]:
    found = set()
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[len("socket:["):-1]))
    return found


def listening() -> socket.socket:
    sock = socket.create_server(("127.0.0.1", 0))
    sock.set_inheritable(True)  # as ripple up's, which its workers receive
    return sock


def test_a_zygote_and_its_replicas_close_the_inherited_listening_socket() -> None:
    async def check() -> None:
        with listening() as sock, tempfile.TemporaryDirectory() as tmp:
            inode = os.fstat(sock.fileno()).st_ino
            z = await zygote.Zygote.start(f"{HANDLERS}:echo", os.path.join(tmp, "z.sock"))
            try:
                assert inode not in socket_inodes(z.pid)
                replica = await z.fork()
                assert inode not in socket_inodes(replica.pid)
            finally:
                await z.close()
    uvloop.run(check())


def test_a_command_replica_closes_the_inherited_listening_socket() -> None:
    async def check() -> None:
        with listening() as sock:
            inode = os.fstat(sock.fileno()).st_ino
            command = await replicas.start_command(("sleep", "30"), dict(os.environ), None,
                                                   "127.0.0.1")
            try:
                pid = command.process.pid
                for _ in range(200):  # until the launcher has exec'd sleep
                    if os.readlink(f"/proc/{pid}/exe").endswith("sleep"):
                        break
                    await asyncio.sleep(0.02)
                assert inode not in socket_inodes(pid)
            finally:
                command.process.kill()
                await command.process.wait()
    uvloop.run(check())
