"""The informer's cache over the in-memory store: `generation` moves with every change the
cache takes (an add, a modification, a deletion, a relist), so a reader may keep what it
computed from the cache (the console's topology, the operations API's targets) until then."""

from __future__ import annotations

import asyncio

import ripple.api  # noqa: F401  (registers the kinds)
from ripple.api import registry
from ripple.informers import Informer
from ripple.store import MemoryResourceStore
from tests.support.waiting import until


def broker(name: str) -> dict:
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
            "metadata": {"name": name, "namespace": "default"}, "spec": {}}


async def test_generation_moves_with_every_change_the_cache_takes() -> None:
    store = MemoryResourceStore()
    informer = Informer(store, [registry.by_name("Broker")])
    task = asyncio.create_task(informer.run())
    try:
        await asyncio.wait_for(informer.synced.wait(), 5)
        seen = [informer.generation]
        assert seen[0] >= 1  # the first list

        async def changed() -> bool:
            return informer.generation > seen[-1]

        await store.create(broker("a"))
        await until(changed)
        assert [o["metadata"]["name"] for o in informer.list("Broker")] == ["a"]
        seen.append(informer.generation)
        obj = informer.get("Broker", "default", "a")
        assert obj is not None
        await store.update({**obj, "spec": {"config": {"name": "x"}}})
        await until(changed)
        seen.append(informer.generation)
        await store.delete(registry.by_name("Broker"), "default", "a")
        await until(changed)
        assert informer.list("Broker") == []
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
