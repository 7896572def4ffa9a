"""Python load generators (aiohttp on uvloop), each run as its own process.

`python -m bench.loadgen closed URL --connections C --count N --duration D [--procs P]`
posts CloudEvents back to back over C connections until N requests or D seconds, across
P processes (the P1 fallback when wrk is missing, and the P2 baseline's "raw aiohttp POST
loop"). `python -m bench.loadgen paced URL --rate R --duration D` posts on an open-loop
schedule of R per second (P3), stamping `ce-benchsent` just before each send (not with
`--no-stamp`, for warm-ups).
Both print one JSON line: `ok` (2xx answers), `other`, `errors`, `seconds`, and, for
paced, the producer-side response latencies.

Every loop stops at its count or its time limit, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import time
from typing import Any

import aiohttp

from bench import events


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


async def _paced(
    url: str, rate: float, duration: float, type_: str, stamp: bool = True, prefix: str = "p"
) -> dict[str, Any]:
    tally = {"ok": 0, "other": 0, "errors": 0}
    latencies: list[int] = []
    total = int(rate * duration)
    body = events.DATA

    async def one(session: aiohttp.ClientSession, seq: int) -> None:
        sent = time.monotonic_ns()
        headers = events.headers(f"{prefix}-{seq}", type_, {"ce-benchsent": str(sent)} if stamp else None)
        try:
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                tally["ok" if 200 <= resp.status < 300 else "other"] += 1
                latencies.append(time.monotonic_ns() - sent)
        except (TimeoutError, aiohttp.ClientError, OSError):
            tally["errors"] += 1

    connector = aiohttp.TCPConnector(limit=64)
    timeout = aiohttp.ClientTimeout(total=10)
    tasks: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     skip_auto_headers=("User-Agent",)) as session:
        started = time.monotonic()
        for seq in range(total):
            delay = started + seq / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(session, seq))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=15)
        seconds = time.monotonic() - started
    latencies.sort()
    return dict(tally, seconds=seconds, sent=total, response_p50_ms=_pct(latencies, 50),
                response_p99_ms=_pct(latencies, 99))


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
