"""`ripple up`: the local platform in one command. The composition root of a running mesh.

Start-up, each step undone in reverse if a later one fails or a signal comes:
flags are checked (a bad one is one line and exit 2); the data dir is locked
(`embedded.DataDirLock`: a second `ripple up` on it is refused, naming the holder); the
port is bound once; the embedded Valkey is started (a leftover one stopped first), or the `--redis-url`
store must answer within `STORE_WAIT` seconds; `--workers` worker processes share the
port. SIGINT and SIGTERM stop it in every state: while starting they raise
KeyboardInterrupt, and once it serves they drain it (`controllers.platforms.local.platform`).

Worker 0 is this process; the others are children that die with it (PR_SET_PDEATHSIG), so
a `kill -9` of `ripple up` takes the whole mesh down at once while the store keeps every
acknowledged event. `Workers` watches the children: one that crashes or is killed is
logged and started again after a backoff; one that exits 0 was told to stop (SIGTERM,
Ctrl-C) and is logged, not restarted. A worker whose essential task fails exits 1.
`ValkeyKeeper` starts the embedded Valkey again (same port, same AOF) if it dies. The
embedded Valkey dies with `ripple up` too (`ripple.orphans`: SIGTERM, so it flushes its
AOF), even on a `kill -9`; a clean stop (SIGTERM, Ctrl-C) shuts it down after the drain.
"""

from __future__ import annotations

import argparse
import contextlib
import asyncio
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from ripple import embedded, errors, logs, orphans, rediscluster, storeurls, supervising
from ripple.api import dead_letter_bounds
from ripple.api.eventing import retention
from ripple.settings import (ApiSettings, DeadLetterSettings, DeliverySettings, IngressSettings,
                             LogSettings, Settings, StoreSettings, TlsSettings, TraceSettings,
                             redis_url_from_env)

log = logging.getLogger("ripple.up")
T = TypeVar("T")


STORE_WAIT = StoreSettings.start_timeout
"""Seconds `ripple up` waits for an external store to answer at start before it gives up."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    parser.add_argument("--port", type=_flag(port_number), default=8080,
                        help="port for the API and the data plane (default 8080)")
    parser.add_argument("--redis-url", type=_flag(store_url), default=None,
                        help="an external Redis/Valkey, redis://HOST:PORT/DB, or a Redis "
                             "Cluster, redis+cluster://HOST:PORT; add ?replica_acks=N to answer "
                             "202 only once N replicas have an event "
                             "(default: $RIPPLE_REDIS_URL, else embedded Valkey)")
    parser.add_argument("--store-timeout", type=_flag(positive_float), default=STORE_WAIT,
                        help=f"seconds to wait at start for the --redis-url store to answer "
                             f"(default {STORE_WAIT:g})")
    parser.add_argument("--data-dir", default=".ripple",
                        help="where the embedded Valkey keeps its data; one `ripple up` at a time")
    parser.add_argument("-f", "--filename", action="append", default=[], dest="manifests",
                        help="manifests to apply at start (file or directory; repeatable)")
    parser.add_argument("--keep-existing", action="store_true",
                        help="with -f: create the objects that are missing and leave those that "
                             "exist as they are (your changes to them are kept)")
    parser.add_argument("--workers", type=_flag(positive_int), default=1,
                        help="worker processes sharing the data plane")
    parser.add_argument("--appendfsync", choices=("everysec", "always"), default="everysec",
                        help="embedded Valkey fsync policy; 'always' also survives power loss")
    parser.add_argument("--public-url", default=os.environ.get("RIPPLE_PUBLIC_URL"),
                        help="the URL others reach this mesh at (env RIPPLE_PUBLIC_URL), e.g. a "
                             "tunnel GitHub can post webhooks to; default http://HOST:PORT")
    parser.add_argument("--log-level", type=_flag(logs.level_name),
                        default=os.environ.get("RIPPLE_LOG_LEVEL", "info"),
                        help="debug, info, warning or error, any case (env RIPPLE_LOG_LEVEL; default info)")
    parser.add_argument("--log-format", type=_flag(logs.format_name),
                        default=os.environ.get("RIPPLE_LOG_FORMAT", "auto"),
                        help="human, json, or auto: human on a terminal, JSON otherwise "
                             "(env RIPPLE_LOG_FORMAT; default auto)")
    _add_dead_letter_arguments(parser)
    add_security_arguments(parser)
    parser.add_argument("--retention", type=_retention, default=LogSettings.retention,
                        help="how long a Broker keeps its log for replay, e.g. 24h (default 1h; "
                             "0: off); the annotation ripple.dev/retention overrides it")
    parser.add_argument("--trace-sample", type=_share, default=TraceSettings.sample,
                        help="share of events whose hops are traced, 0 to 1 (default 1; 0: off)")
    parser.add_argument("--no-ingress-routing", action="store_false", dest="route_brokers",
                        help="leave copying each broker event to its Triggers' queues to the "
                             "fan-out (a second hop), as before issue #14; default: the ingress "
                             "copies it when it appends it")


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


def one_line_errors(parser: argparse.ArgumentParser) -> None:
    """A bad flag of `ripple up` is one line and exit code 2, without the usage screen."""
    def error(message: str) -> NoReturn:
        parser.exit(2, f"Error: {parser.prog}: {message}\n")
    parser.error = error  # type: ignore[method-assign]


def _flag(check: Callable[[str], T]) -> Callable[[str], T]:
    """argparse shows an ArgumentTypeError's own words; a ValueError would become
    "invalid <function name> value"."""
    def parse(value: str) -> T:
        try:
            return check(value)
        except ValueError as bad:
            raise argparse.ArgumentTypeError(str(bad)) from None
    parse.__name__ = check.__name__
    return parse


def port_number(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a port number (1-65535)") from None
    if not 0 < port < 65536:
        raise ValueError(f"{value} is not a port number (1-65535)")
    return port


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0 or number == float("inf"):
        raise ValueError(f"{value!r} is not a positive number of seconds")
    return number


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{value!r} is not a positive whole number")
    return number


STORE_SCHEMES = ("redis", "rediss", "unix", *rediscluster.SCHEMES)


def store_url(value: str) -> str:
    """A Redis URL redis-py takes: redis://, rediss:// (TLS) or unix://; or a Redis Cluster's,
    redis+cluster:// or rediss+cluster:// (`ripple.rediscluster.check_url`'s rules); with
    Ripple's own `?replica_acks=N` (`ripple.storeurls`) or not."""
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in STORE_SCHEMES or not (parsed.netloc or parsed.path):
        raise ValueError(f"{value!r} is not a Redis URL; write it as redis://HOST:PORT/DB, "
                         f"e.g. redis://localhost:6379/0, or {rediscluster.EXAMPLE} for a cluster")
    storeurls.replica_acks(value)  # its rule, named, on a bad value
    if rediscluster.is_cluster_url(value):
        return rediscluster.check_url(value)
    if parsed.scheme != "unix":
        try:
            parsed.port  # noqa: B018 - raises on a port that is not a number or out of range
        except ValueError:
            raise ValueError(f"{value!r} is not a Redis URL: bad port") from None
    return value


def redacted(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.rsplit("@", 1)[1]
    user = f"{parsed.username}:***@" if parsed.username else ":***@"
    return urllib.parse.urlunsplit(parsed._replace(netloc=user + netloc))


def settings_from(args: argparse.Namespace, token: str | None = None) -> Settings:
    url = args.redis_url or redis_url_from_env()
    return Settings(
        host=args.host, port=args.port, workers=max(1, args.workers), public_url=args.public_url,
        store=StoreSettings(url=url, data_dir=Path(args.data_dir), appendfsync=args.appendfsync,
                            start_timeout=args.store_timeout),
        dead_letters=_dead_letter_settings(args),
        delivery=DeliverySettings(backoff_max=getattr(args, "delivery_backoff_max",
                                                      DeliverySettings.backoff_max)),
        api=api_settings(args, token), tls=tls_settings(args),
        logs=LogSettings(retention=getattr(args, "retention", LogSettings.retention)),
        ingress=IngressSettings(route_brokers=getattr(args, "route_brokers", True)),
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
    parser.add_argument("--delivery-backoff-max", type=_bound(dead_letter_bounds.parse_retention),
                        default=DeliverySettings.backoff_max, metavar="DURATION",
                        help="the longest wait between two attempts of a delivery, whatever its "
                             "backoff policy asks, e.g. 30s or 1h (default 1h)")


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


# -- security (issue #15): the API token, the API's own listener, TLS -----------------------
WORKER_TOKEN_ENV = "RIPPLE_WORKER_API_TOKEN"
WORKER_API_FD_ENV = "RIPPLE_WORKER_API_FD"


def add_security_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-port", type=int, default=None,
                        help="serve the control API on its own listener at this port (default: "
                             "the data plane's port); /metrics and /healthz stay on --port")
    parser.add_argument("--api-host", default=None,
                        help="address of the API's own listener (default 127.0.0.1 with --api-port)")
    parser.add_argument("--insecure-api", action="store_true",
                        help="serve the control API without its token (anyone who reaches it "
                             "can read Secrets and delete everything)")
    parser.add_argument("--tls-cert", default=None, help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--tls-key", default=None, help="PEM private key of --tls-cert")


def api_settings(args: argparse.Namespace, token: str | None) -> ApiSettings:
    port = getattr(args, "api_port", None)
    host = getattr(args, "api_host", None) or ("127.0.0.1" if port is not None else None)
    return ApiSettings(token=token, host=host, port=port,
                       insecure=bool(getattr(args, "insecure_api", False)))


def tls_settings(args: argparse.Namespace) -> TlsSettings:
    cert, key = getattr(args, "tls_cert", None), getattr(args, "tls_key", None)
    return TlsSettings(cert_file=Path(cert) if cert else None, key_file=Path(key) if key else None)


def check_security_arguments(args: argparse.Namespace) -> str | None:
    """The one-line error for bad security flags, or None."""
    if bool(args.tls_cert) != bool(args.tls_key):
        return "--tls-cert and --tls-key: give both or neither"
    for flag, value in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if value and not Path(value).is_file():
            return f"{flag} {value}: no such file"
    if args.tls_cert:
        import ssl

        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(args.tls_cert, args.tls_key)
        except (ssl.SSLError, OSError) as exc:
            return f"--tls-cert/--tls-key: not a usable certificate and key: {exc}"
    if args.api_port is not None and not 0 < args.api_port < 65536:
        return f"--api-port {args.api_port}: must be a port number, 1 to 65535"
    if args.api_host and args.api_port is None:
        return "--api-host needs --api-port (the API's own listener)"
    return None


def secure_api(args: argparse.Namespace, settings: Settings) -> tuple[str, str]:
    """The API token (made on first start) and its record in the user's config, and the line
    that says where it is (printed once the mesh is up); with --insecure-api, a warning as
    well (the token then only shows Secrets' data)."""
    if args.insecure_api:
        warning = (f"--insecure-api: the control API at {settings.api_url} answers anyone who "
                   "reaches it, deletes included (Secrets' data still needs the token)")
        log.warning(warning)
        print(f"Warning: {warning}", file=sys.stderr, flush=True)
    from ripple.cli import credentials

    token, path = credentials.ensure_token(settings.store.data_dir)
    servers = [settings.api_url]
    if settings.public_url and not settings.api_separate:
        servers.append(settings.public_url)
    try:
        config = credentials.record(servers, token)
        where = f"recorded for this user's CLI in {config}"
    except (OSError, errors.RippleError) as exc:
        where = f"not recorded for the CLI ({exc}); give it with RIPPLE_TOKEN or --token"
        log.warning("API token not recorded", extra={"error": str(exc)})
    return token, f"API token in {path} ({where})"
# -- end of security ------------------------------------------------------------------------


class Refused(Exception):
    """`ripple up` cannot start: one line for the user, and the exit code (2: a bad flag)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def run(args: argparse.Namespace) -> int:
    try:
        if args.redis_url is None and redis_url_from_env() is not None:
            try:
                store_url(redis_url_from_env() or "")
            except ValueError as bad:
                raise Refused(f"RIPPLE_REDIS_URL: {bad}", 2) from None
        logs.configure(args.log_level, args.log_format)
        problem = check_security_arguments(args)
        if problem:
            raise Refused(problem, 2)
        with _interruptible():
            return _run(args)
    except Refused as refused:
        print(f"Error: {refused}", file=sys.stderr, flush=True)
        return refused.code
    except KeyboardInterrupt as stop:  # SIGINT or SIGTERM while starting: everything is undone
        print("ripple up: stopped", file=sys.stderr, flush=True)
        return 128 + getattr(stop, "signum", signal.SIGINT)


def _run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    manifests = [Path(p) for p in args.manifests]
    for path in manifests:
        if not path.exists():
            raise Refused(f"-f {path}: no such file or directory", 2)
    with contextlib.ExitStack() as undo:  # every step is undone, in reverse, however we leave
        redis_url = settings.store.url
        if redis_url is None:
            lock = embedded.DataDirLock(settings.store.data_dir)
            try:
                lock.acquire(settings.base_url)
            except embedded.DataDirBusy as busy:
                raise Refused(str(busy)) from None
            undo.callback(lock.release)
        settings.api.token, token_note = secure_api(args, settings)  # nothing is started yet
        sock = _bind(settings.host, settings.port)
        undo.callback(sock.close)
        api_sock = None
        if settings.api.port and settings.api_separate:
            api_sock = _bind(settings.api_host, settings.api.port)
            undo.callback(api_sock.close)
        if redis_url is None:
            valkey = embedded.EmbeddedValkey(settings.store.data_dir, appendfsync=settings.store.appendfsync)
            undo.callback(valkey.stop)  # before start(): a signal during start still stops it
            try:
                valkey.start()
            except errors.StoreUnavailable as failed:
                raise Refused(f"the embedded Valkey did not start: {failed}") from None
            redis_url = valkey.url
            keeper = ValkeyKeeper(valkey)
            keeper.start()
            undo.callback(keeper.stop)
        else:
            wait_for_store(redis_url, settings.store.start_timeout)
        children = Workers(lambda i: _spawn_worker(i, sock, redis_url, args, api_sock, settings.api.token),
                           range(1, settings.workers))
        undo.callback(children.stop)
        children.start()
        store = redacted(redis_url)

        def announce() -> None:  # once the manifests are in and worker 0 starts serving
            log.info("ripple up", extra={"url": settings.base_url, "store": store, "workers": settings.workers})
            api = f", API at {settings.api_url}" if settings.api_separate else ""
            print(f"Ripple is up at {settings.base_url}{api} (store {store}, {settings.workers} worker(s))\n"
                  f"{token_note}", file=sys.stderr, flush=True)
        return _serve(settings, redis_url, 0, sock, manifests, api_sock, keep_existing=args.keep_existing,
                      serving=announce)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM while `ripple up` starts; `ripple up` exits 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM stops a `ripple up` that is still starting as Ctrl-C does: by raising
    KeyboardInterrupt, so each step taken is undone and no child is left behind."""
    def interrupt(signum: int, _frame: object) -> None:
        for other in (signal.SIGTERM, signal.SIGINT):  # a second one must not cut the undoing short
            signal.signal(other, signal.SIG_IGN)
        raise Interrupted(signum)
    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def wait_for_store(url: str, timeout: float = STORE_WAIT) -> None:
    """PING the store until it answers; Refused, naming the URL, after `timeout` seconds.
    Its `INFO cluster` must agree with the URL (a cluster node for redis+cluster://, else
    not), or it is refused at once; a cluster must then say `cluster_state:ok` within the
    same `timeout`. Asked of the first seed node that answers, whose view of the cluster the
    client starts from."""
    import redis

    cluster = rediscluster.is_cluster_url(url)
    plain = storeurls.for_redis_py(url)
    clients = [redis.Redis.from_url(seed, socket_connect_timeout=1.0, socket_timeout=1.0)
               for seed in (rediscluster.seeds(plain) if cluster else [plain])]
    deadline = time.monotonic() + timeout
    shown = redacted(url)
    try:
        while True:
            try:
                client = _answering(clients)
                wrong = rediscluster.mismatch(url, shown, {
                    str(name): str(value) for name, value in client.info("cluster").items()})
                if wrong:
                    raise Refused(f"{wrong} (--redis-url / RIPPLE_REDIS_URL)", 2)
                if not cluster:
                    return
                state = rediscluster.problem(rediscluster.parse_info(
                    client.execute_command("CLUSTER", "INFO")))
                if state is None:
                    return
                if time.monotonic() >= deadline:
                    raise Refused(f"the Redis Cluster at {shown} is not serving: {state}; waited "
                                  f"{timeout:g} s (--store-timeout). Are all its nodes up and "
                                  f"every slot assigned? Ripple needs cluster_state:ok")
            except (redis.RedisError, OSError) as failure:
                if time.monotonic() >= deadline:
                    raise Refused(f"cannot reach the store at {shown}: {failure} (is it "
                                  f"running? check --redis-url / RIPPLE_REDIS_URL, or leave both "
                                  f"unset for the embedded Valkey)") from None
            time.sleep(0.25)
    finally:
        for client in clients:
            client.close()


def _answering(clients: list[Any]) -> Any:
    """The first of `clients` (a cluster's seeds, or one server) that answers a PING; the
    last one's error when none does."""
    import redis

    failure: Exception = ValueError("no store URL")
    for client in clients:
        try:
            client.ping()
            return client
        except (redis.RedisError, OSError) as exc:
            failure = exc
    raise failure


VALKEY_BACKOFF = supervising.Backoff(initial=0.5, factor=2.0, cap=10.0, healthy_after=30.0)
"""Between restarts of an embedded Valkey that keeps dying."""


class ValkeyKeeper:
    """Starts the embedded Valkey again, on the same port and AOF, when it dies while
    `ripple up` runs; the workers' clients reconnect to it like after any store outage."""

    def __init__(self, valkey: embedded.EmbeddedValkey, *,
                 backoff: supervising.Backoff = VALKEY_BACKOFF, poll: float = 0.5) -> None:
        self.valkey, self.backoff, self.poll = valkey, backoff, poll
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ripple-valkey", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _watch(self) -> None:
        failures, started = 0, time.monotonic()
        while not self._stopping.wait(self.poll):
            if self.valkey.running():
                continue
            failures = supervising.next_failures(self.backoff, failures, time.monotonic() - started)
            wait = supervising.delay(self.backoff, failures)
            log.error("embedded valkey died; restarting", extra={
                "pid": self.valkey.pid, "port": self.valkey.port, "restart_in": wait})
            if self._stopping.wait(wait):
                return
            try:
                self.valkey.restart()
            except (errors.StoreUnavailable, OSError):
                log.exception("embedded valkey did not restart; trying again")
                continue
            started = time.monotonic()
            self.restarts += 1
            log.info("embedded valkey restarted", extra={"pid": self.valkey.pid, "port": self.valkey.port})


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


def _serve(settings: Settings, redis_url: str, index: int, sock: socket.socket, manifests: list[Path],
           api_sock: socket.socket | None = None, *, keep_existing: bool = False,
           serving: Callable[[], None] | None = None) -> int:
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
                                   api_sock=api_sock, manifests=manifests, keep_existing=keep_existing,
                                   on_serving=serving))
    except supervising.TaskFailed as failed:  # logged with its traceback where it failed
        print(f"Error: worker {index} stopped: {failed}", file=sys.stderr, flush=True)
        return 1
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker shares; Refused (exit 2) when the address is taken
    or cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(4096)
    except OSError as failure:
        sock.close()
        raise Refused(f"cannot listen on {host}:{port}: {listen_problem(failure)}", 2) from None
    sock.set_inheritable(True)
    return sock


def listen_problem(failure: OSError) -> str:
    """What a failed bind means to the user, and what to do."""
    if failure.errno == errno.EADDRINUSE:
        return "the port is in use by another process; choose another with --port"
    if failure.errno == errno.EACCES:
        return "permission denied; ports below 1024 need privileges, choose another with --port"
    if isinstance(failure, socket.gaierror) or failure.errno == errno.EADDRNOTAVAIL:
        return f"no such address on this machine ({failure.strerror}); check --host"
    return failure.strerror or str(failure)


def _spawn_worker(index: int, sock: socket.socket, redis_url: str,
                  args: argparse.Namespace, api_sock: socket.socket | None = None,
                  token: str | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, RIPPLE_WORKER_INDEX=str(index), RIPPLE_WORKER_FD=str(sock.fileno()),
               RIPPLE_WORKER_REDIS_URL=redis_url, RIPPLE_WORKER_PARENT=str(os.getpid()))
    argv = [sys.executable, "-m", "ripple.cli.up", "--host", args.host, "--port", str(args.port),
            "--log-level", args.log_level, "--log-format", args.log_format]
    if args.public_url:
        argv += ["--public-url", args.public_url]
    # security (issue #15): the token by environment, never in argv (`ps` shows argv)
    env.pop(WORKER_TOKEN_ENV, None)
    if token is not None:
        env[WORKER_TOKEN_ENV] = token
    fds = [sock.fileno()]
    if api_sock is not None:
        env[WORKER_API_FD_ENV] = str(api_sock.fileno())
        fds.append(api_sock.fileno())
    for flag in ("api_port", "api_host", "tls_cert", "tls_key"):
        if getattr(args, flag) is not None:
            argv += ["--" + flag.replace("_", "-"), str(getattr(args, flag))]
    if args.insecure_api:
        argv.append("--insecure-api")
    argv += ["--dead-letter-max-entries", str(args.dead_letter_max_entries),
             "--dead-letter-retention", f"{args.dead_letter_retention}s",
             "--delivery-backoff-max", f"{args.delivery_backoff_max}s"]
    argv += ["--retention", f"{args.retention}s", "--trace-sample", str(args.trace_sample)]
    if not getattr(args, "route_brokers", True):
        argv.append("--no-ingress-routing")
    # No preexec_fn: forking with it is unsafe once the watcher thread runs. The child sets
    # its death signal itself, first thing (`ripple.orphans.die_with_parent`).
    return subprocess.Popen(argv, env=env, pass_fds=tuple(fds))


def _worker_main() -> int:
    """Entry of a child worker: `python -m ripple.cli.up` with the RIPPLE_WORKER_* env."""
    orphans.die_with_parent(int(os.environ["RIPPLE_WORKER_PARENT"]), signal.SIGKILL)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args()
    logs.configure(args.log_level, args.log_format)
    sock = socket.socket(fileno=int(os.environ["RIPPLE_WORKER_FD"]))
    api_fd = os.environ.get(WORKER_API_FD_ENV)
    api_sock = socket.socket(fileno=int(api_fd)) if api_fd else None
    return _serve(settings_from(args, os.environ.get(WORKER_TOKEN_ENV)), os.environ["RIPPLE_WORKER_REDIS_URL"],
                  int(os.environ["RIPPLE_WORKER_INDEX"]), sock, [], api_sock)


if __name__ == "__main__":
    sys.exit(_worker_main())
