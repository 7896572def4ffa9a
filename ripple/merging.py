"""What `apply` writes over an object that exists: one pure rule for both apply paths.

Called by the CLI's `ripple apply -f` (`ripple.cli.commands.apply`, over the API) and by
`ripple up -f` (`controllers.platforms.local.manifests`, straight to the store), so a
manifest applied either way leaves the same object and prints the same kubectl word.
Pure and dependency-free: the CLI imports it without importing `ripple.api`.

Apply is create-or-replace: when the object exists, the manifest's fields replace the
current ones, identity and status are kept, and labels and annotations are merged.
"""

from __future__ import annotations

from typing import Any, Literal

# Fields the server owns; they never make an object "configured".
VOLATILE = ("resourceVersion", "generation", "uid", "creationTimestamp", "managedFields")

Outcome = Literal["created", "configured", "unchanged"]


def merge_for_update(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The object to write: the manifest's fields over the current identity and status.

    Labels and annotations are merged, manifest winning, because without kubectl's
    last-applied record we cannot tell a removed key from one the server added. The
    current resourceVersion is kept, so a concurrent write makes this one a Conflict.
    """
    merged = {k: v for k, v in current.items() if k in ("apiVersion", "kind", "status")}
    merged.update({k: v for k, v in desired.items() if k not in ("metadata", "status")})
    meta = dict(current.get("metadata") or {})
    for key in ("labels", "annotations"):
        wanted = (desired.get("metadata") or {}).get(key)
        if wanted:
            meta[key] = {**(meta.get(key) or {}), **wanted}
    merged["metadata"] = meta
    return merged


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """The parts of an object a user declares: no status, no server-owned metadata.

    The apiVersion is left out too: an object applied at another served version
    (KafkaSource's v1beta1) is stored at its kind's stored version, and is the same object.
    """
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in VOLATILE}
    rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "metadata", "status")}
    return {**rest, "metadata": meta}


def unchanged(current: dict[str, Any], other: dict[str, Any]) -> bool:
    """True when `other` declares nothing `current` does not already hold."""
    return comparable(other) == comparable(current)


def outcome(current: dict[str, Any], stored: dict[str, Any]) -> Outcome:
    """kubectl's word after an update: the server may default what the manifest left out,
    and if that is all that differed, nothing really changed."""
    return "unchanged" if unchanged(current, stored) else "configured"
