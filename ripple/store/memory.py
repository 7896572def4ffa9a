"""The in-memory resource store: the fake every unit test of the control plane uses.

Behaves like `redis.RedisResourceStore` (same rules from `objects`, same ordering of
resourceVersions, same bounded watch history) but lives in one event loop and one
process. Tests seed it with `create`, status included.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import itertools
import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ripple.store import objects
from ripple.store.protocols import ChangeType, Resolver, WatchEvent, default_resolver

if TYPE_CHECKING:
    from ripple.api.registry import Kind

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class MemoryResourceStore:
    """A `ResourceStore` in a dict, with a watch history of `history` changes."""

    def __init__(
        self, *, resolve: Resolver | None = None, clock: Clock = _utcnow, history: int = 10_000
    ) -> None:
        self._resolve = resolve or default_resolver
        self._clock = clock
        self._buckets: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._rv = 0
        # (rv, kind id, event); rvs are contiguous, so an index is rv - first rv.
        self._history: collections.deque[tuple[int, str, WatchEvent]] = collections.deque(
            maxlen=history
        )
        self._changed = asyncio.Event()

    def _bucket(self, kind: Kind) -> dict[str, dict[str, Any]]:
        return self._buckets.setdefault((kind.api_version, kind.plural), {})

    def _place(self, obj: dict[str, Any]) -> tuple[Kind, dict[str, dict[str, Any]], str, str]:
        kind, namespace, name = objects.locate(obj, self._resolve)
        return kind, self._bucket(kind), objects.field(namespace, name), namespace

    def _publish(self, change: ChangeType, kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
        event = WatchEvent(type=change, object=obj)
        self._history.append((self._rv, objects.kind_id(kind.api_version, kind.kind), event))
        # Wake every watcher once, then give later writes a fresh event to wait on.
        self._changed.set()
        self._changed = asyncio.Event()
        return copy.deepcopy(obj)

    async def get(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        stored = self._bucket(kind).get(objects.field(namespace if kind.namespaced else "", name))
        if stored is None:
            raise objects.not_found(kind, name)
        return copy.deepcopy(stored)

    async def list(self, kind: Kind, namespace: str | None = None) -> list[dict[str, Any]]:
        prefix = None if namespace is None else objects.field(namespace, "")
        found = [
            (key, obj)
            for key, obj in self._bucket(kind).items()
            if prefix is None or key.startswith(prefix)
        ]
        return [copy.deepcopy(obj) for key, obj in sorted(found, key=lambda item: item[0])]

    async def list_json(self, kind: Kind, namespace: str | None = None) -> Sequence[bytes]:
        return [json.dumps(obj, separators=(",", ":")).encode() for obj in await self.list(kind, namespace)]

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj = objects.canonical(obj)
        kind, bucket, key, namespace = self._place(obj)
        if key in bucket:
            raise objects.already_exists(kind, obj["metadata"]["name"])
        self._rv += 1
        bucket[key] = objects.stamp_created(obj, namespace, self._rv, self._clock())
        return self._publish("ADDED", kind, bucket[key])

    async def update(self, obj: dict[str, Any]) -> dict[str, Any]:
        return self._replace(obj, objects.stamp_updated)

    async def update_status(
        self, obj: dict[str, Any], *, current: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._replace(obj, objects.stamp_status)  # reading costs nothing here

    def _replace(
        self,
        obj: dict[str, Any],
        stamp: Callable[[dict[str, Any], dict[str, Any], int], dict[str, Any]],
    ) -> dict[str, Any]:
        obj = objects.canonical(obj)
        kind, bucket, key, _ = self._place(obj)
        old = bucket.get(key)
        if old is None:
            raise objects.not_found(kind, obj["metadata"]["name"])
        objects.check_preconditions(kind, old, obj)
        new = stamp(old, obj, self._rv + 1)
        if objects.same_but_version(old, new):
            return copy.deepcopy(old)
        self._rv += 1
        bucket[key] = new
        return self._publish("MODIFIED", kind, new)

    async def delete(
        self, kind: Kind, namespace: str | None, name: str, *, uid: str | None = None
    ) -> dict[str, Any]:
        bucket = self._bucket(kind)
        key = objects.field(namespace if kind.namespaced else "", name)
        old = bucket.get(key)
        if old is None:
            raise objects.not_found(kind, name)
        objects.check_uid(kind, old, uid)
        del bucket[key]
        self._rv += 1
        return self._publish("DELETED", kind, objects.stamp_deleted(old, self._rv))

    async def current_version(self) -> str:
        return str(self._rv)

    async def watch(
        self, kinds: Sequence[Kind] | None = None, *, since: str | None = None
    ) -> AsyncIterator[WatchEvent]:
        wanted = objects.kind_ids(kinds)
        last = self._rv if since is None else objects.parse_version(since)
        while True:
            oldest = self._history[0][0] if self._history else self._rv + 1
            if last < oldest - 1:
                raise objects.too_old(str(last), oldest - 1)
            changed = self._changed
            batch = list(itertools.islice(self._history, max(0, last + 1 - oldest), None))
            for rv, kind_id, event in batch:
                last = rv
                if wanted is None or kind_id in wanted:
                    yield WatchEvent(type=event["type"], object=copy.deepcopy(event["object"]))
            if last >= self._rv:
                await changed.wait()
