"""The zygote: a parent that has loaded the runtime and one function, forking replicas on request.

Issue #10's cold-start goal (P5): a request to a function revision at zero answered within
3x `python -c pass`. A fresh interpreter cannot do it (importing the runtime alone costs
more), a fork of a process that has imported everything can: the child only builds an
event loop and answers. The revision runtime starts one zygote per function revision
(`Zygote.start`) and asks it for a replica whenever it scales up (`Zygote.fork`).

The zygote process (`python -m serving.zygote FILE:FUNCTION --socket PATH`, or
`ripple function zygote`) has no running event loop and no threads when it forks: it
serves its Unix socket with `selectors`, and it warns in its log if the user's module
started a thread. It prints `ready` on stdout once the socket accepts, then points its
stdout (and so every replica's) at stderr.

Protocol: one JSON object per line on a Unix stream socket, both ways.

    -> {"id": 1, "op": "fork", "port": 0, "host": "127.0.0.1", "env": {"K": "V"}, "timeout": 30}
    <- {"id": 1, "pid": 4242, "port": 40123}             or  {"id": 1, "error": "..."}
    <- {"exited": 4242, "returncode": 75}                 (later, when that replica ends)

The zygote binds the replica's listening socket itself before forking (port 0 picks a free
one), so when the reply arrives the port already accepts: connections queue in the kernel
until the child's loop takes them, and the caller forwards its request at once, with no
polling. `env` is applied in the child before `init`; `timeout` (seconds) defaults to the
child's `RIPPLE_TIMEOUT_SECONDS`, then the zygote's `--timeout`. `returncode` is the exit
status, or minus the signal, as `subprocess` reports it; 75 means recycled after a timeout
(`hosting.EXIT_RECYCLE`): the caller forks a new replica.

No orphans: every child sets PR_SET_PDEATHSIG (SIGTERM: it drains and exits when the
zygote dies, even by SIGKILL), and so does the zygote itself towards the process that
started it; both re-check their parent after setting it, closing the race with an early
death. Note that Linux sends the death signal when the *thread* that forked dies: start the
zygote from a long-lived thread (an asyncio loop's thread is). A connection owns the
replicas it forked: when it closes, they get SIGTERM. On SIGTERM the zygote terminates its
replicas (SIGKILL after `STOP_GRACE`), reaps them and exits. Replicas are reaped on
SIGCHLD, so none stays a zombie.

`init(context)` runs in each replica, after the fork, unless it is marked
`@serving.fork_safe`: then it runs once in the zygote and replicas inherit `user_data`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import os
import selectors
import signal
import socket
import stat
import sys
import threading
import time
from typing import Any

from ripple import cancelling, orphans
from serving import functions, hosting

log = logging.getLogger(__name__)

STOP_GRACE = 10.0
READY_LINE = b"ready\n"
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def set_death_signal(signum: int, expected_parent: int) -> None:
    """Ask Linux to send `signum` when our parent dies; exit if it already has."""
    if not orphans.die_with_parent(expected_parent, signum, status=0) and sys.platform.startswith("linux"):
        log.warning("prctl(PR_SET_PDEATHSIG) failed")


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def returncode(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


class Server:
    """The zygote's side: the Unix socket, the forks, the reaping. Single-threaded."""

    def __init__(self, function: functions.Function, path: str, *, timeout: float) -> None:
        self.function = function
        self.path = path
        self.timeout = timeout
        self.context = functions.new_context(function)
        self.init_done = False
        self.selector = selectors.DefaultSelector()
        self.buffers: dict[socket.socket, bytes] = {}
        self.owners: dict[int, socket.socket | None] = {}   # replica pid -> its connection
        self.stopping = False
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.wake_r, self.wake_w = os.pipe()

    # -- life cycle ----------------------------------------------------------------------
    def prepare(self) -> None:
        if self.function.init is not None and self.function.init_fork_safe:
            self.function.init(self.context)
            self.init_done = True
        if threading.active_count() > 1:
            log.warning("the function's module started threads; forked replicas will not "
                        "have them (only the forking thread survives a fork)")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.listener.bind(self.path)
        self.listener.listen(64)
        self.listener.setblocking(False)
        for fd in (self.wake_r, self.wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        # Objects that exist now are shared copy-on-write by every replica: keep the
        # collector from touching (and so copying) them.
        gc.collect()
        gc.freeze()

    def _on_stop(self, *_: Any) -> None:
        self.stopping = True

    def run(self, parent: int) -> int:
        while not self.stopping:
            for key, _ in self.selector.select(timeout=1.0):
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    with contextlib.suppress(BlockingIOError):
                        os.read(self.wake_r, 4096)
                else:
                    self._read(key.fileobj)  # type: ignore[arg-type]
            self._reap()
            if os.getppid() != parent:
                self.stopping = True
        self._shutdown()
        return 0

    def _shutdown(self) -> None:
        pids = list(self.owners)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while self.owners and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.01)
        for pid in list(self.owners):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    # -- connections ---------------------------------------------------------------------
    def _accept(self) -> None:
        with contextlib.suppress(BlockingIOError):
            conn, _ = self.listener.accept()
            conn.setblocking(True)
            self.buffers[conn] = b""
            self.selector.register(conn, selectors.EVENT_READ, "conn")

    def _read(self, conn: socket.socket) -> None:
        try:
            chunk = conn.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(conn)
            return
        buffer = self.buffers[conn] + chunk
        *lines, self.buffers[conn] = buffer.split(b"\n")
        for line in lines:
            if line.strip():
                self._send(conn, self._handle(conn, line))

    def _drop(self, conn: socket.socket) -> None:
        """A closed connection takes its replicas with it."""
        self.selector.unregister(conn)
        self.buffers.pop(conn, None)
        conn.close()
        for pid, owner in self.owners.items():
            if owner is conn:
                self.owners[pid] = None
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)

    def _send(self, conn: socket.socket | None, message: dict[str, Any]) -> None:
        if conn is None or conn not in self.buffers:
            return
        try:
            conn.sendall(encode(message))
        except OSError:
            self._drop(conn)

    def _handle(self, conn: socket.socket, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise TypeError("a request is a JSON object")
        except (ValueError, TypeError) as bad:
            return {"error": f"malformed request: {bad}"}
        reply: dict[str, Any] = {"id": request.get("id")}
        if request.get("op") != "fork":
            return {**reply, "error": f"op {request.get('op')!r}: the only op is 'fork'"}
        try:
            pid, port = self._fork(request)
        except (OSError, ValueError, TypeError) as failure:
            return {**reply, "error": f"fork: {failure}"}
        self.owners[pid] = conn
        return {**reply, "pid": pid, "port": port}

    # -- replicas ------------------------------------------------------------------------
    def _fork(self, request: dict[str, Any]) -> tuple[int, int]:
        env = request.get("env") or {}
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise ValueError("env: an object of strings")
        timeout = request.get("timeout")
        if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
            raise ValueError("timeout: seconds above 0")
        sock = hosting.bind(str(request.get("host") or "127.0.0.1"), int(request.get("port") or 0))
        port = int(sock.getsockname()[1])
        zygote = os.getpid()
        # A SIGTERM sent to the new pid before the child resets its handlers would run the
        # zygote's handler in the child, and be lost: hold it until the child is ready for it.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
            sock.close()
            raise
        if pid == 0:
            try:
                self._become_replica(zygote, sock, env, timeout)
            finally:
                os._exit(1)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        sock.close()
        return pid, port

    def _become_replica(self, zygote: int, sock: socket.socket, env: dict[str, str],
                        timeout: float | None) -> None:
        set_death_signal(signal.SIGTERM, zygote)
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, *_STOP_SIGNALS):
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        self.selector.close()
        for conn in list(self.buffers):
            conn.close()
        self.listener.close()
        os.close(self.wake_r)
        os.close(self.wake_w)
        # The frozen objects stay frozen: collecting them would write to (and so copy) pages
        # the replica shares with the zygote.
        os.environ.update(env)
        seconds = timeout or (hosting.timeout_from_env() if os.environ.get(hosting.TIMEOUT_ENV)
                              else self.timeout)
        hosting.run(self.function, sock, timeout=float(seconds), context=self.context,
                    init_done=self.init_done)

    def _reap(self) -> None:
        while self.owners:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            owner = self.owners.pop(pid, None)
            self._send(owner, {"exited": pid, "returncode": returncode(status)})


# -- the caller's side ---------------------------------------------------------------------
@dataclasses.dataclass
class Replica:
    """A forked replica. `exited` resolves to its return code, or to None when the zygote
    went away before reporting it (the replica then dies with it: PR_SET_PDEATHSIG)."""

    pid: int
    port: int
    exited: asyncio.Future[int | None]


class ZygoteError(Exception):
    """The zygote refused a request or is gone."""


class Zygote:
    """The revision runtime's handle on one zygote process (asyncio)."""

    def __init__(self, process: asyncio.subprocess.Process, path: str,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.process, self.path = process, path
        self.reader, self.writer = reader, writer
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.replicas: dict[int, Replica] = {}
        self.ids = 0
        self.listening = asyncio.ensure_future(self._listen())

    @classmethod
    async def start(cls, target: str, path: str, *, timeout: float | None = None,
                    env: dict[str, str] | None = None, ready_timeout: float = 60.0) -> Zygote:
        argv = [sys.executable, "-m", "serving.zygote", target, "--socket", path,
                "--parent-pid", str(os.getpid())]
        if timeout is not None:
            argv += ["--timeout", str(timeout)]
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})})
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), ready_timeout)
        except TimeoutError:
            line = b""
        if line != READY_LINE:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise ZygoteError(f"the zygote for {target} did not start (exit {process.returncode})")
        reader, writer = await asyncio.open_unix_connection(path)
        return cls(process, path, reader, writer)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def fork(self, *, port: int = 0, host: str = "127.0.0.1",
                   env: dict[str, str] | None = None, timeout: float | None = None) -> Replica:
        """A new replica; its port accepts connections when this returns."""
        self.ids += 1
        request: dict[str, Any] = {"id": self.ids, "op": "fork", "port": port, "host": host,
                                   "env": env or {}}
        if timeout is not None:
            request["timeout"] = timeout
        reply_future = asyncio.get_running_loop().create_future()
        self.pending[self.ids] = reply_future
        self.writer.write(encode(request))
        await self.writer.drain()
        reply = await reply_future
        if "error" in reply:
            raise ZygoteError(str(reply["error"]))
        replica = Replica(int(reply["pid"]), int(reply["port"]),
                          asyncio.get_running_loop().create_future())
        self.replicas[replica.pid] = replica
        return replica

    async def _listen(self) -> None:
        try:
            while line := await self.reader.readline():
                message = json.loads(line)
                if "exited" in message:
                    replica = self.replicas.pop(int(message["exited"]), None)
                    if replica is not None and not replica.exited.done():
                        replica.exited.set_result(int(message["returncode"]))
                else:
                    future = self.pending.pop(message.get("id"), None)
                    if future is not None and not future.done():
                        future.set_result(message)
        finally:
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ZygoteError("the zygote closed its socket"))
            for replica in self.replicas.values():
                if not replica.exited.done():
                    replica.exited.set_result(None)

    async def close(self, timeout: float = STOP_GRACE + 5) -> int:
        """Stop the zygote and, through it, every replica; returns its exit status."""
        self.writer.close()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        await cancelling.stop(self.listening)  # a socket reset by the zygote's exit: moot
        return int(self.process.returncode or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serving.zygote",
                                     description="fork function replicas on request")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="FILE:FUNCTION")
    parser.add_argument("--socket", required=True, help="the Unix socket path to listen on")
    parser.add_argument("--timeout", type=float, help="timeoutSeconds for replicas "
                        f"(default ${hosting.TIMEOUT_ENV} or {hosting.DEFAULT_TIMEOUT:g})")
    parser.add_argument("--parent-pid", type=int,
                        help="exit when this process dies (default: the current parent)")


def close_inherited_sockets() -> list[int]:
    """Close every socket this process inherited (fds above 2); the closed fds.

    uvloop's `create_subprocess_exec` ignores `close_fds` and leaves every *inheritable* fd
    open in the child, and `ripple up`'s listening socket is inheritable (its workers
    receive it). Kept, a replica that drains after `ripple up` was killed would hold the
    port, so a restart fails with "Address already in use", and connections queue where
    nothing accepts them. The zygote binds its own sockets; it needs none from its parent.
    """
    closed = []
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd <= 2:
            continue
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)
                closed.append(fd)
        except OSError:
            continue
    return closed


def run(args: argparse.Namespace) -> int:
    from ripple import logs

    close_inherited_sockets()
    logs.configure()
    parent = args.parent_pid or os.getppid()
    set_death_signal(signal.SIGTERM, parent)
    function = functions.load(args.target)
    timeout = args.timeout or hosting.timeout_from_env()
    server = Server(function, args.socket, timeout=timeout)
    server.prepare()
    sys.stdout.buffer.write(READY_LINE)
    sys.stdout.flush()
    # The caller reads one line from our stdout and no more: replicas inherit fd 1, and a
    # handler's print() must not fill a pipe nobody reads. From here stdout is stderr.
    os.dup2(2, 1)
    return server.run(parent)


if __name__ == "__main__":
    sys.exit(main())
