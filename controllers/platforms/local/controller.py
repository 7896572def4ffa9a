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
from ripple.informers import Informer

from controllers.reconcilers import RECONCILERS
from controllers.reconcilers.observing import Context

log = logging.getLogger(__name__)


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
