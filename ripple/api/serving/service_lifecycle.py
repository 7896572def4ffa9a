"""The Service condition set and the `mark_*` functions its reconciler calls.

Upstream: `service_lifecycle.go`. Ready summarises `ConfigurationsReady` (the Service's
Configuration is Ready, for its latest spec) and `RoutesReady` (its Route is Ready, for
its latest spec, and its traffic has moved to what the Service asks). The status inlines
the Configuration's `latestCreatedRevisionName` and `latestReadyRevisionName` and the
Route's `url`, `address` and `traffic` (`propagate_*`). Every condition of upstream's
set has a Ripple equivalent.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from ripple.api import conditions

CONFIGURATIONS_READY = "ConfigurationsReady"
ROUTES_READY = "RoutesReady"

CONDITIONS = conditions.ConditionSet(conditions.READY, (CONFIGURATIONS_READY, ROUTES_READY))

Status = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


def _propagate(status: Status, type_: str, child_status: Status, *, now: datetime) -> None:
    ready = conditions.ConditionSet().get(child_status, conditions.READY)
    if ready is None:
        return
    state = ready.get("status")
    reason, message = ready.get("reason", ""), ready.get("message", "")
    if state == conditions.TRUE:
        CONDITIONS.mark_true(status, type_, now=now)
    elif state == conditions.FALSE:
        CONDITIONS.mark_false(status, type_, reason, message, now=now)
    else:
        CONDITIONS.mark_unknown(status, type_, reason, message, now=now)


def propagate_configuration_status(status: Status, child: Status, *, now: datetime) -> None:
    for name in ("latestCreatedRevisionName", "latestReadyRevisionName"):
        if child.get(name):
            status[name] = child[name]
        else:
            status.pop(name, None)
    _propagate(status, CONFIGURATIONS_READY, child, now=now)


def propagate_route_status(status: Status, child: Status, *, now: datetime) -> None:
    for name in ("url", "address", "traffic"):
        if child.get(name):
            status[name] = copy.deepcopy(child[name])
        else:
            status.pop(name, None)
    _propagate(status, ROUTES_READY, child, now=now)


def mark_configuration_not_owned(status: Status, name: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, CONFIGURATIONS_READY, "NotOwned",
                          f'There is an existing Configuration "{name}" that we do not own.', now=now)


def mark_route_not_owned(status: Status, name: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, ROUTES_READY, "NotOwned",
                          f'There is an existing Route "{name}" that we do not own.', now=now)


def mark_configuration_not_reconciled(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, CONFIGURATIONS_READY, "OutOfDate",
                            "The Configuration is still working to reflect the latest desired "
                            "specification.", now=now)


def mark_route_not_reconciled(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, ROUTES_READY, "OutOfDate",
                            "The Route is still working to reflect the latest desired "
                            "specification.", now=now)


def mark_route_not_yet_ready(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, ROUTES_READY, "TrafficNotMigrated",
                            "Traffic is not yet migrated to the latest revision.", now=now)


def mark_revision_name_taken(status: Status, name: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, conditions.READY, "RevisionNameTaken",
                          f'The revision name "{name}" is taken', now=now)


def is_ready(service: dict[str, Any]) -> bool:
    status = service.get("status")
    return isinstance(status, dict) and CONDITIONS.is_ready(status)
