"""Informers: a local, always-current cache of resources, fed by list + watch.

The data plane and the local controllers each hold one. `run()` lists the kinds, then
follows the store's watch from the listed resourceVersion, and calls every subscriber
after each batch of changes with the set of kinds that changed. When the watch breaks
(store restart) it lists again, so the cache converges whatever was missed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Iterable

from ripple import errors
from ripple.api.registry import Kind
from ripple.store.protocols import ResourceStore

log = logging.getLogger(__name__)

Listener = Callable[[set[str]], Awaitable[None] | None]
ObjectKey = tuple[str, str, str]  # (kind name, namespace, name)


def object_key(obj: dict[str, Any]) -> ObjectKey:
    meta = obj.get("metadata", {})
    return (obj.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))


class Informer:
    def __init__(self, store: ResourceStore, kinds: Iterable[Kind]) -> None:
        self.store = store
        self.kinds = list(kinds)
        self._cache: dict[ObjectKey, dict[str, Any]] = {}
        self._listeners: list[Listener] = []
        self.synced = asyncio.Event()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self._cache.get((kind, namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return [
            obj for (k, ns, _), obj in sorted(self._cache.items())
            if k == kind and (namespace is None or ns == namespace)
        ]

    async def run(self) -> None:
        while True:
            try:
                since = await self._relist()
                async for event in self.store.watch(self.kinds, since=since):
                    changed = {self._apply(event["type"], event["object"])}
                    await self._notify(changed)
            except asyncio.CancelledError:
                raise
            except errors.TemporaryError as exc:
                log.warning("informer lost the store; relisting", extra={"error": str(exc)})
            except Exception:
                log.exception("informer failed; relisting")
            await asyncio.sleep(1.0)

    async def _relist(self) -> str:
        since = await self.store.current_version()
        fresh: dict[ObjectKey, dict[str, Any]] = {}
        for kind in self.kinds:
            for obj in await self.store.list(kind, None):
                fresh[object_key(obj)] = obj
        self._cache = fresh
        self.synced.set()
        await self._notify({k.kind for k in self.kinds})
        return str(since)

    def _apply(self, kind_of_change: str, obj: dict[str, Any]) -> str:
        key = object_key(obj)
        if kind_of_change == "DELETED":
            self._cache.pop(key, None)
        else:
            self._cache[key] = obj
        return key[0]

    async def _notify(self, changed: set[str]) -> None:
        for listener in self._listeners:
            try:
                result = listener(changed)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("informer listener failed")
