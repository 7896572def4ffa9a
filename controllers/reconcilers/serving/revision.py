"""ReconcileKind for Revision: what the platform's workload runner reports. Pure.

A Revision's replicas are run by the platform (on one machine: supervised child
processes; on Kubernetes: pods), which reports per revision in
`ctx.data_plane.reports[("Revision", namespace, name)]`, one dict per reporting process:

    {"ready": bool,            # the replicas pass their readiness probe, or the revision
                               # was ready and is scaled to zero (the activator wakes it)
     "actualReplicas": int,    # replicas running and ready
     "desiredReplicas": int,   # what the autoscaler asks for
     "error": str | None,      # why a replica cannot start or keeps failing
     "reason": str | None}     # a CamelCase reason for that error (default ContainerFailed)

Several processes' reports are combined: an error wins, replicas are added up, the
desired count is the largest. From them:
- `ContainerHealthy` and `ResourcesAvailable` True once ready; False with the reported
  reason on an error; Unknown (`Deploying`) until the first ready report;
- `Active` True with replicas, False `NoTraffic` at zero (Ready stays True);
- `actualReplicas` and `desiredReplicas`.

On one machine a container runs as a process, so a serving container with an `image`
and no `command` cannot run: without a report, such a Revision is `ContainerHealthy`
False with reason `CommandRequired` and a message that says what to do (issue #10). A
platform that can run images (Kubernetes) reports for it, and its report wins.
"""

from __future__ import annotations

import copy
from typing import Any

from controllers.reconciling import Context, Object, Result
from ripple.api import conditions, meta
from ripple.api.serving import revision_lifecycle as lifecycle
from ripple.api.serving import revision_types

POLL = 1.0
"""Seconds between passes while the runner may change what it reports (replicas move)."""
FAILED = "ContainerFailed"


def reconcile(revision: Object, ctx: Context) -> Result:
    status = copy.deepcopy(revision.get("status") or {})
    now = ctx.now
    lifecycle.initialize(status, now=now)
    namespace, name = meta.key(revision)
    status["observedGeneration"] = meta.metadata(revision).get("generation")
    reports = [r for r in ctx.data_plane.reports.get((revision_types.KIND, namespace, name), [])
               if isinstance(r, dict)]
    if not reports:
        container = revision_types.serving_container(revision.get("spec") or {}) or {}
        if container.get("image") and not container.get("command"):
            message = (f'container "{container.get("name", revision_types.DEFAULT_CONTAINER_NAME)}" '
                       f'has the image "{container["image"]}" and no command: on one machine '
                       "Ripple runs a container as a process, so add a command (and args) to "
                       "spec.template.spec.containers[0], or run this Service on Kubernetes, "
                       "where the image runs")
            lifecycle.mark_container_healthy_false(status, lifecycle.REASON_COMMAND_REQUIRED,
                                                   message, now=now)
            lifecycle.mark_resources_available_false(status, lifecycle.REASON_COMMAND_REQUIRED,
                                                     message, now=now)
            lifecycle.mark_active_false(status, lifecycle.REASON_NO_TRAFFIC,
                                        "The target is not receiving traffic.", now=now)
            lifecycle.set_replicas(status, 0, 0)
            return Result(status)
        _deploying(status, ctx)
        return Result(status, requeue_after=POLL)
    report = combine(reports)
    lifecycle.set_replicas(status, report["actualReplicas"], report["desiredReplicas"])
    if report["error"]:
        reason = report["reason"] or FAILED
        lifecycle.mark_container_healthy_false(status, reason, report["error"], now=now)
        lifecycle.mark_resources_available_false(status, reason, report["error"], now=now)
    elif report["ready"]:
        lifecycle.mark_container_healthy_true(status, now=now)
        lifecycle.mark_resources_available_true(status, now=now)
    else:
        _deploying(status, ctx)
    if report["actualReplicas"] > 0:
        lifecycle.mark_active_true(status, now=now)
    elif report["desiredReplicas"] > 0:
        lifecycle.mark_active_unknown(status, lifecycle.REASON_ACTIVATING,
                                      "The revision is scaling up from zero.", now=now)
    else:
        lifecycle.mark_active_false(status, lifecycle.REASON_NO_TRAFFIC,
                                    "The target is not receiving traffic.", now=now)
    return Result(status, requeue_after=POLL)


def _deploying(status: Object, ctx: Context) -> None:
    """Unknown `Deploying`, unless the conditions already settled: a restarted runner that
    has not reported yet neither takes a Ready Revision's traffic away nor hides a failure."""
    healthy = lifecycle.CONDITIONS.get(status, lifecycle.CONTAINER_HEALTHY) or {}
    if healthy.get("status") in (conditions.TRUE, conditions.FALSE):
        return
    lifecycle.mark_resources_available_unknown(status, lifecycle.REASON_DEPLOYING, "", now=ctx.now)
    lifecycle.mark_container_healthy_unknown(status, lifecycle.REASON_DEPLOYING, "", now=ctx.now)


def combine(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One view of several processes' reports: an error wins, replicas add up."""
    error = next((r for r in reports if r.get("error")), None)
    return {
        "ready": any(bool(r.get("ready")) for r in reports),
        "actualReplicas": sum(_count(r.get("actualReplicas")) for r in reports),
        "desiredReplicas": max(_count(r.get("desiredReplicas")) for r in reports),
        "error": str(error["error"]) if error else None,
        "reason": str(error.get("reason") or "") if error else None,
    }


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
