"""Which objects to reconcile when one changes: Knative's tracker, fed by what each
reconcile actually read.

A reconciler reads the world only through `Context.observed`. The driver hands it a
`Recording` over the cache, which notes every object the reconciler looked up (found or
not: a Trigger whose Broker does not exist yet must hear of its creation) and every
(kind, namespace) it listed (a Channel lists the Subscriptions that name it). The
`Tracker` keeps the reverse: for a changed object, the keys of the objects whose last
reconcile read it. So a Broker's change reconciles its Triggers, a Channel's its
Subscriptions, a ref's its referrers, and nothing else: never the world.

Pure bookkeeping; called by the drivers in `controllers.platforms`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from controllers.reconciling import Object, ObjectRef

Lookup = Callable[[str, str, str, str], "Object | None"]
Lister = Callable[[str, str], "list[Object]"]
Scope = tuple[str, str]
"""(kind, namespace) of a list."""
_K = TypeVar("_K", bound=Hashable)


class Recording:
    """An `Observed` that remembers what was read through it."""

    def __init__(self, get: Lookup, list_: Lister) -> None:
        self._get, self._list = get, list_
        self.read: set[ObjectRef] = set()
        self.listed: set[Scope] = set()

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Object | None:
        self.read.add(ObjectRef(kind, namespace, name))
        return self._get(api_version, kind, namespace, name)

    def list(self, kind: str, namespace: str) -> list[Object]:
        self.listed.add((kind, namespace))
        return self._list(kind, namespace)


class Tracker:
    def __init__(self) -> None:
        self._readers: dict[ObjectRef, set[ObjectRef]] = {}
        self._listers: dict[Scope, set[ObjectRef]] = {}
        self._reads: dict[ObjectRef, tuple[frozenset[ObjectRef], frozenset[Scope]]] = {}

    def track(self, reader: ObjectRef, read: set[ObjectRef], listed: set[Scope]) -> None:
        """Replace what `reader` depends on with what its last reconcile read."""
        new = (frozenset(read), frozenset(listed))
        old = self._reads.get(reader)
        if old == new:
            return
        self.forget(reader)
        self._reads[reader] = new
        for ref in new[0]:
            self._readers.setdefault(ref, set()).add(reader)
        for scope in new[1]:
            self._listers.setdefault(scope, set()).add(reader)

    def forget(self, reader: ObjectRef) -> None:
        old = self._reads.pop(reader, None)
        if old is None:
            return
        for ref in old[0]:
            _discard(self._readers, ref, reader)
        for scope in old[1]:
            _discard(self._listers, scope, reader)

    def readers_of(self, ref: ObjectRef) -> set[ObjectRef]:
        """Every object whose last reconcile read `ref`, or listed its kind in its namespace."""
        return (self._readers.get(ref, set())
                | self._listers.get((ref.kind, ref.namespace), set())) - {ref}

    def __len__(self) -> int:
        return len(self._reads)


def _discard(index: dict[_K, set[ObjectRef]], key: _K, reader: ObjectRef) -> None:
    readers = index.get(key)
    if readers is not None:
        readers.discard(reader)
        if not readers:
            del index[key]
