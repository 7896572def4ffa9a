"""The Configuration condition set and the `mark_*` functions its reconciler calls.

Upstream: `configuration_lifecycle.go`: Ready is the only condition. It is True when the
latest created Revision is the latest ready one, Unknown while the latest created one is
coming up, and False (`RevisionFailed`) when it failed, in which case
`latestReadyRevisionName` keeps naming the older good Revision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions

CONDITIONS = conditions.ConditionSet(conditions.READY, ())

Status = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


def set_latest_created_revision_name(status: Status, name: str, *, now: datetime) -> None:
    status["latestCreatedRevisionName"] = name
    if status.get("latestReadyRevisionName") != name:
        CONDITIONS.mark_unknown(status, conditions.READY, "", "", now=now)


def set_latest_ready_revision_name(status: Status, name: str, *, now: datetime) -> None:
    status["latestReadyRevisionName"] = name
    if status.get("latestCreatedRevisionName") == name:
        CONDITIONS.mark_true(status, conditions.READY, now=now)


def mark_latest_created_failed(status: Status, name: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, conditions.READY, "RevisionFailed",
                          f'Revision "{name}" failed with message: {message}.', now=now)


def mark_revision_creation_failed(status: Status, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, conditions.READY, "RevisionFailed",
                          f"Revision creation failed with message: {message}.", now=now)


def mark_latest_ready_deleted(status: Status, name: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, conditions.READY, "RevisionDeleted",
                          f'Revision "{name}" was deleted.', now=now)


def is_ready(configuration: dict[str, Any]) -> bool:
    status = configuration.get("status")
    return isinstance(status, dict) and CONDITIONS.is_ready(status)
