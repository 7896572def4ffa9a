"""The revision runtime on real processes (issue #10 item 2): scaling, restarts, readiness,
the zygote, the report in Redis, and no process left behind.

Command replicas run `tests/support/replica_server.py`; function replicas fork from a zygote
of `tests/support/functions/handlers.py`. Every wait is on a condition with a bound.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from controllers.reconcilers.serving import revision as revision_reconciler
from ripple import reporting, supervising
from serving import runtime
from tests.support import http11

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tests" / "support" / "replica_server.py"
HANDLERS = ROOT / "tests" / "support" / "functions" / "handlers.py"
FAST = supervising.Backoff(initial=0.05, factor=2.0, cap=0.5, healthy_after=60.0)


def revision(name: str = "hello-00001", *, container: dict[str, Any] | None = None,
             annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "serving.knative.dev/v1", "kind": "Revision",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations or {},
                     "labels": {"serving.knative.dev/configuration": "hello",
                                "serving.knative.dev/service": "hello"}},
        "spec": {"containers": [container if container is not None else {
            "command": [sys.executable, str(SERVER)],
            "env": [{"name": "GREETING", "value": "hi"}]}], **spec},
    }


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {check}"
        await asyncio.sleep(0.02)
    return found


def replaced(rev: runtime.RevisionRuntime, pid: int) -> tuple[str, int] | None:
    """The endpoint of the replica that took the place of `pid` in the first slot, once
    it is ready. Not `endpoints()` alone: right after the old process exits (a zombie,
    `gone` already) the runtime may not have reaped it yet, and still lists its endpoint."""
    slot = rev.slots[0]
    if slot.running is None or slot.running.pid == pid or not slot.ready:
        return None
    return rev.host, slot.running.port


async def get(endpoint: tuple[str, int], target: str = "/") -> http11.Answer:
    return await http11.request(endpoint[1], "GET", target, timeout=10)


@pytest.fixture
async def machine() -> AsyncIterator[runtime.Runtime]:
    rt = runtime.Runtime(backoff=FAST)
    try:
        yield rt
    finally:
        await rt.close()


async def test_a_command_revision_scales_0_2_1_0_with_actual_replicas_following(
        machine: runtime.Runtime) -> None:
    obj = revision(timeoutSeconds=5)
    rev = machine.scale(obj, 0)
    assert rev.report() == {"ready": False, "actualReplicas": 0, "desiredReplicas": 0,
                            "error": None, "reason": None, "endpoints": []}
    machine.scale(obj, 2)
    await eventually(lambda: len(machine.endpoints(obj)) == 2)
    assert rev.report()["actualReplicas"] == 2 and rev.report()["ready"] is True
    assert sorted(rev.report()["endpoints"]) == sorted(f"{h}:{p}" for h, p in machine.endpoints(obj))
    answers = [(await get(e)).json() for e in machine.endpoints(obj)]
    assert answers[0]["pid"] != answers[1]["pid"]
    for answer, endpoint in zip(answers, machine.endpoints(obj)):
        assert answer["env"] == {"K_REVISION": "hello-00001", "K_CONFIGURATION": "hello",
                                 "K_SERVICE": "hello", "PORT": str(endpoint[1]),
                                 "GREETING": "hi", "RIPPLE_TIMEOUT_SECONDS": "5"}
    oldest, newest = (s.running.pid for s in rev.slots)  # type: ignore[union-attr]

    machine.scale(obj, 1)
    assert rev.report()["actualReplicas"] == 1 and rev.report()["desiredReplicas"] == 1
    await eventually(lambda: gone(newest))
    assert (await get(machine.endpoints(obj)[0])).json()["pid"] == oldest

    machine.scale(obj, 0)
    assert machine.endpoints(obj) == []
    await eventually(lambda: gone(oldest))
    assert rev.report() == {"ready": True, "actualReplicas": 0, "desiredReplicas": 0,
                            "error": None, "reason": None, "endpoints": []}


async def test_working_dir_is_the_replicas_cwd(machine: runtime.Runtime, tmp_path: Path) -> None:
    obj = revision(container={"command": [sys.executable, str(SERVER)],
                              "workingDir": str(tmp_path)})
    machine.scale(obj, 1)
    endpoint = await machine.wait_ready(obj, timeout=20)
    assert (await get(endpoint)).json()["cwd"] == str(tmp_path)


async def test_a_crashed_replica_is_restarted(machine: runtime.Runtime) -> None:
    obj = revision()
    rev = machine.scale(obj, 1)
    first = await machine.wait_ready(obj, timeout=20)
    pid = (await get(first)).json()["pid"]
    assert (await get(first, "/exit?code=3")).status == 200
    await eventually(lambda: gone(pid))
    second = await eventually(lambda: replaced(rev, pid))
    assert machine.endpoints(obj) == [second]
    assert (await get(second)).json()["pid"] != pid
    assert rev.slots[0].restarts == 1


async def test_exit_75_is_restarted_at_once_without_backoff() -> None:
    # A crash would wait an hour here: only an immediate restart passes.
    rt = runtime.Runtime(backoff=supervising.Backoff(initial=3600.0, cap=3600.0))
    try:
        obj = revision()
        rev = rt.scale(obj, 1)
        first = await rt.wait_ready(obj, timeout=20)
        pid = (await get(first)).json()["pid"]
        await get(first, "/exit?code=75")
        await eventually(lambda: gone(pid))
        second = await eventually(lambda: replaced(rev, pid))
        assert rt.endpoints(obj) == [second]
        assert (await get(second)).json()["pid"] != pid
    finally:
        await rt.close()


async def test_a_crash_before_ready_is_reported_with_knatives_exit_code_reason(
        machine: runtime.Runtime) -> None:
    obj = revision(container={"name": "app", "command": [sys.executable, "-c", "exit(3)"]})
    rev = machine.scale(obj, 1)
    report = await eventually(lambda: rev.report()["error"] and rev.report())
    assert report["reason"] == "ExitCode3" and report["ready"] is False
    assert 'container "app" exited with code 3 before it was ready' == report["error"]


async def test_a_failing_readiness_probe_keeps_the_replica_not_ready_until_it_passes(
        machine: runtime.Runtime, tmp_path: Path) -> None:
    ready_file, probes = tmp_path / "ready", tmp_path / "probes"
    obj = revision(container={
        "command": [sys.executable, str(SERVER)],
        "env": [{"name": "READY_FILE", "value": str(ready_file)},
                {"name": "PROBES_FILE", "value": str(probes)}],
        "readinessProbe": {"httpGet": {"path": "/ready"}, "periodSeconds": 0.1}})
    rev = machine.scale(obj, 1)
    became_ready: list[tuple[str, int]] = []
    machine.on_ready(lambda key, endpoint: became_ready.append(endpoint))
    # Three refused probes seen by the replica itself: it runs, and it is not ready.
    await eventually(lambda: probes.exists() and len(probes.read_text().splitlines()) >= 3)
    assert machine.endpoints(obj) == [] and became_ready == []
    assert rev.report()["ready"] is False and rev.report()["actualReplicas"] == 0
    ready_file.touch()
    endpoint = await machine.wait_ready(obj, timeout=20)
    assert became_ready == [endpoint] and rev.report()["actualReplicas"] == 1


async def test_a_function_revision_forks_from_a_zygote_and_answers(
        machine: runtime.Runtime) -> None:
    obj = revision("fn-00001", container={"image": "ignored"},
                   annotations={"ripple.dev/function": f"{HANDLERS}:echo"})
    rev = machine.scale(obj, 2)
    await eventually(lambda: len(machine.endpoints(obj)) == 2)
    answer = await http11.event(machine.endpoints(obj)[0][1], {"n": 1})
    assert answer.status == 200 and answer.json()["data"] == {"n": 1}
    pids = {s.running.pid for s in rev.slots if s.running}
    assert answer.json()["pid"] in pids
    assert rev._zygote is not None and rev._zygote.pid not in pids


async def test_the_command_form_ripple_function_serve_also_uses_the_zygote(
        machine: runtime.Runtime) -> None:
    obj = revision("fn-00002", container={"command": ["ripple"],
                                          "args": ["function", "serve", f"{HANDLERS}:echo"]})
    rev = machine.scale(obj, 1)
    endpoint = await machine.wait_ready(obj, timeout=30)
    assert (await http11.event(endpoint[1], {"n": 2})).json()["data"] == {"n": 2}
    assert rev._zygote is not None


async def test_the_report_reaches_redis_in_the_reconcilers_shape(
        machine: runtime.Runtime, redis_client: Any) -> None:
    obj = revision()
    machine.scale(obj, 1)
    image_only = revision("image-00001", container={"image": "gcr.io/x/y"})
    machine.scale(image_only, 1)
    await machine.wait_ready(obj, timeout=20)
    await machine.report(redis_client, "worker-0")
    found = await reporting.read(redis_client, [("Revision", "default", "hello-00001"),
                                                ("Revision", "default", "image-00001")])
    [report] = found[("Revision", "default", "hello-00001")]
    assert revision_reconciler.combine([report]) == {
        "ready": True, "actualReplicas": 1, "desiredReplicas": 1, "error": None, "reason": None}
    [refused] = found[("Revision", "default", "image-00001")]
    assert refused["reason"] == "CommandRequired" and refused["actualReplicas"] == 0
    assert machine.revisions[("default", "image-00001")].pids() == []


async def test_close_leaves_no_process_behind() -> None:
    rt = runtime.Runtime(backoff=FAST)
    command = revision(timeoutSeconds=2)
    function = revision("fn-00003", annotations={"ripple.dev/function": f"{HANDLERS}:echo"})
    rt.scale(command, 2)
    rt.scale(function, 2)
    await eventually(lambda: len(rt.endpoints(command)) == 2 and len(rt.endpoints(function)) == 2)
    pids = [pid for rev in rt.revisions.values() for pid in rev.pids()]
    assert len(pids) == 5  # two commands, two forked replicas, one zygote
    await rt.close()
    await eventually(lambda: all(gone(pid) for pid in pids))


async def test_a_runtime_killed_with_sigkill_takes_every_replica_with_it(tmp_path: Path) -> None:
    out = tmp_path / "pids.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.runtime_parent", str(out), cwd=str(ROOT),
        stdout=asyncio.subprocess.DEVNULL)
    try:
        await eventually(out.exists, timeout=60)
        started = json.loads(out.read_text())
        assert len(started["pids"]) == 5 and not any(gone(pid) for pid in started["pids"])
        process.kill()
        await process.wait()
        await eventually(lambda: all(gone(pid) for pid in started["pids"]))
        for path in started["socket_dirs"]:  # nobody was left to remove the zygote's socket
            shutil.rmtree(path)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_function_file_that_does_not_load_is_reported(
        machine: runtime.Runtime, tmp_path: Path) -> None:
    obj = revision("fn-00004", annotations={"ripple.dev/function": f"{tmp_path}/absent.py:main"})
    rev = machine.scale(obj, 1)
    report = await eventually(lambda: rev.report()["error"] and rev.report(), timeout=60)
    assert "did not start" in report["error"] and report["actualReplicas"] == 0


async def test_a_function_replica_recycled_after_a_timeout_is_forked_again_at_once() -> None:
    rt = runtime.Runtime(backoff=supervising.Backoff(initial=3600.0, cap=3600.0))
    try:
        obj = revision("fn-00005", timeoutSeconds=1,
                       annotations={"ripple.dev/function": f"{HANDLERS}:stuck"})
        rev = rt.scale(obj, 1)
        # Wait for the probe to pass: a replica that never served is not "recycling".
        await eventually(lambda: rev.slots[0].ever_ready)
        first = rev.slots[0].running
        assert first is not None
        assert (await http11.event(first.port, {}, timeout=15)).status == 504
        await eventually(lambda: rev.slots[0].running is not None
                         and rev.slots[0].running.pid != first.pid and rev.endpoints())
    finally:
        await rt.close()


async def test_a_killed_zygote_is_replaced_and_its_replicas_restarted(
        machine: runtime.Runtime) -> None:
    obj = revision("fn-00006", annotations={"ripple.dev/function": f"{HANDLERS}:echo"})
    rev = machine.scale(obj, 1)
    await machine.wait_ready(obj, timeout=30)
    assert rev._zygote is not None
    old_zygote, old_replica = rev._zygote.pid, rev.slots[0].running.pid  # type: ignore[union-attr]
    os.kill(old_zygote, signal.SIGKILL)
    await eventually(lambda: gone(old_zygote) and gone(old_replica))
    endpoint = await eventually(
        lambda: rev._zygote is not None and rev._zygote.pid != old_zygote and rev.endpoints()
        and rev.endpoints()[0], timeout=30)
    assert (await http11.event(endpoint[1], {"n": 3})).json()["data"] == {"n": 3}
