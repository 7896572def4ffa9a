"""Route defaulting (Knative's `route_defaults.go`): each traffic target's `latestRevision`
defaults to "no revisionName" and a missing `percent` is written as 0. A Service's Route
gets `[{percent: 100, latestRevision: true}]` when its traffic is empty
(`service_defaults` calls `set_traffic_defaults` with `in_service`).
"""

from __future__ import annotations

from typing import Any

from ripple.api import meta


def set_defaults(route: dict[str, Any]) -> None:
    meta.set_defaults(route)
    spec = route.get("spec")
    if isinstance(spec, dict):
        set_traffic_defaults(spec, in_service=False)


def set_traffic_defaults(spec: dict[str, Any], *, in_service: bool) -> None:
    traffic = spec.get("traffic")
    if in_service and not traffic:
        spec["traffic"] = [{"percent": 100, "latestRevision": True}]
        return
    if not isinstance(traffic, list):
        return
    for target in traffic:
        if not isinstance(target, dict):
            continue
        if target.get("latestRevision") is None:
            target["latestRevision"] = not target.get("revisionName")
        if target.get("percent") is None:
            target["percent"] = 0
