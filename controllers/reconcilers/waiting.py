"""Waiting for the data plane: a condition that says "served" only once every data-plane
process has applied the object (its ingress routes it, its dispatcher runs). Pure.

Shared by the Broker, Trigger and channel reconcilers. Once True the condition stays True:
what the data plane serves for an object depends on its existence, not on a later spec,
so a status write (which bumps the resourceVersion) never takes it back.
"""

from __future__ import annotations

from typing import Any

from controllers.reconciling import WAIT_FOR_DATA_PLANE, Context, Object
from ripple.api import conditions

REASON = "WaitingForDataPlane"
AGAIN = WAIT_FOR_DATA_PLANE


def served(obj: Object, current: dict[str, Any] | None, ctx: Context) -> bool:
    """True once the data plane has seen `obj`, or once `current` (the condition as the
    status holds it) already said so."""
    if current is not None and current.get("status") == conditions.TRUE:
        return True
    return ctx.data_plane.has_seen(obj)


def message(what: str) -> str:
    return f"the data plane's {what} has not applied this object yet"
