"""The one applier: carries a reconciler's `Result` out, the same way on every platform.

For one reconciled object it
1. applies the children it wants: each gets the object's controller ownerReference, goes
   through admission (defaults and validation, as any write), and is created, or updated
   when its spec, labels or annotations differ from the observed one; every other child the
   object controls is deleted (garbage collection by owner reference);
2. writes the spec fields its controller manages (`Result.spec`), when they changed;
3. writes its status once, only when it changed, with the resourceVersion it was computed
   from, so a stale result is refused (a Conflict) rather than written over newer state;
4. hands the effects to the platform's `Effects` runner.

A Conflict or NotFound means the observed object is behind the store: the watch event of
the newer version reconciles it again, so they end the apply quietly. Store errors
propagate (the driver requeues with backoff); an invalid child is reported, not retried.

Called by the drivers (`platforms.local.controller`, and the kopf driver). Writes go
through `Writer`, the four verbs of the resource store (the Kubernetes API on kopf).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from controllers.reconciling import Effect, Object, ObjectRef, Result
from ripple import errors
from ripple.api import loading, meta, registry
from ripple.store import objects

log = logging.getLogger(__name__)


class Writer(Protocol):
    async def create(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def update(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def update_status(
        self, obj: dict[str, Any], *, current: dict[str, Any] | None = None
    ) -> dict[str, Any]: ...

    async def delete(self, kind: registry.Kind, namespace: str | None, name: str, *,
                     uid: str | None = None) -> dict[str, Any]: ...


class Effects(Protocol):
    def submit(self, owner: ObjectRef, effect: Effect) -> None: ...


MANAGED_SPEC: dict[str, tuple[str, ...]] = {
    "InMemoryChannel": ("subscribers",),
    "Channel": ("subscribers",),
}
"""Spec fields that the child's own controller manages (Knative's Subscription controller
fills a channel's `spec.subscribers`). An owner that does not declare them leaves them as
they are, or the owner and the child's controller would undo each other forever."""

IMMUTABLE = frozenset({"Revision"})
"""Kinds whose children are never updated once created (a Revision is an immutable
snapshot of its Configuration's template): a changed child is a new one, by name."""

Lookup = Callable[[ObjectRef], "Object | None"]
Owned = Callable[[str], Iterable[Object]]
"""The observed objects whose controller ownerReference has this uid."""


@dataclass
class Applied:
    """What one apply did: counts for the driver's logs and the benchmarks."""

    writes: int = 0
    stale: bool = False
    problems: list[str] = field(default_factory=list)


def owner_reference(owner: Object) -> dict[str, Any]:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta.key(owner)[1],
            "uid": meta.metadata(owner).get("uid", ""), "controller": True,
            "blockOwnerDeletion": True}


def controller_of(obj: Object) -> dict[str, Any] | None:
    """The ownerReference marked `controller`, if any."""
    for ref in meta.metadata(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref
    return None


def _declared(obj: Object) -> Object:
    """What a child's owner declares: spec, labels, annotations, ownerReferences."""
    metadata = meta.metadata(obj)
    return {"spec": objects.spec_of(obj),
            "labels": metadata.get("labels") or {},
            "annotations": metadata.get("annotations") or {},
            "ownerReferences": metadata.get("ownerReferences") or []}


class Applier:
    def __init__(self, writer: Writer, lookup: Lookup, owned: Owned, effects: Effects) -> None:
        self.writer, self.lookup, self.owned, self.effects = writer, lookup, owned, effects

    async def apply(self, obj: Object, result: Result) -> Applied:
        applied = Applied()
        try:
            if result.children is not None:
                await self._children(obj, result.children, applied)
            if result.spec is not None:
                obj = await self._spec(obj, result.spec, applied)
            if result.status != obj.get("status"):
                await self.writer.update_status({**obj, "status": result.status}, current=obj)
                applied.writes += 1
        except (errors.Conflict, errors.NotFound):
            applied.stale = True  # the watch brings the newer object, which is reconciled
            return applied
        owner = ObjectRef.of(obj)
        for effect in result.effects:
            self.effects.submit(owner, effect)
        return applied

    async def _spec(self, obj: Object, wanted: Object, applied: Applied) -> Object:
        desired = copy.deepcopy(obj)
        desired["spec"] = {**(obj.get("spec") or {}), **wanted}
        try:
            admitted = loading.admit(desired, obj)
        except errors.Invalid as exc:
            applied.problems.append(f"spec of {ObjectRef.of(obj)}: {exc}")
            return obj
        if admitted.get("spec") == obj.get("spec"):
            return obj
        stored = await self.writer.update(admitted)
        applied.writes += 1
        return stored

    async def _children(self, owner: Object, children: Iterable[Object], applied: Applied) -> None:
        reference = owner_reference(owner)
        wanted: dict[ObjectRef, Object] = {}
        refused: set[ObjectRef] = set()
        for child in children:
            child = copy.deepcopy(child)
            metadata = child.setdefault("metadata", {})
            metadata.setdefault("namespace", meta.key(owner)[0])
            others = [r for r in metadata.get("ownerReferences") or []
                      if isinstance(r, dict) and not r.get("controller")]
            metadata["ownerReferences"] = [reference, *others]
            try:
                admitted = loading.admit(child)
            except errors.Invalid as exc:
                # Still wanted, only not as declared: the one that exists stays (deleting it
                # would discard its queue and the events in it).
                refused.add(ObjectRef.of(child))
                applied.problems.append(f"child {ObjectRef.of(child)}: {exc}")
                continue
            wanted[ObjectRef.of(admitted)] = admitted
        for ref, child in wanted.items():
            await self._child(reference, ref, child, applied)
        uid = reference["uid"]
        for current in list(self.owned(uid)) if uid else []:
            ref = ObjectRef.of(current)
            if ref not in wanted and ref not in refused:
                await self._delete(current, applied)

    async def _child(self, reference: dict[str, Any], ref: ObjectRef, child: Object,
                     applied: Applied) -> None:
        current = self.lookup(ref)
        if current is None:
            try:
                await self.writer.create(child)
                applied.writes += 1
            except errors.Conflict:  # created meanwhile: the watch will show it
                pass
            return
        controller = controller_of(current)
        if controller is None or controller.get("uid") != reference["uid"]:
            applied.problems.append(
                f"{ref} exists and is not controlled by {reference['kind']} {reference['name']}")
            return
        if ref.kind in IMMUTABLE:
            return
        spec, current_spec = child.get("spec"), current.get("spec") or {}
        if isinstance(spec, dict):
            for name in MANAGED_SPEC.get(ref.kind, ()):
                if name not in spec and name in current_spec:
                    spec[name] = copy.deepcopy(current_spec[name])
        if _declared(child) == _declared(current):
            return
        desired = {**copy.deepcopy(current), **objects.spec_of(child)}
        for key in objects.spec_of(current):
            if key not in objects.spec_of(child):
                desired.pop(key, None)
        desired["metadata"] = {**current["metadata"],
                               **{k: v for k, v in child["metadata"].items()
                                  if k in ("labels", "annotations", "ownerReferences")}}
        try:
            admitted = loading.admit(desired, current)
        except errors.Invalid as exc:
            applied.problems.append(f"child {ref}: {exc}")
            return
        await self.writer.update(admitted)
        applied.writes += 1

    async def _delete(self, obj: Object, applied: Applied) -> None:
        """Delete that very child: a namesake created since it was seen (by a user, or by
        its owner's next apply) is not this owner's to delete."""
        kind = registry.lookup(obj["apiVersion"], obj["kind"])
        try:
            await self.writer.delete(kind, *meta.key(obj), uid=meta.metadata(obj).get("uid"))
            applied.writes += 1
        except (errors.NotFound, errors.Conflict):
            pass

    async def collect(self, owner_uid: str) -> int:
        """Delete what a deleted owner controlled: the local platform's garbage collector
        (on Kubernetes the API server's does it)."""
        applied = Applied()
        for child in list(self.owned(owner_uid)):
            await self._delete(child, applied)
        return applied.writes
