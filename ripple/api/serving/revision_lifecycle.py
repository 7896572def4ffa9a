"""The Revision condition set and the `mark_*` functions its reconciler calls.

Upstream: `revision_lifecycle.go`. Ready summarises `ResourcesAvailable` (the replicas
the platform runs for the Revision are up) and `ContainerHealthy` (the container starts
and passes its readiness probe); `Active` is informational, as upstream: False with
reason `NoTraffic` while the Revision is scaled to zero, which leaves it Ready, since the
activator brings it back on the next request.

Knative's `containerStatuses` (image digests), `logUrl` and the PodAutoscaler and
Deployment propagation are left out: Ripple resolves no image digests and has no
Deployment; the platform's workload runner reports the replicas directly (see
`controllers.reconcilers.serving.revision`). `actualReplicas` and `desiredReplicas` are
set by `set_replicas`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions

RESOURCES_AVAILABLE = "ResourcesAvailable"
CONTAINER_HEALTHY = "ContainerHealthy"
ACTIVE = "Active"

CONDITIONS = conditions.ConditionSet(conditions.READY, (RESOURCES_AVAILABLE, CONTAINER_HEALTHY))

# Reasons (revision_lifecycle.go)
REASON_DEPLOYING = "Deploying"
REASON_NOT_OWNED = "NotOwned"
REASON_PROGRESS_DEADLINE = "ProgressDeadlineExceeded"
REASON_NO_TRAFFIC = "NoTraffic"
REASON_ACTIVATING = "Activating"
# Ripple's: an image with no command cannot run as a process on one machine.
REASON_COMMAND_REQUIRED = "CommandRequired"

Status = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


def mark_resources_available_true(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, RESOURCES_AVAILABLE, now=now)


def mark_resources_available_false(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, RESOURCES_AVAILABLE, reason, message, now=now)


def mark_resources_available_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, RESOURCES_AVAILABLE, reason, message, now=now)


def mark_container_healthy_true(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, CONTAINER_HEALTHY, now=now)


def mark_container_healthy_false(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, CONTAINER_HEALTHY, reason, message, now=now)


def mark_container_healthy_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, CONTAINER_HEALTHY, reason, message, now=now)


def mark_active_true(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, ACTIVE, now=now)


def mark_active_false(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, ACTIVE, reason, message, now=now)


def mark_active_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, ACTIVE, reason, message, now=now)


def set_replicas(status: Status, actual: int | None, desired: int | None) -> None:
    for name, value in (("actualReplicas", actual), ("desiredReplicas", desired)):
        if value is None:
            status.pop(name, None)
        else:
            status[name] = value


def is_ready(revision: dict[str, Any]) -> bool:
    status = revision.get("status")
    return isinstance(status, dict) and CONDITIONS.is_ready(status)


def is_failed(revision: dict[str, Any]) -> bool:
    status = revision.get("status")
    ready = CONDITIONS.get(status, conditions.READY) if isinstance(status, dict) else None
    return ready is not None and ready.get("status") == conditions.FALSE


def ready_condition(revision: dict[str, Any]) -> dict[str, Any] | None:
    status = revision.get("status")
    return CONDITIONS.get(status, conditions.READY) if isinstance(status, dict) else None
