"""P5 cold start: a request to a function revision at zero, from its arrival to its response,
against `python -c pass` run from the same venv in the same run. Issue #10's goal: <= 3x.

"At zero" means the revision has no replica but its zygote is up (`serving.zygote`: the
runtime and the function's module imported, no loop, no threads). The figure is what the
activator will do for the first request: ask the zygote for a replica (`Zygote.fork`, one
JSON line each way on its Unix socket), connect to the port it returns (the zygote bound it
before forking, so there is no wait for "listening"), send one binary-mode CloudEvent and
read the whole answer. The replica runs the function's `init` before answering, as any
first request in a new process pays for it. Each sample then stops its replica and waits
for the zygote to report the exit, outside the timed span.

For comparison (no goal): a fresh interpreter, `ripple function serve FILE:FUNCTION` spawned
per sample and polled until it answers the same request, as a revision without a zygote
(or a command container running the host) would start.

Medians of `SAMPLES` after one unscored warm-up each; the three measurements interleave
sample by sample so a burst of load from other processes hits all of them alike.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import harness

SAMPLES = 30
GOAL_RATIO = 3.0
FUNCTION = '''\
def init(context):
    context.user_data["greeting"] = "hello"


def handler(event, context):
    return {"id": event["id"], "greeting": context.user_data["greeting"]}
'''
REQUEST = (b"POST / HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
           b"ce-specversion: 1.0\r\nce-id: e-1\r\nce-source: /bench\r\nce-type: dev.ripple.bench\r\n"
           b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")


def _check(answer: bytes) -> None:
    if not answer.startswith(b"HTTP/1.1 200") or b'"e-1"' not in answer:
        raise RuntimeError(f"unexpected answer: {answer[:200]!r}")


async def _ask(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(REQUEST)
        return await reader.read()
    finally:
        writer.close()


async def _zygote_sample(handle: Any) -> tuple[float, float]:
    """(arrival to answer, arrival to the zygote's reply): the rest is the replica's work."""
    started = time.perf_counter()
    replica = await handle.fork()
    forked = time.perf_counter() - started
    answer = await _ask(replica.port)
    elapsed = time.perf_counter() - started
    _check(answer)
    os.kill(replica.pid, signal.SIGTERM)
    await asyncio.wait_for(replica.exited, 30)
    return elapsed, forked


def _python_pass() -> float:
    started = time.perf_counter()
    subprocess.run([harness.PYTHON, "-c", "pass"], check=True)
    return time.perf_counter() - started


async def _fresh_sample(target: str) -> float:
    port = harness.free_port()
    started = time.perf_counter()
    # Popen only forks and execs: timing it from the loop is what the sample measures.
    process = subprocess.Popen(  # noqa: ASYNC220
        [harness.RIPPLE, "function", "serve", target, "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + 30
        while True:
            try:
                answer = await _ask(port)
                break
            except OSError:
                if time.perf_counter() > deadline or process.poll() is not None:
                    raise RuntimeError("ripple function serve did not answer") from None
                await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - started
        _check(answer)
        return elapsed
    finally:
        process.terminate()
        process.wait(30)


async def _measure(directory: Path, samples: int, log: Any) -> dict[str, list[float]]:
    from serving import zygote

    path = directory / "function.py"
    path.write_text(FUNCTION)
    target = f"{path}:handler"
    handle = await zygote.Zygote.start(target, str(directory / "zygote.sock"))
    runs: dict[str, list[float]] = {"zygote": [], "fork": [], "python": [], "fresh": []}
    try:
        for index in range(samples + 1):
            zygote_s, fork_s = await _zygote_sample(handle)
            python_s = _python_pass()
            fresh_s = await _fresh_sample(target)
            if index:  # the first of each is a warm-up
                runs["zygote"].append(zygote_s)
                runs["fork"].append(fork_s)
                runs["python"].append(python_s)
                runs["fresh"].append(fresh_s)
        log(f"P5: {samples} samples each")
    finally:
        await handle.close()
    return runs


def run(duration: float = 0.0, log: Any = print, samples: int = SAMPLES) -> dict[str, Any]:
    row: dict[str, Any] = {"id": "P5", "name": "cold start", "unit": "µs", "goal": f"<= {GOAL_RATIO:g}x",
                           "baseline_is": "`python -c pass` from the same venv, same run"}
    with tempfile.TemporaryDirectory(prefix="ripple-p5-") as tmp:
        runs = asyncio.run(_measure(Path(tmp), samples, log))
    medians = {name: statistics.median(values) * 1e6 for name, values in runs.items()}
    p90 = {name: sorted(values)[int(len(values) * 0.9) - 1] * 1e6 for name, values in runs.items()}
    ratio = medians["zygote"] / medians["python"]
    fresh_ratio = medians["fresh"] / medians["python"]
    row.update(
        figure=round(medians["zygote"]), baseline=round(medians["python"]), ratio=ratio,
        met=ratio <= GOAL_RATIO,
        extra=(f"zygote fork to answer, median of {samples}, p90 {p90['zygote'] / 1000:.1f} ms "
               f"(the zygote's fork reply: {medians['fork'] / 1000:.1f} ms); "
               f"fresh interpreter (ripple function serve): {medians['fresh'] / 1000:.0f} ms "
               f"({fresh_ratio:.1f}x)"),
        details={"median_us": {k: round(v) for k, v in medians.items()},
                 "p90_us": {k: round(v) for k, v in p90.items()},
                 "samples_s": runs, "python": sys.version.split()[0]},
    )
    log(f"P5: zygote {medians['zygote'] / 1000:.1f} ms, python -c pass "
        f"{medians['python'] / 1000:.1f} ms ({ratio:.2f}x); fresh {medians['fresh'] / 1000:.0f} ms "
        f"({fresh_ratio:.1f}x)")
    return row
