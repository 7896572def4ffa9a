"""The operator's informer: `ripple.informers.Informer`'s cache, fed by kopf's watches.

kopf lists and watches each resource (`operator` registers one `kopf.on.event` handler per
kind) and hands every event to `observe`, which applies it to the cache and tells the
listeners exactly as the local informer does, so `LocalController`'s work queue, tracker and
owner index run unchanged. `prime` lists every kind once through the API before the
controller starts: kopf has no "initial listing done" signal, and reconciling over a
half-filled cache would write statuses that the rest of the list then corrects.

Called by `operator` (kopf's handlers and the leader task).
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from controllers.platforms.kubernetes import api as kube
from ripple import errors
from ripple.api import loading, meta, registry
from ripple.informers import RELISTED, Informer, object_key

log = logging.getLogger(__name__)


def _version(obj: dict[str, Any]) -> int | None:
    try:
        return int(obj["metadata"]["resourceVersion"])
    except (KeyError, TypeError, ValueError):
        return None


def _admitted(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The object as Knative's webhook would have admitted it: defaulted (a Service's
    traffic, a Broker's class and delivery), or None when its validation refuses it.

    Ripple installs no admission webhook yet, so the API server stores what `kubectl` sent,
    checked only against the CRD's schema; the reconcilers see what `ripple up`'s API
    server would have stored. A refused object is logged and left alone."""
    try:
        return loading.admit(obj)
    except errors.Invalid as exc:
        ref = f"{obj.get('kind')} {meta.key(obj)[0]}/{meta.key(obj)[1]}"
        log.warning("object refused by Ripple's validation; not reconciled",
                    extra={"object": ref, "error": str(exc)})
        return None


class KopfInformer(Informer):
    """An Informer whose list and watch are kopf's; `run` is never called."""

    def __init__(self, kinds: Iterable[registry.Kind]) -> None:
        super().__init__(store=None, kinds=kinds)  # type: ignore[arg-type]  # kopf is the store
        self._gone: dict[tuple[str, str, str], str] = {}
        """uids of deleted objects by key: a LIST older than a deletion must not revive it."""

    def observe(self, change: str | None, obj: dict[str, Any]) -> None:
        """One event from kopf: None (kopf's initial listing) counts as ADDED."""
        kind_of_change = change or "ADDED"
        if kind_of_change != "DELETED":
            admitted = _admitted(obj)
            if admitted is None:
                kind_of_change, obj = "DELETED", obj  # refused: as if it were not there
            else:
                obj = admitted
        key = object_key(obj)
        uid = (obj.get("metadata") or {}).get("uid", "")
        if kind_of_change == "DELETED":
            self._gone[key] = uid
        elif self._gone.get(key) == uid:
            return  # a late echo of a deleted object
        else:
            self._gone.pop(key, None)
            current = self.get(*key)
            new, old = _version(obj), _version(current) if current is not None else None
            if new is not None and old is not None and new < old:
                return  # older than what the cache has (a replayed watch)
        self._apply(kind_of_change, obj)
        if self.synced.is_set():
            for listener in self._listeners:  # the data plane's kind of listener, if any
                try:
                    listener({key[0]})
                except Exception:
                    log.exception("informer listener failed")

    async def prime(self, client: kube.KubeApi, namespaces: list[str]) -> None:
        """List every kind once (in each watched namespace), then mark the cache synced."""
        for kind in self.kinds:
            resource = kube.Resource.of(kind)
            for namespace in namespaces or [None]:  # type: ignore[list-item]
                for listed in await client.list(resource, namespace):
                    obj = _admitted(listed)
                    if obj is None:
                        continue
                    key = object_key(obj)
                    if self.get(*key) is None and key not in self._gone:
                        self._apply("ADDED", obj)
        self.synced.set()
        self._tell(RELISTED, None)
