"""The revisions' plane on real Valkey and real processes: desired scales written the way
the autoscaler will (`ripple.scales.write`) drive the runtime, and its reports reach the
Revision reconciler's reader."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

import pytest

from ripple import keys, reporting, scales
from serving import revisions, runtime
from tests.integration.test_revision_runtime import SERVER, eventually, gone, revision


class FakeInformer:
    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects = list(objects)

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        assert kind == "Revision"
        return list(self.objects)


async def test_desired_scales_in_redis_drive_the_replicas_and_reports_come_back(
        redis_client: Any) -> None:
    obj = revision(container={"command": [sys.executable, str(SERVER)]})
    informer = FakeInformer(obj)
    machine = runtime.Runtime()
    plane = revisions.RevisionPlane(redis_client, informer, machine, consumer="w0",
                                    poll=0.05, report_every=0.05)
    task = asyncio.create_task(plane.run())
    try:
        # No entry yet: the initial scale (1).
        await eventually(lambda: len(machine.endpoints(obj)) == 1)
        await scales.write(redis_client, {("default", "hello-00001"): 2})
        plane.kick({"Revision"})
        await eventually(lambda: len(machine.endpoints(obj)) == 2)

        async def reported(n: int) -> bool:
            found = await reporting.read(redis_client, [("Revision", "default", "hello-00001")])
            return any(r["actualReplicas"] == n and r["desiredReplicas"] == n
                       for r in found[("Revision", "default", "hello-00001")])
        deadline = asyncio.get_running_loop().time() + 20
        while not await reported(2):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)

        pids = machine.revisions[("default", "hello-00001")].pids()
        informer.objects = []  # the Revision was deleted
        plane.kick()
        await eventually(lambda: all(gone(pid) for pid in pids))
        assert machine.revisions == {}
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert machine.revisions == {}


async def test_scales_round_trip_and_ignore_malformed_entries(redis_client: Any) -> None:
    await scales.write(redis_client, {("ns", "a-00001"): 3, ("ns", "b-00001"): 0}, now=100.0)
    await redis_client.hset(keys.REVISION_SCALES, "ns/bad", "not json")
    assert await scales.read(redis_client) == {("ns", "a-00001"): (3, 100.0),
                                               ("ns", "b-00001"): (0, 100.0)}
    await scales.remove(redis_client, [("ns", "a-00001")])
    assert await scales.read(redis_client) == {("ns", "b-00001"): (0, 100.0)}


async def test_an_activation_starts_a_replica_at_once_and_holds_it_until_the_autoscaler_decides(
        redis_client: Any) -> None:
    obj = revision(container={"command": [sys.executable, str(SERVER)]})
    await scales.write(redis_client, {("default", "hello-00001"): 0}, now=1.0)
    machine = runtime.Runtime()
    plane = revisions.RevisionPlane(redis_client, FakeInformer(obj), machine, consumer="w0")
    try:
        await plane.step()
        assert machine.revisions[("default", "hello-00001")].desired == 0
        await plane.activate(obj).wait_ready(timeout=20)
        await plane.step()  # the autoscaler's 0 is older than the activation: held at 1
        assert len(machine.endpoints(obj)) == 1
        await scales.write(redis_client, {("default", "hello-00001"): 0})
        await plane.step()  # a newer decision wins
        assert machine.revisions[("default", "hello-00001")].desired == 0
        assert plane.activated == {}
    finally:
        await machine.close()


S = scales.Scale
HOLD = revisions.ACTIVATION_HOLD
WANTED = [
    ("no decision: the initial scale", {}, {}, 3),
    ("the autoscaler's decision", {("default", "a-00001"): S(5, 10.0)}, {}, 5),
    ("an activation newer than a decision of 0", {("default", "a-00001"): S(0, 10.0)},
     {("default", "a-00001"): 11.0}, 1),
    ("a decision newer than the activation", {("default", "a-00001"): S(0, 12.0)},
     {("default", "a-00001"): 11.0}, 0),
    ("an activation past the hold", {("default", "a-00001"): S(0, 10.0)},
     {("default", "a-00001"): 12.0 - HOLD}, 0),
]


@pytest.mark.parametrize(("case", "desired", "activated", "count"), WANTED,
                         ids=[w[0] for w in WANTED])
def test_wanted(case: str, desired: dict[Any, Any], activated: dict[Any, float],
                count: int) -> None:
    obj = revision("a-00001", annotations={"autoscaling.knative.dev/initial-scale": "3"})
    assert revisions.wanted([obj], desired, activated, now=12.0) == [(obj, count)]
