"""The KafkaSource condition set and the `mark_*` functions its reconciler calls.

Reconcilers call these and never edit `status.conditions` by hand. Upstream:
`knative-extensions/eventing-kafka-broker:control-plane/pkg/apis/sources/v1beta1/
kafka_lifecycle.go` (`KafkaSourceCondSet`); the names are Knative's.

Ready is True when all four are, and Ripple reports them so:
- `SinkProvided`: `spec.sink` resolved into `status.sinkUri` (the reconciler);
- `Deployed`: the consumers can run. Knative's is its adapter Deployment being
  available; every Ripple sources plane runs a member of every KafkaSource's consumer
  group, so the reconciler reports what those members need and can lack, such as a
  dead-letter sink that does not resolve (`mark_not_deployed`);
- `ConnectionEstablished`: a consumer reached a bootstrap server and joined the consumer
  group. Only the sources plane sees this; the reconciler reports what it is told;
- `InitialOffsetsCommitted`: the group holds a committed offset on every partition of
  every topic, so `initialOffset` applied once and a restart resumes where delivery
  stopped. Also seen only by the sources plane.

Left out: `OIDCIdentityCreated` (Ripple has no OIDC), `KeyTypeCorrect` (Knative declares
it outside the Ready set; Ripple refuses a bad key-type label at admission, so it could
only ever be True) and the multi-tenant set's `Scheduled` (Ripple does not place
consumers on pods). Knative's own controller registers yet another set, `ConsumerGroup`
and `SinkProvided`, for its internal ConsumerGroup object, which Ripple does not have.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions, meta
from ripple.api.sources import source_spec

SINK_PROVIDED = source_spec.SINK_PROVIDED
DEPLOYED = "Deployed"
CONNECTION_ESTABLISHED = "ConnectionEstablished"
INITIAL_OFFSETS_COMMITTED = "InitialOffsetsCommitted"

CONDITIONS = conditions.ConditionSet(conditions.READY, (
    SINK_PROVIDED, DEPLOYED, CONNECTION_ESTABLISHED, INITIAL_OFFSETS_COMMITTED,
))

Status = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


_SINK = source_spec.SinkMarks(CONDITIONS)
mark_sink = _SINK.sink
mark_no_sink = _SINK.no_sink


def mark_deployed(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, DEPLOYED, now=now)


def mark_deploying(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, DEPLOYED, reason, message, now=now)


def mark_not_deployed(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, DEPLOYED, reason, message, now=now)


def mark_connection_established(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, CONNECTION_ESTABLISHED, now=now)


def mark_connection_established_failed(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    """Knative's MarkConnectionNotEstablished."""
    CONDITIONS.mark_false(status, CONNECTION_ESTABLISHED, reason, message, now=now)


def mark_connection_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    """No consumer has said yet whether it reached the cluster."""
    CONDITIONS.mark_unknown(status, CONNECTION_ESTABLISHED, reason, message, now=now)


def mark_initial_offsets_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, INITIAL_OFFSETS_COMMITTED, reason, message, now=now)


def mark_initial_offsets_committed(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, INITIAL_OFFSETS_COMMITTED, now=now)


def mark_initial_offsets_committed_failed(
    status: Status, reason: str, message: str, *, now: datetime
) -> None:
    """Knative's MarkInitialOffsetNotCommitted."""
    CONDITIONS.mark_false(status, INITIAL_OFFSETS_COMMITTED, reason, message, now=now)


def is_ready(source: dict[str, Any]) -> bool:
    """Ready, and for the latest spec: Knative's `KafkaSourceStatus.IsReady`."""
    status = source.get("status")
    if not isinstance(status, dict):
        return False
    generation = meta.metadata(source).get("generation")
    return status.get("observedGeneration") == generation and CONDITIONS.is_ready(status)
