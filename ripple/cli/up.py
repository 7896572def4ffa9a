"""`ripple up`: the local platform in one command. The composition root of a running mesh.

Starts (or re-adopts) the embedded Valkey unless `--redis-url`/`RIPPLE_REDIS_URL` names a
store, binds the port once, and runs `--workers` worker processes that share it. Worker 0
is this process; the others are children that die with it (PR_SET_PDEATHSIG), so a
`kill -9` of `ripple up` takes the whole mesh down at once while the store keeps every
acknowledged event. The embedded Valkey is left running on a `kill -9`, and adopted by
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
from pathlib import Path

from ripple import embedded, logs
from ripple.settings import Settings, StoreSettings, redis_url_from_env

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


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(
        host=args.host, port=args.port, workers=max(1, args.workers), public_url=args.public_url,
        store=StoreSettings(url=args.redis_url or redis_url_from_env(), data_dir=Path(args.data_dir),
                            appendfsync=args.appendfsync),
    )


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
    children = [_spawn_worker(i, sock, redis_url, args) for i in range(1, settings.workers)]
    log.info("ripple up", extra={"url": settings.base_url, "store": redis_url, "workers": settings.workers})
    print(f"Ripple is up at {settings.base_url} (store {redis_url}, {settings.workers} worker(s))",
          file=sys.stderr, flush=True)
    try:
        _serve(settings, redis_url, 0, sock, manifests)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if valkey is not None:
            valkey.stop()
    return 0


def _serve(settings: Settings, redis_url: str, index: int, sock: socket.socket, manifests: list[Path]) -> None:
    from controllers.platforms.local import platform  # the composition root may import anything

    # uvicorn handles SIGTERM/SIGINT while it serves, then re-raises the signal to the
    # handler that was installed before it: make that a no-op so our cleanup still runs.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        runner = asyncio.run
    runner(platform.run_worker(settings, redis_url=redis_url, worker_index=index, sock=sock,
                               manifests=manifests))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def _spawn_worker(index: int, sock: socket.socket, redis_url: str, args: argparse.Namespace) -> subprocess.Popen:
    env = dict(os.environ, RIPPLE_WORKER_INDEX=str(index), RIPPLE_WORKER_FD=str(sock.fileno()),
               RIPPLE_WORKER_REDIS_URL=redis_url)
    argv = [sys.executable, "-m", "ripple.cli.up", "--host", args.host, "--port", str(args.port),
            "--log-level", args.log_level]
    if args.public_url:
        argv += ["--public-url", args.public_url]
    return subprocess.Popen(argv, env=env, pass_fds=(sock.fileno(),), preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _worker_main() -> int:
    """Entry of a child worker: `python -m ripple.cli.up` with the RIPPLE_WORKER_* env."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args()
    logs.configure(args.log_level)
    sock = socket.socket(fileno=int(os.environ["RIPPLE_WORKER_FD"]))
    _serve(settings_from(args), os.environ["RIPPLE_WORKER_REDIS_URL"],
           int(os.environ["RIPPLE_WORKER_INDEX"]), sock, [])
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main())
