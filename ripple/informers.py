"""Informers: a local, always-current cache of resources, fed by list + watch.

The data plane and the local controllers each hold one. `run()` lists the kinds, then
follows the store's watch from the listed resourceVersion, and calls every subscriber
after each batch of changes with the set of kinds that changed; object listeners
(`subscribe_objects`, the controller's work queue) hear each change with its object, and
`RELISTED` with None after a relist. When the watch breaks (store restart) it lists
again, so the cache converges whatever was missed. `version` is the resourceVersion of
the last change applied to the cache; `generation` counts the changes (and relists), so a
reader can keep what it computed from the cache until the next one.
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
ObjectListener = Callable[[str, "dict[str, Any] | None"], None]
"""(change type, object): ADDED, MODIFIED, DELETED with the object; RELISTED with None."""
RELISTED = "RELISTED"
ObjectKey = tuple[str, str, str]  # (kind name, namespace, name)


def object_key(obj: dict[str, Any]) -> ObjectKey:
    meta = obj.get("metadata", {})
    return (obj.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))


class Informer:
    def __init__(self, store: ResourceStore, kinds: Iterable[Kind]) -> None:
        self.store = store
        self.kinds = list(kinds)
        self._cache: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        """Objects by kind, then (namespace, name): a list touches only its own kind."""
        self._sorted: dict[str, list[dict[str, Any]]] = {}
        """Each kind's objects in (namespace, name) order, rebuilt after it changes."""
        self._listeners: list[Listener] = []
        self._object_listeners: list[ObjectListener] = []
        self.synced = asyncio.Event()
        self.version = 0
        self.generation = 0

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def subscribe_objects(self, listener: ObjectListener) -> None:
        self._object_listeners.append(listener)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self._cache.get(kind, {}).get((namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        ordered = self._sorted.get(kind)
        if ordered is None:
            objects = self._cache.get(kind, {})
            ordered = self._sorted[kind] = [objects[k] for k in sorted(objects)]
        if namespace is None:
            return list(ordered)
        return [obj for obj in ordered if (obj.get("metadata") or {}).get("namespace", "") == namespace]

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
        fresh: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        for kind in self.kinds:
            for obj in await self.store.list(kind, None):
                key = object_key(obj)
                fresh.setdefault(key[0], {})[key[1:]] = obj
        self._cache = fresh
        self._sorted = {}
        self.generation += 1
        self.version = int(since)
        self.synced.set()
        self._tell(RELISTED, None)
        await self._notify({k.kind for k in self.kinds})
        return str(since)

    def _apply(self, kind_of_change: str, obj: dict[str, Any]) -> str:
        key = object_key(obj)
        objects = self._cache.setdefault(key[0], {})
        if kind_of_change == "DELETED":
            objects.pop(key[1:], None)
        else:
            objects[key[1:]] = obj
        self._sorted.pop(key[0], None)
        self.generation += 1
        try:
            self.version = max(self.version, int(obj["metadata"]["resourceVersion"]))
        except (KeyError, TypeError, ValueError):
            pass
        self._tell(kind_of_change, obj)
        return key[0]

    def _tell(self, change: str, obj: dict[str, Any] | None) -> None:
        for listener in self._object_listeners:
            try:
                listener(change, obj)
            except Exception:
                log.exception("informer object listener failed")

    async def _notify(self, changed: set[str]) -> None:
        for listener in self._listeners:
            try:
                result = listener(changed)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("informer listener failed")
