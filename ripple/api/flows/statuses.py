"""The child entries Sequence and Parallel report: `{channel, ready}` and `{subscription, ready}`.

Called by `sequence_lifecycle` and `parallel_lifecycle`, which their reconcilers drive with
the channels and Subscriptions they observed (plain objects with apiVersion, kind,
metadata and status). Upstream: `SequenceChannelStatus`, `SequenceSubscriptionStatus`,
`ParallelChannelStatus` and `ParallelSubscriptionStatus` in `knative/eventing:pkg/apis/
flows/v1/{sequence,parallel}_types.go`: an ObjectReference and a copy of the child's
Ready condition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions, meta

Obj = dict[str, Any]

REFERENCE_FIELDS = ("apiVersion", "kind", "name", "namespace")


def object_reference(obj: Obj) -> dict[str, str]:
    """The child as a core/v1 ObjectReference {apiVersion, kind, name, namespace}."""
    namespace, name = meta.key(obj)
    return {
        "apiVersion": str(obj.get("apiVersion") or ""),
        "kind": str(obj.get("kind") or ""),
        "name": name,
        "namespace": namespace,
    }


def ready_condition(obj: Obj, *, now: datetime) -> dict[str, Any]:
    """A copy of the child's Ready condition, or Knative's `NoReady` stand-in if it has none."""
    status = obj.get("status")
    for condition in conditions.conditions_of(status if isinstance(status, dict) else {}):
        if condition["type"] == conditions.READY:
            return dict(condition)
    return {
        "type": conditions.READY,
        "status": conditions.UNKNOWN,
        "lastTransitionTime": conditions.format_time(now),
        "reason": "NoReady",
        "message": f"{obj.get('kind') or 'the object'} does not have Ready condition",
    }


def channel_status(channel: Obj, *, now: datetime) -> dict[str, Any]:
    return {"channel": object_reference(channel), "ready": ready_condition(channel, now=now)}


def subscription_status(subscription: Obj, *, now: datetime) -> dict[str, Any]:
    return {
        "subscription": object_reference(subscription),
        "ready": ready_condition(subscription, now=now),
    }


def is_ready(entry: dict[str, Any]) -> bool:
    """True when an entry's `ready` condition is True."""
    ready = entry.get("ready")
    return isinstance(ready, dict) and ready.get("status") == conditions.TRUE


def address_url(obj: Obj) -> str | None:
    """A child channel's `status.address.url`, if it has one."""
    status = obj.get("status")
    address = status.get("address") if isinstance(status, dict) else None
    url = address.get("url") if isinstance(address, dict) else None
    return url if isinstance(url, str) and url else None
