"""The local platform's controller loop over an in-memory store: a pass reconciles every
object, and one object whose reconciler crashes does not stop the others."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import ripple.api  # noqa: F401  (registers the kinds)
from controllers.platforms.local import controller as controllers
from ripple.api import loading, registry
from ripple.informers import Informer
from ripple.store import MemoryResourceStore


def broker(name: str) -> dict[str, Any]:
    return loading.admit({"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                          "metadata": {"name": name, "namespace": "ns"}})


async def synced(store: MemoryResourceStore) -> tuple[Informer, asyncio.Task[None]]:
    informer = Informer(store, registry.kinds())
    task = asyncio.create_task(informer.run())
    await asyncio.wait_for(informer.synced.wait(), 5)
    return informer, task


async def test_a_crashing_reconciler_skips_only_its_object(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryResourceStore()
    for name in ("bad", "good"):
        await store.create(broker(name))
    real = controllers.RECONCILERS["Broker"]

    def flaky(obj: dict[str, Any], ctx: Any) -> dict[str, Any]:
        if obj["metadata"]["name"] == "bad":
            raise RuntimeError("a reconciler bug")
        return real(obj, ctx)

    monkeypatch.setitem(controllers.RECONCILERS, "Broker", flaky)
    informer, task = await synced(store)
    try:
        written = await controllers.LocalController(store, informer, base_url="http://x").reconcile_all()
    finally:
        task.cancel()
    assert written == 1
    kind = registry.lookup("eventing.knative.dev/v1", "Broker")
    assert (await store.get(kind, "ns", "good")).get("status", {}).get("conditions")
    assert not (await store.get(kind, "ns", "bad")).get("status")
