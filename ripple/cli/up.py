"""`ripple up`: the local platform in one command. The composition root of a running mesh.

Starts (or re-adopts) the embedded Valkey unless `--redis-url`/`RIPPLE_REDIS_URL` names a
store, binds the port once, and runs `--workers` worker processes that share it. Worker 0
is this process; the others are children that die with it (PR_SET_PDEATHSIG), so a
`kill -9` of `ripple up` takes the whole mesh down at once while the store keeps every
acknowledged event. `Workers` watches the children: one that crashes or is killed is
logged and started again after a backoff; one that exits 0 was told to stop (SIGTERM,
Ctrl-C) and is logged, not restarted. A worker whose essential task fails exits 1. The embedded Valkey is left running on a `kill -9`, and adopted by
the next `ripple up` on the same data dir; a clean stop (SIGTERM, Ctrl-C) shuts it down.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any
from pathlib import Path

from ripple import embedded, logs, supervising
from ripple.api import dead_letter_bounds
from ripple.api.eventing import retention
from ripple.settings import (DeadLetterSettings, LogSettings, Settings, StoreSettings, TraceSettings,
                             redis_url_from_env)

log = logging.getLogger("ripple.up")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port for the API and the data plane")
    parser.add_argument("--redis-url", default=None,
                        help="an external Redis/Valkey (default: $RIPPLE_REDIS_URL, else embedded Valkey)")
    parser.add_argument("--data-dir", default=".ripple", help="where the embedded Valkey keeps its data")
    parser.add_argument("-f", "--filename", action="append", default=[], dest="manifests",
                        help="manifests to apply at start (file or directory; repeatable)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes sharing the data plane")
    parser.add_argument("--appendfsync", choices=("everysec", "always"), default="everysec",
                        help="embedded Valkey fsync policy; 'always' also survives power loss")
    parser.add_argument("--public-url", default=os.environ.get("RIPPLE_PUBLIC_URL"),
                        help="the URL others reach this mesh at (env RIPPLE_PUBLIC_URL), e.g. a "
                             "tunnel GitHub can post webhooks to; default http://HOST:PORT")
    parser.add_argument("--log-level", default=os.environ.get("RIPPLE_LOG_LEVEL", "INFO"))
    _add_dead_letter_arguments(parser)
    parser.add_argument("--retention", type=_retention, default=LogSettings.retention,
                        help="how long a Broker keeps its log for replay, e.g. 24h (default 1h; "
                             "0: off); the annotation ripple.dev/retention overrides it")
    parser.add_argument("--trace-sample", type=_share, default=TraceSettings.sample,
                        help="share of events whose hops are traced, 0 to 1 (default 1; 0: off)")


def _retention(text: str) -> float:
    try:
        return retention.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _share(text: str) -> float:
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, got {text!r}")
    return share


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(
        host=args.host, port=args.port, workers=max(1, args.workers), public_url=args.public_url,
        store=StoreSettings(url=args.redis_url or redis_url_from_env(), data_dir=Path(args.data_dir),
                            appendfsync=args.appendfsync),
        dead_letters=_dead_letter_settings(args),
        logs=LogSettings(retention=getattr(args, "retention", LogSettings.retention)),
        tracing=TraceSettings(sample=getattr(args, "trace_sample", TraceSettings.sample)),
    )


# -- Ripple's dead-letter store: the default bounds (`ripple.api.dead_letter_bounds`) ------
def _add_dead_letter_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = DeadLetterSettings()
    parser.add_argument("--dead-letter-max-entries", type=_bound(dead_letter_bounds.parse_max_entries),
                        default=defaults.max_entries, metavar="N",
                        help="dead letters kept per Trigger, Subscription or source (default "
                             f"{defaults.max_entries}; annotation {dead_letter_bounds.MAX_ENTRIES})")
    parser.add_argument("--dead-letter-retention", type=_bound(dead_letter_bounds.parse_retention),
                        default=defaults.retention, metavar="DURATION",
                        help="how long a dead letter is kept, e.g. 7d or 36h (default 7d; "
                             f"annotation {dead_letter_bounds.RETENTION})")


def _dead_letter_settings(args: argparse.Namespace) -> DeadLetterSettings:
    defaults = DeadLetterSettings()
    return DeadLetterSettings(
        max_entries=getattr(args, "dead_letter_max_entries", defaults.max_entries),
        retention=getattr(args, "dead_letter_retention", defaults.retention))


def _bound(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def checked(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"invalid value {text!r}: {exc}") from None
    return checked


def run(args: argparse.Namespace) -> int:
    logs.configure(args.log_level)
    settings = settings_from(args)
    manifests = [Path(p) for p in args.manifests]
    for path in manifests:
        if not path.exists():
            print(f"Error: {path}: no such file or directory", file=sys.stderr)
            return 1
    valkey = None
    redis_url = settings.store.url
    if redis_url is None:
        valkey = embedded.EmbeddedValkey(settings.store.data_dir, appendfsync=settings.store.appendfsync).start()
        redis_url = valkey.url
    sock = _bind(settings.host, settings.port)
    children = Workers(lambda i: _spawn_worker(i, sock, redis_url, args), range(1, settings.workers))
    children.start()
    log.info("ripple up", extra={"url": settings.base_url, "store": redis_url, "workers": settings.workers})
    print(f"Ripple is up at {settings.base_url} (store {redis_url}, {settings.workers} worker(s))",
          file=sys.stderr, flush=True)
    try:
        return _serve(settings, redis_url, 0, sock, manifests)
    finally:
        children.stop()
        if valkey is not None:
            valkey.stop()


CHILD_BACKOFF = supervising.Backoff(initial=1.0, factor=2.0, cap=30.0, healthy_after=60.0)
"""Between restarts of a child worker that keeps dying: 1 s doubling to 30 s, and back to
1 s once a child has run for a minute."""

POLL = 0.2
"""Seconds between looks at the children."""


class Workers:
    """The child worker processes 1..N-1 of `ripple up`, restarted when they die.

    The children are started by `start()` and restarted by a watcher thread. A child's
    PR_SET_PDEATHSIG fires when the *thread* that started it ends, so the watcher thread
    lives until `stop()` has reaped every child.
    """

    def __init__(self, spawn: Callable[[int], subprocess.Popen[bytes]], indexes: range, *,
                 backoff: supervising.Backoff = CHILD_BACKOFF,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.spawn, self.indexes, self.backoff, self.clock = spawn, indexes, backoff, clock
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.started: dict[int, float] = {}
        self.failures: dict[int, int] = {}
        self.due: dict[int, float] = {}  # index -> when to start it again
        self.restarts = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._reaped = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            for index in self.indexes:
                self._start(index, self.clock())
        if self.procs:
            self._watcher = threading.Thread(target=self._watch, name="ripple-workers", daemon=True)
            self._watcher.start()

    def check(self) -> None:
        """One look: schedule a restart for each child that died, start those due."""
        with self._lock:
            if self._stopping.is_set():
                return
            now = self.clock()
            for index, proc in list(self.procs.items()):
                code = proc.poll()
                if code is None or index in self.due:
                    continue
                if code == 0:  # told to stop by someone (SIGTERM, Ctrl-C): not a crash
                    log.warning("worker stopped; not restarting", extra={"worker": index, "pid": proc.pid})
                    del self.procs[index]
                    continue
                self.failures[index] = supervising.next_failures(
                    self.backoff, self.failures.get(index, 0), now - self.started[index])
                wait = supervising.delay(self.backoff, self.failures[index])
                log.error("worker died; restarting", extra={
                    "worker": index, "pid": proc.pid, "exit_code": code, "restart_in": wait})
                self.due[index] = now + wait
            for index, at in list(self.due.items()):
                if at <= now:
                    del self.due[index]
                    self._start(index, now)
                    self.restarts += 1
                    log.info("worker restarted", extra={"worker": index, "pid": self.procs[index].pid})

    def stop(self, timeout: float = 15.0) -> None:
        """Stop restarting, SIGTERM every child, SIGKILL those still running after `timeout`."""
        with self._lock:
            self._stopping.set()
            procs = [p for p in self.procs.values() if p.poll() is None]
        for proc in procs:
            proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._reaped.set()
        if self._watcher is not None:
            self._watcher.join()

    def _start(self, index: int, now: float) -> None:
        self.procs[index] = self.spawn(index)
        self.started[index] = now

    def _watch(self) -> None:
        while not self._stopping.wait(POLL):
            try:
                self.check()
            except Exception:  # e.g. a failed fork: log it, and look again
                log.exception("could not watch or restart the workers")
        self._reaped.wait()  # outlive the children, or PR_SET_PDEATHSIG kills them early


def _serve(settings: Settings, redis_url: str, index: int, sock: socket.socket, manifests: list[Path]) -> int:
    from controllers.platforms.local import platform  # the composition root may import anything

    # uvicorn handles SIGTERM/SIGINT while it serves, then re-raises the signal to the
    # handler that was installed before it: make that a no-op so our cleanup still runs.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    runner: Callable[[Coroutine[Any, Any, None]], None]
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        runner = asyncio.run
    try:
        runner(platform.run_worker(settings, redis_url=redis_url, worker_index=index, sock=sock,
                                   manifests=manifests))
    except supervising.TaskFailed as failed:  # logged with its traceback where it failed
        print(f"Error: worker {index} stopped: {failed}", file=sys.stderr, flush=True)
        return 1
    return 0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def _spawn_worker(index: int, sock: socket.socket, redis_url: str,
                  args: argparse.Namespace) -> subprocess.Popen[bytes]:
    env = dict(os.environ, RIPPLE_WORKER_INDEX=str(index), RIPPLE_WORKER_FD=str(sock.fileno()),
               RIPPLE_WORKER_REDIS_URL=redis_url, RIPPLE_WORKER_PARENT=str(os.getpid()))
    argv = [sys.executable, "-m", "ripple.cli.up", "--host", args.host, "--port", str(args.port),
            "--log-level", args.log_level]
    if args.public_url:
        argv += ["--public-url", args.public_url]
    argv += ["--retention", f"{args.retention}s", "--trace-sample", str(args.trace_sample)]
    # No preexec_fn: forking with it is unsafe once the watcher thread runs. The child sets
    # its death signal itself, first thing (`_die_with_parent`).
    return subprocess.Popen(argv, env=env, pass_fds=(sock.fileno(),))


def _die_with_parent(parent: int) -> None:
    """SIGKILL this child when the parent thread that started it ends (PR_SET_PDEATHSIG);
    exit at once if the parent is gone already (it died before the prctl)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    if os.getppid() != parent:
        os._exit(1)


def _worker_main() -> int:
    """Entry of a child worker: `python -m ripple.cli.up` with the RIPPLE_WORKER_* env."""
    _die_with_parent(int(os.environ["RIPPLE_WORKER_PARENT"]))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args()
    logs.configure(args.log_level)
    sock = socket.socket(fileno=int(os.environ["RIPPLE_WORKER_FD"]))
    return _serve(settings_from(args), os.environ["RIPPLE_WORKER_REDIS_URL"],
                  int(os.environ["RIPPLE_WORKER_INDEX"]), sock, [])


if __name__ == "__main__":
    sys.exit(_worker_main())
