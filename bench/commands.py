"""`python -m bench.commands [--rounds N]`: the client CPU per hot Redis command, lean path
(`ripple.resp`) against redis-py's, in one process, alternating rounds (issue #14, lever 2).

Each command runs the way Ripple sends it, on `ripple.redisclient.connect`'s client, against
an embedded Valkey of its own: the ingress's append script (EVALSHA, 16 events), an
XREADGROUP of 64 entries and one that finds nothing, the acks' XACK+XDEL pipeline, a retry's
ZADD+XACK transaction, and a bare XACK and ZADD. CPU is this process's
(`time.process_time`), so other load on the machine moves it much less than a rate; it
includes the event loop's share of the socket work. Prints the medians, in µs per call.

`--cluster-url redis+cluster://HOST:PORT` adds the same commands on a Redis Cluster
(`ripple.rediscluster.ClusterClient`), both ways: redis-py's cluster routing for every
command, and the lean path to the slot's node. The keys share one hash tag, as Ripple's do,
so the transaction and the script stay in one slot.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ripple import embedded, redisclient

EVENT = [b"id", b"e-1", b"type", b"bench.event", b"source", b"/bench", b"specversion", b"1.0",
         b"data", b"x" * 100]
APPEND = """local n = tonumber(ARGV[1]) local out = {}
for i = 2, #ARGV, n do out[#out + 1] = redis.pcall('XADD', KEYS[1], '*', unpack(ARGV, i, i + n - 1)) end
return out"""


Q, Z, LOG = "{b}q", "{b}z", "{b}log"
"""One hash tag: one Cluster slot for the transaction and the script, as Ripple's keys."""


async def _cases(client: Any) -> dict[str, Callable[[int], Awaitable[Any]]]:
    await client.flushall()
    await client.xgroup_create(Q, "g", id="0", mkstream=True)
    script = client.register_script(APPEND)
    args: list[Any] = [len(EVENT)]
    for _ in range(16):
        args += EVENT

    async def append(i: int) -> Any:
        return await script(keys=[LOG], args=args)

    async def read_none(i: int) -> Any:
        return await client.xreadgroup("g", "c", {Q: ">"}, count=64)

    async def ack_pipeline(i: int) -> Any:
        async with client.pipeline(transaction=False) as pipe:
            pipe.xack(Q, "g", f"{i}-1")
            pipe.xdel(Q, f"{i}-1")
            return await pipe.execute()

    async def retry_transaction(i: int) -> Any:
        async with client.pipeline(transaction=True) as pipe:
            pipe.zadd(Z, {f"q|{i}-1": 1.5 + i})
            pipe.xack(Q, "g", f"{i}-1")
            return await pipe.execute()

    async def xack(i: int) -> Any:
        return await client.xack(Q, "g", f"{i}-1")

    async def zadd(i: int) -> Any:
        return await client.zadd(Z, {f"m{i}": i})

    fields = dict(zip(EVENT[::2], EVENT[1::2]))

    async def xadd(i: int) -> Any:
        return await client.xadd(LOG, fields)

    for _ in range(64):
        await client.xadd(Q, dict(zip(EVENT[::2], EVENT[1::2])))
    await client.xreadgroup("g", "c", {Q: ">"}, count=64)  # pending under c: read64 rereads them

    async def reread64(i: int) -> Any:
        return await client.xreadgroup("g", "c", {Q: "0"}, count=64)

    return {"EVALSHA append x16": append, "XREADGROUP 64 entries": reread64,
            "XREADGROUP nothing": read_none, "pipeline XACK+XDEL": ack_pipeline,
            "MULTI ZADD+XACK EXEC": retry_transaction, "XADD": xadd, "XACK": xack, "ZADD": zadd}


async def _measure(url: str, lean: bool, calls: int, concurrency: int) -> dict[str, float]:
    client = redisclient.connect(url, lean=lean)
    try:
        cases = await _cases(client)
        out = {}
        for name, case in cases.items():
            for i in range(20):  # warm: connections, scripts
                await case(i)
            started = time.process_time()
            for start in range(0, calls, concurrency):
                await asyncio.gather(*(case(i) for i in range(start, start + concurrency)))
            out[name] = 1e6 * (time.process_time() - started) / calls
        return out
    finally:
        await client.aclose()


def run(coroutine: Awaitable[dict[str, float]]) -> dict[str, float]:
    """On uvloop, as `ripple up` runs."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a dependency on Linux and macOS
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    return uvloop.run(coroutine)  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.commands", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1, help="commands in flight at once")
    parser.add_argument("--cluster-url", default=None,
                        help="also measure on this Redis Cluster (redis+cluster://HOST:PORT; emptied)")
    args = parser.parse_args(argv)
    clustered: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="ripple-bench-commands-") as tmp:
        store = embedded.EmbeddedValkey(Path(tmp), persist=False).start()
        try:
            results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
            for _ in range(args.rounds):
                for lean in (False, True):
                    results[lean].append(run(_measure(store.url, lean, args.calls, args.concurrency)))
                for lean in (False, True) if args.cluster_url else ():
                    clustered[lean].append(run(_measure(args.cluster_url, lean, args.calls, args.concurrency)))
        finally:
            store.stop()
    names = list(results[True][0])
    print(f"client CPU per call, µs (median of {args.rounds} alternating rounds, "
          f"{args.calls} calls, {args.concurrency} in flight)")
    print(f"{'command':<24}{'redis-py':>10}{'lean':>10}{'ratio':>8}"
          + (f"{'cluster redis-py':>18}{'cluster lean':>14}{'ratio':>8}" if args.cluster_url else ""))
    for name in names:
        before = statistics.median(r[name] for r in results[False])
        after = statistics.median(r[name] for r in results[True])
        line = f"{name:<24}{before:>10.1f}{after:>10.1f}{after / before:>8.2f}"
        if args.cluster_url:
            before, after = (statistics.median(r[name] for r in clustered[lean]) for lean in (False, True))
            line += f"{before:>18.1f}{after:>14.1f}{after / before:>8.2f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
