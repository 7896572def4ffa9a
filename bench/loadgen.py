"""Python load generators on uvloop, each run as its own process.

`python -m bench.loadgen closed URL --connections C --count N --duration D [--procs P]`
posts CloudEvents with aiohttp back to back over C connections until N requests or D
seconds, across P processes (the P1 fallback when wrk is missing, and the P2 baseline's
"raw aiohttp POST loop"). `python -m bench.loadgen paced URL --rate R --duration D` posts
on an open-loop schedule of R per second (P3), stamping `ce-benchsent` just before each
send (not with `--no-stamp`, for warm-ups). It writes prepared requests on keep-alive
connections and parses the answers with httptools: about 30 µs of CPU per POST, where
aiohttp's 130 µs, plus a core spinning on the clock between sends, left too little of
these two cores to hold 5,000 ev/s beside Ripple.
Both print one JSON line: `ok` (2xx answers), `other`, `errors`, `seconds`, and, for
paced, the producer-side response latencies.

Every loop stops at its count or its time limit, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import sys
import time
import urllib.parse
from collections.abc import Callable
from typing import Any, cast

import aiohttp
import httptools

from bench import events

TICK = 0.001
CONNECTIONS = 64
"""The most connections a paced generator opens; it opens more only while every open one
has a request in flight."""


async def _closed(
    url: str, connections: int, count: int, duration: float, type_: str
) -> dict[str, Any]:
    tally = {"ok": 0, "other": 0, "errors": 0}
    budget = [count]
    deadline = time.monotonic() + duration
    body = events.DATA

    async def worker(session: aiohttp.ClientSession, worker_id: int) -> None:
        seq = 0
        while budget[0] > 0 and time.monotonic() < deadline:
            budget[0] -= 1
            seq += 1
            headers = events.headers(f"w{worker_id}-{seq}", type_)
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    tally["ok" if 200 <= resp.status < 300 else "other"] += 1
            except (TimeoutError, aiohttp.ClientError, OSError):
                tally["errors"] += 1

    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     skip_auto_headers=("User-Agent",)) as session:
        await asyncio.gather(*(worker(session, i) for i in range(connections)))
    return dict(tally, seconds=time.monotonic() - started)


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection with at most one request in flight; httptools
    parses the answers. Reports each answer's status, and its own loss, to `pool`."""

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_message_complete(self) -> None:
        self.pool.answered(self, self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.lost(self)


class _Pool:
    """Open-loop sending over keep-alive connections: `send` writes a request on an idle
    connection (the least recently used, so none idles into the server's keep-alive
    timeout), opens another while fewer than `limit` are open, else queues it. A request is
    stamped when it is written, so a queued one is not charged for its wait."""

    def __init__(self, url: str, limit: int, request: Callable[[int, int], bytes]) -> None:
        split = urllib.parse.urlsplit(url)
        self.host, self.port = split.hostname or "127.0.0.1", split.port or 80
        self.limit, self.request = limit, request
        self.idle: collections.deque[_Connection] = collections.deque()
        self.queued: collections.deque[int] = collections.deque()
        self.in_flight: dict[_Connection, int] = {}
        self.opening = 0
        self.tally = {"ok": 0, "other": 0, "errors": 0}
        self.latencies: list[int] = []

    async def open(self, count: int) -> None:
        await asyncio.gather(*(self._connect() for _ in range(count)))

    async def _connect(self) -> None:
        self.opening += 1
        try:
            _, conn = await asyncio.get_running_loop().create_connection(
                lambda: _Connection(self), self.host, self.port)
        except OSError:  # the request waiting longest fails with it
            if self.queued:
                self.queued.popleft()
                self.tally["errors"] += 1
            return
        finally:
            self.opening -= 1
        self._ready(conn)

    def send(self, seq: int) -> None:
        if self.idle:
            self._write(self.idle.popleft(), seq)
            return
        self.queued.append(seq)
        self._grow()

    def _grow(self) -> None:
        if len(self.in_flight) + len(self.idle) + self.opening < self.limit:
            asyncio.get_running_loop().create_task(self._connect())

    def _write(self, conn: _Connection, seq: int) -> None:
        assert conn.transport is not None
        sent = time.monotonic_ns()
        self.in_flight[conn] = sent
        conn.transport.write(self.request(seq, sent))

    def _ready(self, conn: _Connection) -> None:
        if self.queued:
            self._write(conn, self.queued.popleft())
        else:
            self.idle.append(conn)

    def answered(self, conn: _Connection, status: int) -> None:
        sent = self.in_flight.pop(conn)
        self.latencies.append(time.monotonic_ns() - sent)
        self.tally["ok" if 200 <= status < 300 else "other"] += 1
        self._ready(conn)

    def lost(self, conn: _Connection) -> None:
        if conn in self.in_flight:
            del self.in_flight[conn]
            self.tally["errors"] += 1
        elif conn in self.idle:
            self.idle.remove(conn)
        if self.queued:  # what waits for a connection must not wait for one never opened
            self._grow()

    async def drain(self, timeout: float) -> None:
        """Wait for every answer (at most `timeout`); what is still unsent counts as errors."""
        deadline = time.monotonic() + timeout
        while (self.in_flight or self.queued) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        self.tally["errors"] += len(self.queued)
        self.queued.clear()

    def close(self) -> None:
        for conn in [*self.idle, *self.in_flight]:
            if conn.transport is not None:
                conn.transport.close()


async def _paced(
    url: str, rate: float, duration: float, type_: str, stamp: bool = True, prefix: str = "p"
) -> dict[str, Any]:
    """Send `rate` events a second for `duration` seconds on an open-loop schedule: at each
    wake-up, every event due by then. The loop's timers tick in milliseconds, and a shorter
    sleep returns at once, so it sleeps at least `TICK`: above 1,000 ev/s events go out in
    bursts of up to rate/1,000, not spread by a core spinning on its clock."""
    total = int(rate * duration)
    split = urllib.parse.urlsplit(url)
    fixed = {"host": split.netloc, "content-length": str(len(events.DATA))}
    head = "".join(f"{k}: {v}\r\n" for k, v in dict(events.headers("", type_), **fixed).items()
                   if k != "ce-id")
    first = f"POST {split.path or '/'} HTTP/1.1\r\n{head}".encode()

    def request(seq: int, sent: int) -> bytes:
        stamped = f"ce-benchsent: {sent}\r\n" if stamp else ""
        return first + f"ce-id: {prefix}-{seq}\r\n{stamped}\r\n".encode() + events.DATA

    pool = _Pool(url, CONNECTIONS, request)
    # Open before the clock starts, one connection per 250 ev/s (4 per 1 ms burst of 1,000/s),
    # so the first bursts are not charged for connecting; the pool grows if they fall short.
    await pool.open(min(CONNECTIONS, max(1, int(rate / 250))))
    started = time.monotonic()
    seq = 0
    while seq < total:
        due = min(total, int((time.monotonic() - started) * rate) + 1)
        while seq < due:
            pool.send(seq)
            seq += 1
        await asyncio.sleep(max(TICK, started + seq / rate - time.monotonic()))
    await pool.drain(timeout=15)
    seconds = time.monotonic() - started
    pool.close()
    pool.latencies.sort()
    return dict(pool.tally, seconds=seconds, sent=total, response_p50_ms=_pct(pool.latencies, 50),
                response_p99_ms=_pct(pool.latencies, 99))


def _pct(sorted_ns: list[int], p: float) -> float | None:
    if not sorted_ns:
        return None
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * p / 100))] / 1e6


def _run(coro: Any) -> dict[str, Any]:
    try:
        import uvloop

        result: dict[str, Any] = uvloop.run(coro)
        return result
    except ImportError:
        return asyncio.run(coro)


def _closed_process(args: tuple[str, int, int, float, str]) -> dict[str, Any]:
    return _run(_closed(*args))


def _paced_process(args: tuple[str, float, float, str, bool, str]) -> dict[str, Any]:
    return _run(_paced(*args))


def _merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Several processes' tallies as one: counts add up, the slowest sets the time (and,
    for paced runs, the worst process's response percentiles stand for all)."""
    result: dict[str, Any] = {k: sum(p[k] for p in parts) for k in ("ok", "other", "errors")}
    result["seconds"] = max(p["seconds"] for p in parts)
    if all("sent" in p for p in parts):
        result["sent"] = sum(p["sent"] for p in parts)
    for key in ("response_p50_ms", "response_p99_ms"):
        values = [p[key] for p in parts if p.get(key) is not None]
        if values:
            result[key] = max(values)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("mode", choices=("closed", "paced"))
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--procs", type=int, default=1)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--type", default="bench.match", dest="type_")
    parser.add_argument("--prefix", default="p",
                        help="paced: event ids are PREFIX-SEQ (PREFIX-PROCESS-SEQ with several)")
    parser.add_argument("--no-stamp", action="store_true",
                        help="paced: send no ce-benchsent (warm-up events the sink does not score)")
    args = parser.parse_args(argv)
    if args.mode == "paced" and args.procs == 1:
        result = _run(_paced(args.url, args.rate, args.duration, args.type_, not args.no_stamp, args.prefix))
    elif args.mode == "paced":
        paced = [(args.url, args.rate / args.procs, args.duration, args.type_, not args.no_stamp, f"{args.prefix}-{i}")
                 for i in range(args.procs)]
        with multiprocessing.get_context("spawn").Pool(args.procs) as pool:
            result = _merged(pool.map(_paced_process, paced))
    elif args.procs == 1:
        result = _run(_closed(args.url, args.connections, args.count, args.duration, args.type_))
    else:
        per = max(1, args.connections // args.procs)
        jobs = [(args.url, per, args.count // args.procs, args.duration, args.type_)] * args.procs
        with multiprocessing.get_context("spawn").Pool(args.procs) as pool:
            result = _merged(pool.map(_closed_process, jobs))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
