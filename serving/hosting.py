"""The function host: one process serving one function on one port.

Run by `ripple function serve FILE:FUNCTION` (via `run`) and by every replica the zygote
forks (`serving.zygote`, with a socket it bound already). Knative's runtime contract: it
listens on `$PORT`, answers `GET /healthz` 200 once `init` ran (503 before, and while
draining), and drains on SIGTERM: no new connections, in-flight requests finish, exit 0.

Handlers. An `async def` handler runs as a task on the loop. A sync handler runs in a
thread of the host's pool, not inline: inline, it would block the loop, so `/healthz`
would stop answering while it runs, other requests would wait behind it, and the loop's
own timer could not fire, leaving only a signal to interrupt it (which a handler's
`except BaseException` or a C call ignores). The thread hop costs about 40 µs per call
(measured on this 2-core machine, loaded: `run_in_executor` of a no-op, median of
5 x 20,000 calls: 42.5 µs, against 0.1 µs inline), small next to one HTTP round trip
through asyncio. The price: objects `init` makes are used from pool threads, so
thread-affine ones (an `sqlite3` connection) need `check_same_thread=False` or a
`threading.local`. At most `SYNC_THREADS` sync calls run at once per process.

`/healthz` is the host's own path: an HTTP function never sees it.

Timeouts (`timeoutSeconds`, env `RIPPLE_TIMEOUT_SECONDS`, default 300 as Knative's). A
handler still running at its deadline gets 504, and the process is recycled: a thread
cannot be killed and a task may swallow its cancellation, so the host stops accepting,
lets the other in-flight requests finish (each within its own deadline), and exits with
`EXIT_RECYCLE` (75, EX_TEMPFAIL) for its supervisor to start a fresh one. An async handler
that blocks the loop itself (a CPU loop, `time.sleep`) stops every timer; a watchdog
thread sees its deadline pass by `WATCHDOG_GRACE` with no answer, writes the 504 on the
request's socket itself and exits the process the same way.

Errors: an exception in the handler answers 500 `{"error": "<Type>: <message>"}` (first
line, at most 200 characters) and logs the traceback; `init` failing logs the traceback
and exits 1 before any request is served.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import concurrent.futures.thread  # imported lazily by ThreadPoolExecutor: a zygote pre-imports it
import contextlib
import dataclasses
import inspect
import itertools
import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import Any, NoReturn

from serving import functions, invoking, wire

log = logging.getLogger(__name__)

EXIT_RECYCLE = 75
EXIT_INIT_FAILED = 1
DEFAULT_TIMEOUT = 300.0
TIMEOUT_ENV = "RIPPLE_TIMEOUT_SECONDS"
HEALTH_PATH = "/healthz"
WATCHDOG_GRACE = 1.0
MESSAGE_LIMIT = 200
# Sync handlers running at once per process; more wait for a thread (their deadline runs).
# The router's containerConcurrency breaker normally holds requests back long before this.
SYNC_THREADS = 64


def timeout_from_env(value: str | None = None) -> float:
    """`RIPPLE_TIMEOUT_SECONDS`: a positive number of seconds; the error names the variable."""
    text = os.environ.get(TIMEOUT_ENV) if value is None else value
    if not text:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        from ripple import errors

        raise errors.Invalid(f"{TIMEOUT_ENV}={text!r}: must be a number of seconds above 0")
    return seconds


def bind(host: str, port: int) -> socket.socket:
    sock = socket.create_server((host, port), backlog=1024)
    sock.setblocking(False)
    return sock


@dataclasses.dataclass
class _Call:
    deadline: float
    fd: int
    answered: bool = False


class Watchdog:
    """A thread that answers 504 and exits when the loop is too blocked to do it itself."""

    def __init__(self, grace: float = WATCHDOG_GRACE) -> None:
        self.grace = grace
        self.calls: dict[int, _Call] = {}
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="watchdog", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def add(self, key: int, deadline: float, fd: int) -> None:
        with self.lock:
            self.calls[key] = _Call(deadline, fd)
        self.wake.set()

    def discard(self, key: int) -> None:
        with self.lock:
            self.calls.pop(key, None)

    def _watch(self) -> None:
        while True:
            with self.lock:
                due = min((c.deadline for c in self.calls.values()), default=None)
            wait = None if due is None else max(0.0, due + self.grace - time.monotonic())
            self.wake.wait(wait)
            self.wake.clear()
            now = time.monotonic()
            with self.lock:
                stuck = [c for c in self.calls.values() if c.deadline + self.grace <= now]
            if stuck:
                self._recycle(stuck)

    def _recycle(self, stuck: list[_Call]) -> NoReturn:
        status, headers, body = invoking.error_answer(
            504, "the handler ran past its timeout and blocked the event loop")
        reply = wire.render(status, headers, body, keep_alive=False)
        for call in stuck:
            with contextlib.suppress(OSError):
                os.write(call.fd, reply)
        log.error("a handler blocked the event loop past its timeout; recycling the process")
        _exit(EXIT_RECYCLE)


class Host:
    """Serves one function; `serve(sock)` returns the process's exit code when it stops."""

    def __init__(self, function: functions.Function, *, timeout: float = DEFAULT_TIMEOUT,
                 context: functions.Context | None = None, init_done: bool = False,
                 watchdog: Watchdog | None = None) -> None:
        self.function = function
        self.timeout = timeout
        self.context = context or functions.new_context(function)
        self.init_done = init_done
        self.watchdog = watchdog
        self.ready = asyncio.Event()
        self.waiting_for_init = 0    # requests that arrived before init finished
        self.stopped = asyncio.Event()
        self.exit_code = 0
        self.stopping = False
        self.connections: set[asyncio.Task[Any]] = set()
        self.idle: set[asyncio.StreamWriter] = set()  # keep-alive connections between requests
        self.pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.ids = itertools.count()
        self.server: asyncio.Server | None = None

    async def serve(self, sock: socket.socket, *, signals: bool = False) -> int:
        if signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self.stop, 0)
        self.server = await asyncio.start_server(self._connection, sock=sock, limit=wire.MAX_HEAD)
        if self.watchdog is not None:
            self.watchdog.start()
        if not self.init_done and not await self._init():
            return EXIT_INIT_FAILED
        self.ready.set()
        await self.stopped.wait()
        await self._drain()
        return self.exit_code

    async def _init(self) -> bool:
        if self.function.init is None:
            return True
        try:
            result = self.function.init(self.context)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("init(context) of %s failed", self.function.name)
            self.stop(EXIT_INIT_FAILED)
            return False
        return True

    def stop(self, code: int = 0) -> None:
        """SIGTERM (code 0) or recycling (EXIT_RECYCLE): stop accepting, then drain."""
        if not self.stopping:
            self.stopping, self.exit_code = True, code
            log.info("stopping: draining %d in-flight request(s)",
                     len(self.connections) - len(self.idle))
        if self.server is not None:
            self.server.close()
        for writer in list(self.idle):
            writer.close()
        self.stopped.set()

    async def _drain(self) -> None:
        # A connection ends once its answer is written and flushed: every request in flight is
        # answered within its deadline (504 at worst), so this wait is bounded; the margin only
        # covers a client that stopped reading.
        if self.connections:
            await asyncio.wait(set(self.connections), timeout=self.timeout + WATCHDOG_GRACE)
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.connections.add(task)
        try:
            while not self.stopping:
                self.idle.add(writer)
                try:
                    message = await wire.read_request(reader)
                except wire.BadRequest as bad:
                    self.idle.discard(writer)
                    status, headers, body = invoking.error_answer(bad.status, str(bad))
                    writer.write(wire.render(status, headers, body, keep_alive=False))
                    await writer.drain()
                    return
                finally:
                    self.idle.discard(writer)
                if message is None:
                    return
                status, headers, body = await self._answer(message, writer)
                keep_alive = message.keep_alive and not self.stopping
                writer.write(wire.render(status, headers, body, keep_alive=keep_alive))
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()   # the answer is flushed before the process may exit
            self.connections.discard(task)

    async def _answer(self, message: wire.Message, writer: asyncio.StreamWriter) -> invoking.Answer:
        if message.target == HEALTH_PATH and message.method in ("GET", "HEAD"):
            ok = self.ready.is_set() and not self.stopping
            return invoking.error_answer(503, "not ready") if not ok else (
                200, {"content-type": "text/plain"}, b"ok")
        if not self.ready.is_set():
            self.waiting_for_init += 1
            await self.ready.wait()
            self.waiting_for_init -= 1
        try:
            argument = invoking.argument_of(self.function, message)
        except wire.BadRequest as bad:
            return invoking.error_answer(bad.status, str(bad))
        call = asyncio.ensure_future(self._invoke(argument))
        key = next(self.ids)
        if self.watchdog is not None:
            sock = writer.get_extra_info("socket")
            self.watchdog.add(key, time.monotonic() + self.timeout, sock.fileno() if sock else -1)
        try:
            done, _ = await asyncio.wait({call}, timeout=self.timeout)
        finally:
            if self.watchdog is not None:
                self.watchdog.discard(key)
        if not done:
            # The call may never end (a thread cannot be killed, a task may swallow its
            # cancellation): the process goes once the others are answered.
            call.cancel()
            log.error("%s ran past its timeout of %gs; recycling the process",
                      self.function.name, self.timeout)
            self.stop(EXIT_RECYCLE)
            return invoking.error_answer(504, f"the handler ran past its timeout of {self.timeout:g}s")
        failure = call.exception()
        if failure is not None:
            log.error("%s raised", self.function.name, exc_info=failure)
            return invoking.error_answer(500, short(failure))
        try:
            return invoking.answer_of(call.result(), is_http=self.function.is_http)
        except TypeError as unanswerable:
            log.error("%s returned what cannot be answered", self.function.name,
                      exc_info=unanswerable)
            return invoking.error_answer(500, short(unanswerable))

    async def _invoke(self, argument: Any) -> Any:
        function = self.function
        args = (argument, self.context) if function.takes_context else (argument,)
        if function.is_async:
            return await function.handler(*args)
        if self.pool is None:
            self.pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=SYNC_THREADS, thread_name_prefix="handler")
        result = await asyncio.get_running_loop().run_in_executor(self.pool, function.handler, *args)
        if inspect.isawaitable(result):  # a sync def that returns a coroutine
            result = await result
        return result


def short(failure: BaseException) -> str:
    first = str(failure).strip().splitlines()[0] if str(failure).strip() else ""
    text = f"{type(failure).__name__}: {first}" if first else type(failure).__name__
    return text[:MESSAGE_LIMIT]


def run(function: functions.Function, sock: socket.socket, *, timeout: float,
        context: functions.Context | None = None, init_done: bool = False) -> NoReturn:
    """Serve until stopped, then leave the process at once: a stuck handler thread must not
    keep it alive (interpreter shutdown would join it)."""
    host = Host(function, timeout=timeout, context=context, init_done=init_done,
                watchdog=Watchdog())
    # Not asyncio.run: at the end it cancels the remaining tasks and waits for them, and a
    # stuck handler that swallows its cancellation would keep the process forever.
    loop = asyncio.new_event_loop()
    try:
        code = loop.run_until_complete(host.serve(sock, signals=True))
    except BaseException:
        log.exception("the function host failed")
        code = 1
    _exit(code)


def _exit(code: int) -> NoReturn:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
