"""The PingSource condition set and the `mark_*` functions its reconciler calls.

Reconcilers call these and never edit `status.conditions` by hand. Upstream:
`knative/eventing:pkg/apis/sources/v1/ping_lifecycle.go` (`PingSourceCondSet`); the names
are Knative's.

Ready is True when both are, and Ripple reports them so:
- `SinkProvided`: `spec.sink` resolved into `status.sinkUri` (`source_spec.SinkMarks`);
- `Deployed`: something fires the schedule. Knative's is the multi-tenant adapter
  Deployment being available; every Ripple process runs the ping scheduler, so the
  reconciler marks it True, and False when it cannot serve the source.

Left out: `OIDCIdentityCreated` (Ripple has no OIDC support yet).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions, meta
from ripple.api.sources import source_spec

SINK_PROVIDED = source_spec.SINK_PROVIDED
DEPLOYED = "Deployed"

CONDITIONS = conditions.ConditionSet(conditions.READY, (SINK_PROVIDED, DEPLOYED))

Status = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


_SINK = source_spec.SinkMarks(CONDITIONS)
mark_sink = _SINK.sink
mark_no_sink = _SINK.no_sink


def mark_deployed(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, DEPLOYED, now=now)


def mark_not_deployed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, DEPLOYED, reason, message, now=now)


def is_ready(source: dict[str, Any]) -> bool:
    """Ready, and for the latest spec (Knative's generated `IsReady`)."""
    status = source.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(source).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
