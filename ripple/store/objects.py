"""What a write does to an object: the pure rules both resource stores share.

Called by `memory.MemoryResourceStore` and `redis.RedisResourceStore`, which differ only
in where the result goes and how the precondition is made atomic. Nothing here awaits,
so the rules are tested as tables, and the fake and the real store cannot disagree about
generation, system metadata or the messages of their errors.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ripple import errors

if TYPE_CHECKING:
    from ripple.api.registry import Kind
    from ripple.store.protocols import ChangeType, Resolver

# Written by the store alone: a client's values for these are ignored on every write.
SYSTEM_METADATA = ("uid", "creationTimestamp", "generation", "resourceVersion", "name", "namespace")
# Top-level fields that are not "spec" for the purpose of bumping generation (Secrets
# have `data` rather than `spec`, and a change there is still a change of the spec).
NOT_SPEC = ("apiVersion", "kind", "metadata", "status")
# Each watch change type by its text, as a store reads it back (from a Redis stream entry).
CHANGE_TYPES: dict[str, ChangeType] = {
    "ADDED": "ADDED", "MODIFIED": "MODIFIED", "DELETED": "DELETED",
}


def resource_name(kind: Kind) -> str:
    """`brokers.eventing.knative.dev`, or `secrets` for the core group, as kubectl says it."""
    return f"{kind.plural}.{kind.group}" if kind.group else kind.plural


def not_found(kind: Kind, name: str) -> errors.NotFound:
    return errors.NotFound(f'{resource_name(kind)} "{name}" not found')


def already_exists(kind: Kind, name: str) -> errors.Conflict:
    return errors.Conflict(f'{resource_name(kind)} "{name}" already exists')


def modified(kind: Kind, name: str, why: str = "the object has been modified") -> errors.Conflict:
    return errors.Conflict(
        f'Operation cannot be fulfilled on {resource_name(kind)} "{name}": {why}; '
        "please apply your changes to the latest version and try again"
    )


def too_old(since: str, oldest: int) -> errors.Conflict:
    return errors.Conflict(f"too old resource version: {since} ({oldest})")


def parse_version(value: str) -> int:
    """A resourceVersion as the counter value it is; anything else is a client error."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise errors.Invalid(
            errors.FieldError(
                "metadata.resourceVersion", f"Invalid value: {value!r}: not a version"
            )
        )
    return number


def locate(obj: dict[str, Any], resolve: Resolver) -> tuple[Kind, str, str]:
    """(kind, namespace, name) of an object to write; Invalid when it cannot be placed."""
    if not isinstance(obj, dict):
        raise errors.Invalid("an object must be a mapping")
    api_version, kind_name = obj.get("apiVersion"), obj.get("kind")
    if not api_version or not kind_name:
        raise errors.Invalid(
            errors.FieldError("apiVersion" if not api_version else "kind", "Required value")
        )
    kind = resolve(str(api_version), str(kind_name))
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not name:
        raise errors.Invalid(errors.FieldError("metadata.name", "Required value"))
    namespace = meta.get("namespace") or ""
    if kind.namespaced and not namespace:
        raise errors.Invalid(errors.FieldError("metadata.namespace", "Required value"))
    return kind, (namespace if kind.namespaced else ""), str(name)


def canonical(obj: Any) -> Any:
    """The object as JSON will store it, so the fake rejects what Redis would reject."""
    try:
        return json.loads(json.dumps(obj))
    except (TypeError, ValueError) as exc:
        raise errors.Invalid(f"the object is not JSON: {exc}") from exc


def field(namespace: str | None, name: str) -> str:
    """The hash field (and in-memory key) of one object: `namespace/name`."""
    return f"{namespace or ''}/{name}"


def kind_id(api_version: str, kind: str) -> str:
    return f"{api_version}/{kind}"


def kind_ids(kinds: Iterable[Kind] | None) -> frozenset[str] | None:
    """The filter a watch applies; None lets every kind through."""
    return None if kinds is None else frozenset(kind_id(k.api_version, k.kind) for k in kinds)


def timestamp(now: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second, as Kubernetes writes metav1.Time."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_preconditions(kind: Kind, old: dict[str, Any], new: dict[str, Any]) -> None:
    """A resourceVersion or uid the writer set must still be the stored one."""
    meta, current = new.get("metadata") or {}, old["metadata"]
    name = current["name"]
    wanted = meta.get("resourceVersion")
    if wanted not in (None, "") and str(wanted) != current["resourceVersion"]:
        raise modified(kind, name)
    check_uid(kind, old, meta.get("uid"))


def check_uid(kind: Kind, old: dict[str, Any], uid: str | None) -> None:
    """A delete's or write's uid precondition: the stored object must be that one, not a
    namesake created since (Kubernetes' `DeleteOptions.preconditions.uid`)."""
    current = old["metadata"]
    if uid not in (None, "") and uid != current.get("uid"):
        raise modified(
            kind,
            current["name"],
            f"Precondition failed: UID in precondition: {uid}, "
            f"UID in object meta: {current.get('uid')}",
        )


def same_but_version(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when a write would change nothing but the resourceVersion: it is skipped, as
    Kubernetes skips it, so a reconciler re-writing the same status wakes no watcher."""

    def strip(obj: dict[str, Any]) -> dict[str, Any]:
        return {
            **obj,
            "metadata": {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"},
        }

    return strip(old) == strip(new)


def spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in NOT_SPEC}


def _assemble(
    head: dict[str, Any], meta: dict[str, Any], spec: dict[str, Any], status: Any
) -> dict[str, Any]:
    # Key order as kubectl prints it: apiVersion, kind, metadata, spec..., status.
    result: dict[str, Any] = {
        "apiVersion": head["apiVersion"],
        "kind": head["kind"],
        "metadata": meta,
    }
    result.update(spec)
    if status is not None:
        result["status"] = status
    return result


def stamp_created(obj: dict[str, Any], namespace: str, rv: int, now: datetime) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    meta = dict(obj.get("metadata") or {})
    if namespace:
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
    meta.update(
        uid=str(uuid.uuid4()),
        creationTimestamp=timestamp(now),
        generation=1,
        resourceVersion=str(rv),
    )
    return _assemble(obj, meta, spec_of(obj), obj.get("status"))


def stamp_updated(old: dict[str, Any], new: dict[str, Any], rv: int) -> dict[str, Any]:
    new = copy.deepcopy(new)
    meta = dict(new.get("metadata") or {})
    for key in SYSTEM_METADATA:
        meta.pop(key, None)
        if key in old["metadata"]:
            meta[key] = old["metadata"][key]
    spec = spec_of(new)
    if spec != spec_of(old):
        meta["generation"] = int(old["metadata"].get("generation", 0)) + 1
    meta["resourceVersion"] = str(rv)
    return _assemble(old, meta, spec, copy.deepcopy(old.get("status")))


def stamp_status(old: dict[str, Any], new: dict[str, Any], rv: int) -> dict[str, Any]:
    result = copy.deepcopy(old)
    result.pop("status", None)
    result["metadata"]["resourceVersion"] = str(rv)
    status = copy.deepcopy(new.get("status"))
    if status is not None:
        result["status"] = status
    return result


def stamp_deleted(old: dict[str, Any], rv: int) -> dict[str, Any]:
    result = copy.deepcopy(old)
    result["metadata"]["resourceVersion"] = str(rv)
    return result
