"""The local platform's controller: runs the pure reconcilers over the informer's cache
and writes back the statuses that changed.

Driven by `kick` (an informer listener) and run by `platform` under the leader lease. A
status write makes a MODIFIED event, which kicks another pass; that pass computes the same
status and writes nothing, so the loop settles. Conflicts (a stale resourceVersion) are
simply retried on the next pass.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Callable

from ripple import errors
from ripple.api import loading, registry
from ripple.informers import Informer, object_key

from controllers.reconcilers import CHILDREN, RECONCILERS
from controllers.reconcilers.observing import Context

log = logging.getLogger(__name__)

CHILD_KINDS = {"InMemoryChannel", "Channel", "Subscription"}
"""Kinds whose owned orphans are collected even when no owner wants one of that kind now."""


class InformerObserved:
    def __init__(self, informer: Informer) -> None:
        self.informer = informer

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict | None:
        obj = self.informer.get(kind, namespace, name)
        return obj if obj is not None and obj.get("apiVersion") == api_version else None

    def list(self, kind: str, namespace: str) -> list[dict]:
        return self.informer.list(kind, namespace)


class LocalController:
    def __init__(self, store: Any, informer: Informer, *, base_url: str,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> None:
        self.store, self.informer, self.base_url, self.clock = store, informer, base_url, clock
        self._dirty = asyncio.Event()

    def kick(self, _changed: set[str] | None = None) -> None:
        self._dirty.set()

    async def run(self) -> None:
        await self.informer.synced.wait()
        self._dirty.set()
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.reconcile_all()
            except errors.TemporaryError as exc:
                log.warning("reconcile pass failed; retrying", extra={"error": str(exc)})
                await asyncio.sleep(1.0)
                self._dirty.set()
            await asyncio.sleep(0.01)  # coalesce bursts of changes into one pass

    async def reconcile_all(self) -> int:
        """One pass over every kind with a reconciler; returns how many statuses it wrote."""
        await self.reconcile_children()
        ctx = Context(observed=InformerObserved(self.informer), now=self.clock(), base_url=self.base_url)
        written = 0
        for kind, reconcile in RECONCILERS.items():
            for obj in self.informer.list(kind):
                status = reconcile(obj, ctx)
                if status == obj.get("status"):
                    continue
                try:
                    await self.store.update_status({**obj, "status": status})
                    written += 1
                except (errors.Conflict, errors.NotFound):
                    self._dirty.set()  # the cache was behind; the watch will catch up
        return written

    async def reconcile_children(self) -> None:
        """Create or update the children owners want (Sequence and Parallel channels and
        subscriptions), and delete owned children no owner wants any more."""
        wanted: dict[tuple[str, str, str], dict] = {}
        for kind, make in CHILDREN.items():
            for owner in self.informer.list(kind):
                for child in make(owner):
                    wanted[object_key(child)] = child
        for key, child in wanted.items():
            current = self.informer.get(*key)
            try:
                if current is None:
                    await self.store.create(loading.admit(child))
                elif loading.admit(child)["spec"] != current.get("spec"):
                    desired = {**current, "spec": child["spec"]}
                    await self.store.update(loading.admit(desired, current))
            except (errors.Conflict, errors.NotFound):
                self._dirty.set()
            except errors.Invalid as exc:
                log.warning("child not applied", extra={"child": "/".join(key), "error": str(exc)})
        child_kinds = {k[0] for k in wanted} | CHILD_KINDS
        for kind in child_kinds:
            for obj in self.informer.list(kind):
                owners = [r for r in obj.get("metadata", {}).get("ownerReferences") or []
                          if r.get("controller") and r.get("kind") in CHILDREN]
                if owners and object_key(obj) not in wanted:
                    try:
                        await self.store.delete(registry.lookup(obj["apiVersion"], kind),
                                                *object_key(obj)[1:])
                    except errors.NotFound:
                        pass
