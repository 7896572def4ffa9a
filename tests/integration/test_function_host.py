"""The function host and the zygote as real processes: issue #10 items 3 and 5.

`ripple function serve` runs as the CLI would run it; the zygote runs through its Python
API (`serving.zygote.Zygote`), as the revision runtime will. No Valkey is needed. Every
wait is on a condition (a port answering, a process exiting, a pid disappearing) with a
bound; no test sleeps to prove that something did not happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from serving import hosting, zygote
from tests.support import http11

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "tests" / "support" / "functions"
HANDLERS = FUNCTIONS / "handlers.py"
RIPPLE = str(Path(sys.executable).with_name("ripple"))


def free_port() -> int:
    sock = hosting.bind("127.0.0.1", 0)
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.close()


def gone(pid: int) -> bool:
    """No such process, or a zombie nobody reaped yet (it runs no code either)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


async def eventually(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {check}"
        await asyncio.sleep(0.02)


async def healthy(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            if (await http11.request(port, "GET", hosting.HEALTH_PATH, timeout=5)).status == 200:
                return
        assert time.monotonic() < deadline, "the host never became healthy"
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def served(name: str, *flags: str, env: dict[str, str] | None = None,
                 file: Path = HANDLERS) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        RIPPLE, "function", "serve", f"{file}:{name}", *flags,
        env={**os.environ, "PORT": str(port), **(env or {})},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        yield process, port
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_serve_answers_on_port_and_drains_on_sigterm() -> None:
    async with served("echo") as (process, port):
        await healthy(port)
        first, second = await http11.event(port, {"n": 1}), await http11.event(port, {"n": 2})
        assert first.status == 200 and first.json()["data"] == {"n": 1}
        assert first.json()["pid"] == process.pid == first.json()["init_pid"]
        assert second.json()["inits"] == 1 and second.json()["connection"] == first.json()["connection"]
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0


async def test_sigterm_answers_the_request_in_flight_before_exiting(tmp_path) -> None:
    marker = tmp_path / "entered"
    async with served("announced_sleep") as (process, port):
        await healthy(port)
        in_flight = asyncio.ensure_future(
            http11.event(port, {"marker": str(marker), "seconds": 0.5}))
        await eventually(marker.exists)
        process.send_signal(signal.SIGTERM)
        answer = await in_flight
        assert (answer.status, answer.json()) == (200, {"slept": 0.5})
        assert await asyncio.wait_for(process.wait(), 15) == 0


async def test_a_handler_swallowing_its_cancellation_still_lets_the_process_go() -> None:
    async with served("swallows_cancellation", "--timeout", "0.3") as (process, port):
        await healthy(port)
        assert (await http11.event(port, {})).status == 504
        assert await asyncio.wait_for(process.wait(), 15) == hosting.EXIT_RECYCLE


async def test_a_stuck_sync_handler_gets_504_and_the_process_exits_to_be_recycled() -> None:
    async with served("stuck", env={hosting.TIMEOUT_ENV: "0.5"}) as (process, port):
        await healthy(port)
        answer = await http11.event(port, {})
        assert answer.status == 504
        assert await asyncio.wait_for(process.wait(), 15) == hosting.EXIT_RECYCLE
        assert process.stderr is not None
        log = (await process.stderr.read()).decode()
    assert "ran past its timeout of 0.5s; recycling the process" in log


async def test_an_async_handler_blocking_the_loop_is_caught_by_the_watchdog() -> None:
    async with served("blocks_loop", "--timeout", "0.3") as (process, port):
        await healthy(port)
        answer = await http11.event(port, {}, timeout=15)
        assert answer.status == 504
        assert "blocked the event loop" in answer.json()["error"]
        assert await asyncio.wait_for(process.wait(), 15) == hosting.EXIT_RECYCLE


async def test_a_failing_init_exits_1_with_the_traceback_in_the_log() -> None:
    async with served("handler", file=FUNCTIONS / "badinit.py") as (process, _):
        assert await asyncio.wait_for(process.wait(), 30) == hosting.EXIT_INIT_FAILED
        assert process.stderr is not None
        log = (await process.stderr.read()).decode()
    assert "init(context) of handler failed" in log and "cannot reach the database" in log
    assert "Traceback" in log


@pytest.mark.parametrize("flags, env, message", [
    (["--port", "70000"], {}, "--port='70000': must be a port number"),
    ([], {"PORT": "http"}, "PORT='http': must be a port number"),
    ([], {hosting.TIMEOUT_ENV: "0"}, "RIPPLE_TIMEOUT_SECONDS='0': must be a number of seconds"),
    (["--timeout", "-1"], {}, "--timeout=-1: must be seconds above 0"),
])
def test_serve_refuses_bad_settings_naming_them(flags, env, message) -> None:
    done = subprocess.run([RIPPLE, "function", "serve", f"{HANDLERS}:echo", *flags],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and message in done.stderr


# -- the zygote ------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def a_zygote(tmp_path: Path, name: str = "echo", file: Path = HANDLERS,
                   **options) -> AsyncIterator[zygote.Zygote]:
    handle = await zygote.Zygote.start(f"{file}:{name}", str(tmp_path / "zygote.sock"), **options)
    try:
        yield handle
    finally:
        await handle.close()


async def test_a_forked_replica_answers_at_once_with_init_run_in_it(tmp_path) -> None:
    async with a_zygote(tmp_path) as handle:
        replica = await handle.fork()
        # The zygote bound the port before forking: no wait for "listening".
        first = await http11.event(replica.port, {"n": 1})
        second = await http11.event(replica.port, {"n": 2})
        other = await handle.fork(env={"GREETING": "hi"})
        third = await http11.event(other.port, {})
    assert first.status == 200 and first.json()["data"] == {"n": 1}
    assert first.json()["pid"] == first.json()["init_pid"] == replica.pid != handle.pid
    assert second.json()["inits"] == 1 and second.json()["connection"] == first.json()["connection"]
    assert third.json()["pid"] == third.json()["init_pid"] == other.pid


async def test_a_fork_safe_init_runs_once_in_the_zygote(tmp_path) -> None:
    async with a_zygote(tmp_path, "where", FUNCTIONS / "forksafe.py") as handle:
        replicas = [await handle.fork(), await handle.fork()]
        answers = [(await http11.event(r.port, {})).json() for r in replicas]
    assert [a["pid"] for a in answers] == [r.pid for r in replicas]
    assert [a["init_pid"] for a in answers] == [handle.pid, handle.pid]


async def test_a_replica_past_its_timeout_answers_504_and_its_exit_is_reported(tmp_path) -> None:
    async with a_zygote(tmp_path, "stuck") as handle:
        replica = await handle.fork(timeout=0.3)
        assert (await http11.event(replica.port, {})).status == 504
        assert await asyncio.wait_for(replica.exited, 15) == hosting.EXIT_RECYCLE
        await eventually(lambda: gone(replica.pid))      # reaped by the zygote


async def test_sigterm_to_a_replica_drains_it_and_the_zygote_reports_exit_0(tmp_path) -> None:
    async with a_zygote(tmp_path) as handle:
        replica = await handle.fork()
        assert (await http11.event(replica.port, {})).status == 200
        os.kill(replica.pid, signal.SIGTERM)
        assert await asyncio.wait_for(replica.exited, 15) == 0


async def test_fork_errors_are_replies(tmp_path) -> None:
    taken = hosting.bind("127.0.0.1", 0)
    try:
        async with a_zygote(tmp_path) as handle:
            with pytest.raises(zygote.ZygoteError, match="fork: .*in use"):
                await handle.fork(port=taken.getsockname()[1])
            with pytest.raises(zygote.ZygoteError, match="timeout: seconds above 0"):
                await handle.fork(timeout=-1)
            handle.writer.write(b'{"id": 99, "op": "exec"}\n')
            handle.pending[99] = reply = asyncio.get_running_loop().create_future()
            assert "the only op is 'fork'" in (await reply)["error"]
            assert (await http11.event((await handle.fork()).port, {})).status == 200  # still serving
    finally:
        taken.close()


async def test_stopping_the_zygote_stops_its_replicas(tmp_path) -> None:
    handle = await zygote.Zygote.start(f"{HANDLERS}:echo", str(tmp_path / "z.sock"))
    replicas = [await handle.fork(), await handle.fork()]
    assert await handle.close() == 0
    await eventually(lambda: all(gone(r.pid) for r in replicas))
    # The handle's connection closed first, so the zygote reported no exit: none is left pending.
    assert [r.exited.result() for r in replicas] == [None, None]
    assert not (tmp_path / "z.sock").exists()


async def test_a_closed_connection_takes_its_replicas_with_it(tmp_path) -> None:
    async with a_zygote(tmp_path) as handle:
        reader, writer = await asyncio.open_unix_connection(handle.path)
        writer.write(zygote.encode({"id": 1, "op": "fork"}))
        pid = json.loads(await reader.readline())["pid"]
        writer.close()
        await eventually(lambda: gone(pid))
        assert (await http11.event((await handle.fork()).port, {})).status == 200


@pytest.mark.parametrize("victim", ["parent", "zygote"])
async def test_no_orphans_when_the_parent_or_the_zygote_dies(tmp_path, victim) -> None:
    """SIGKILL leaves no chance to clean up: PR_SET_PDEATHSIG must do it."""
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.zygote_parent", str(tmp_path / "z.sock"), "2",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert parent.stdout is not None
        pids = json.loads(await asyncio.wait_for(parent.stdout.readline(), 60))
        for port in pids["ports"]:
            assert (await http11.event(port, {})).status == 200
        os.kill(pids[victim], signal.SIGKILL)
        survivors = [pids["zygote"], *pids["replicas"]] if victim == "parent" else pids["replicas"]
        await eventually(lambda: all(gone(pid) for pid in survivors), timeout=20)
    finally:
        if parent.returncode is None:
            parent.kill()
        await parent.wait()


async def test_the_zygote_command_forks_replicas_and_stops_on_sigterm(tmp_path) -> None:
    path = tmp_path / "cli.sock"
    process = await asyncio.create_subprocess_exec(
        RIPPLE, "function", "zygote", f"{HANDLERS}:echo", "--socket", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 60) == zygote.READY_LINE
        reader, writer = await asyncio.open_unix_connection(str(path))
        writer.write(zygote.encode({"id": 7, "op": "fork", "env": {"A": "1"}}))
        reply = json.loads(await reader.readline())
        assert reply["id"] == 7
        assert (await http11.event(reply["port"], {"via": "cli"})).json()["data"] == {"via": "cli"}
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        await eventually(lambda: gone(reply["pid"]))
        writer.close()
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
