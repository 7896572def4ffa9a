"""Waiting for the data plane: a condition that says "served" only once every data-plane
process has applied the object (its ingress routes it, its dispatcher runs). Pure.

Shared by the Broker, Trigger and channel reconcilers. Once True for the object's current
generation the condition stays True: a status write bumps the resourceVersion but not the
generation, and must not take it back (or every write would undo the one before). A spec
change (a new filter, a new subscriber) is a new generation, which the data plane has to
apply again before the condition is True.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from controllers.reconciling import WAIT_FOR_DATA_PLANE, Context, Object
from ripple.api import conditions, meta

REASON = "WaitingForDataPlane"
PATIENT = 1.0
"""Seconds between looks once an object has waited `IMPATIENT_FOR`: a data plane that is
not there (no process reports) must not cost a reconcile every 50 ms per object."""
IMPATIENT_FOR = dt.timedelta(seconds=5)


def served(obj: Object, current: dict[str, Any] | None, ctx: Context) -> bool:
    """True once the data plane has seen `obj`, or once `current` (the condition as the
    stored status holds it) already said so for this generation."""
    stored = obj.get("status") or {}
    same_generation = stored.get("observedGeneration") == meta.metadata(obj).get("generation")
    if same_generation and current is not None and current.get("status") == conditions.TRUE:
        return True
    return ctx.data_plane.has_seen(obj)


def again(obj: Object, ctx: Context) -> float:
    """When to look again: soon after its creation, then once a second."""
    created = meta.metadata(obj).get("creationTimestamp")
    try:
        age = ctx.now - dt.datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        return WAIT_FOR_DATA_PLANE
    return WAIT_FOR_DATA_PLANE if age < IMPATIENT_FOR else PATIENT


def message(what: str) -> str:
    return f"the data plane's {what} has not applied this object yet"
