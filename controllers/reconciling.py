"""The reconciler contract: `reconcile(obj, ctx) -> Result`, shared by every kind and both
platforms.

A reconciler is pure. It reads the object it is given and the world in `Context` (the
observed objects, the clock, the base URL, what the data plane reports, what earlier
effects came to) and returns a `Result`: the status the object should have, the children
it wants to own, and the effects it asks for. It never awaits and never writes. One
applier (`controllers.applying`) carries the result out; a per-key work queue
(`controllers.queueing`) decides what to reconcile; the platforms (`platforms/local`, and
`platforms/kubernetes` under kopf) are two drivers of the same reconcilers and applier.

Called by the reconcilers in `controllers.reconcilers` (their argument and return types),
by the applier and the drivers, and by the reconciler table tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from ripple.api import meta

Object = dict[str, Any]


class ObjectRef(NamedTuple):
    """The identity of one resource: (kind, namespace, name). The work queue's key."""

    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectRef:
        metadata = obj.get("metadata") or {}
        return cls(str(obj.get("kind", "")), str(metadata.get("namespace") or ""),
                   str(metadata.get("name", "")))

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


class Observed(Protocol):
    """A read-only lookup of observed objects: the informer's cache, or a test's list."""

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Object | None: ...

    def list(self, kind: str, namespace: str) -> list[Object]: ...


class ObservedList:
    """An `Observed` over a fixed list of objects: the reconciler tables use it."""

    def __init__(self, objects: Iterable[Object]) -> None:
        self._by_key = {(o["apiVersion"], o["kind"], *meta.key(o)): o for o in objects}

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Object | None:
        return self._by_key.get((api_version, kind, namespace, name))

    def list(self, kind: str, namespace: str) -> list[Object]:
        return [o for (_, k, ns, _), o in sorted(self._by_key.items())
                if k == kind and ns == namespace]


@dataclass(frozen=True)
class DataPlane:
    """What the data-plane processes report, as the control plane last read it.

    `synced` is the resourceVersion that every live data-plane process has applied to its
    routes, fan-outs and dispatchers (None: no process reports, so nothing routes). An
    object whose resourceVersion is at or below it is served everywhere: its ingress
    routes and its dispatcher runs. `reports` holds the adapters' own reports
    (`sources.reporting`), by (kind, namespace, name), one dict per process.
    """

    synced: int | None = None
    reports: Mapping[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def has_seen(self, obj: Mapping[str, Any]) -> bool:
        if self.synced is None:
            return False
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version is None:  # an object that was never stored: tests' fixtures
            return True
        try:
            return int(version) <= self.synced
        except (TypeError, ValueError):  # a version the store did not write: a fixture's
            return True


EVERYWHERE = DataPlane(synced=2**63)
"""A data plane that has seen everything: the default for reconciler tables."""

WAIT_FOR_DATA_PLANE = 0.05
"""Seconds before an object that waits for the data plane is reconciled again."""


@dataclass(frozen=True)
class Outcome:
    """What an effect came to: `value` on success (e.g. a webhook's id), else `error`."""

    at: datetime
    value: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Effect:
    """Something a reconciler asks the platform to do outside the store, e.g. register a
    webhook. `name` tells effects of one object apart; its `Outcome` comes back to the
    reconciler through `Context.outcome(name)` on a later pass."""

    name: str


@dataclass(frozen=True)
class Context:
    """The world a reconciler may know of."""

    observed: Observed
    now: datetime
    base_url: str
    data_plane: DataPlane = EVERYWHERE
    outcomes: Mapping[tuple[ObjectRef, str], Outcome] = field(default_factory=dict)

    def outcome(self, obj: Mapping[str, Any], effect: str) -> Outcome | None:
        """How the object's effect `effect` last ended, if it ran in this process."""
        return self.outcomes.get((ObjectRef.of(obj), effect))


@dataclass(frozen=True)
class Result:
    """What a reconciler wants: the applier writes it, never the reconciler.

    `children` is None for kinds that own nothing; a tuple (even empty) is the complete set
    of children the object wants, so the applier deletes any other it owns.
    `spec` holds the fields of the object's own spec that its controller manages (a
    channel's `spec.subscribers`, which Knative's Subscription controller fills); None
    leaves the spec alone.
    `requeue_after` asks for another pass after that many seconds, for a world that
    changes without a watch event (the data plane catching up, an effect's retry time).
    """

    status: Object
    children: tuple[Object, ...] | None = None
    spec: Object | None = None
    effects: tuple[Effect, ...] = ()
    requeue_after: float | None = None


Reconcile = Callable[[Object, Context], Result]


def sooner(*delays: float | None) -> float | None:
    """The earliest of several requeue delays (None: no requeue)."""
    wanted = [d for d in delays if d is not None]
    return min(wanted) if wanted else None
