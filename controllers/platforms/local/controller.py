"""The local platform's controller: runs the pure reconcilers over the informer's cache
and writes back the statuses that changed.

Driven by `kick` (an informer listener) and run by `platform` under the leader lease. A
status write makes a MODIFIED event, which kicks another pass; that pass computes the same
status and writes nothing, so the loop settles. Conflicts (a stale resourceVersion) are
simply retried on the next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from controllers.platforms.local.webhooks import WebhookRegistrar
from controllers.reconcilers import CHILDREN, RECONCILERS
from controllers.reconcilers.observing import Context
from ripple import errors
from ripple.api import loading, registry
from ripple.informers import Informer, object_key
from sources import reporting

log = logging.getLogger(__name__)

RESYNC = 5.0
"""Seconds between passes when nothing changed: adapter reports change without a watch
event, and a level-triggered controller heals whatever an edge missed."""

REPORTING_KINDS = ("KafkaSource",)
"""Kinds whose adapters report what only the data plane sees (`sources.reporting`)."""

CHILD_KINDS = {"InMemoryChannel", "Channel", "Subscription"}
"""Kinds whose owned orphans are collected even when no owner wants one of that kind now."""


class InformerObserved:
    def __init__(self, informer: Informer) -> None:
        self.informer = informer

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict | None:
        obj = self.informer.get(kind, namespace, name)
        if obj is None:
            return None
        try:  # a ref may name another served version of the kind
            served = registry.lookup(api_version, kind).api_versions
        except errors.Invalid:
            return None
        return obj if obj.get("apiVersion") in served else None

    def list(self, kind: str, namespace: str) -> list[dict]:
        return self.informer.list(kind, namespace)


class LocalController:
    def __init__(self, store: Any, informer: Informer, *, base_url: str, reports: Any = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.store, self.informer, self.base_url, self.clock = store, informer, base_url, clock
        self.reports = reports  # the Redis client the adapters report into, if any
        self._dirty = asyncio.Event()
        self.webhooks = WebhookRegistrar(store, informer)
        self._retry: asyncio.TimerHandle | None = None

    def _retry_due(self) -> None:
        self._retry = None
        self._dirty.set()

    def kick(self, _changed: set[str] | None = None) -> None:
        self._dirty.set()

    async def run(self) -> None:
        await self.informer.synced.wait()
        self._dirty.set()
        while True:
            with contextlib.suppress(asyncio.TimeoutError):  # level-triggered: resync anyway
                await asyncio.wait_for(self._dirty.wait(), timeout=RESYNC)
            self._dirty.clear()
            try:
                await self.reconcile_all()
            except errors.TemporaryError as exc:
                log.warning("reconcile pass failed; retrying", extra={"error": str(exc)})
                await asyncio.sleep(1.0)
                self._dirty.set()
            except Exception:  # a bug must not end reconciling for good
                log.exception("reconcile pass crashed; retrying")
                await asyncio.sleep(1.0)
                self._dirty.set()
            await asyncio.sleep(0.01)  # coalesce bursts of changes into one pass

    async def reconcile_all(self) -> int:
        """One pass over every kind with a reconciler; returns how many statuses it wrote."""
        await self.reconcile_children()
        ctx = Context(observed=InformerObserved(self.informer), now=self.clock(), base_url=self.base_url,
                      reports=await self._read_reports())
        written = 0
        for kind, reconcile in RECONCILERS.items():
            for obj in self.informer.list(kind):
                try:
                    status = reconcile(obj, ctx)
                except Exception:  # one broken object must not stop the others
                    log.exception("reconciler crashed", extra={"object": "/".join(object_key(obj))})
                    continue
                if status == obj.get("status"):
                    continue
                try:
                    await self.store.update_status({**obj, "status": status})
                    written += 1
                except (errors.Conflict, errors.NotFound):
                    self._dirty.set()  # the cache was behind; the watch will catch up
        written += await self.webhooks.register_pending()
        if self.webhooks.waiting and self._retry is None:  # come back even if nothing changes
            self._retry = asyncio.get_running_loop().call_later(self.webhooks.retry_after, self._retry_due)
        return written

    async def _read_reports(self) -> dict[tuple[str, str, str], list[dict]]:
        if self.reports is None:
            return {}
        wanted = [(kind, *object_key(o)[1:]) for kind in REPORTING_KINDS for o in self.informer.list(kind)]
        try:
            return await reporting.read(self.reports, wanted)
        except Exception as exc:  # the store is down: reconcile with what is known
            log.warning("adapter reports unreadable", extra={"error": str(exc)})
            return {}

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
