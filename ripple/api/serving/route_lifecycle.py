"""The Route condition set and the `mark_*` functions its reconciler calls.

Upstream: `route_lifecycle.go`. Ready summarises:
- `AllTrafficAssigned`: every traffic target resolved to a Ready Revision;
- `IngressReady`: the router of every data-plane process serves the Route (Ripple's
  router in place of Knative's KIngress: Unknown, reason `WaitingForDataPlane`, until it
  does);
- `CertificateProvisioned`: True with Knative's reason `TLSNotEnabled`, as upstream
  when external-domain TLS is off: Ripple serves plain HTTP and provisions no
  certificates.
Knative's `MarkIngressRolloutInProgress` (gradual rollout) has no Ripple equivalent yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ripple.api import conditions, duck

ALL_TRAFFIC_ASSIGNED = "AllTrafficAssigned"
INGRESS_READY = "IngressReady"
CERTIFICATE_PROVISIONED = "CertificateProvisioned"

CONDITIONS = conditions.ConditionSet(
    conditions.READY, (ALL_TRAFFIC_ASSIGNED, INGRESS_READY, CERTIFICATE_PROVISIONED))

Status = dict[str, Any]


def initialize(status: Status, *, now: datetime) -> None:
    CONDITIONS.initialize(status, now=now)


def mark_traffic_assigned(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, ALL_TRAFFIC_ASSIGNED, now=now)


def mark_unknown_traffic_error(status: Status, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, ALL_TRAFFIC_ASSIGNED, "Unknown", message, now=now)


def mark_configuration_not_ready(status: Status, name: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, ALL_TRAFFIC_ASSIGNED, "RevisionMissing",
                            f'Configuration "{name}" is waiting for a Revision to become ready.',
                            now=now)


def mark_configuration_failed(status: Status, name: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, ALL_TRAFFIC_ASSIGNED, "RevisionMissing",
                          f'Configuration "{name}" does not have any ready Revision.', now=now)


def mark_revision_not_ready(status: Status, name: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, ALL_TRAFFIC_ASSIGNED, "RevisionMissing",
                            f'Revision "{name}" is not yet ready.', now=now)


def mark_revision_failed(status: Status, name: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, ALL_TRAFFIC_ASSIGNED, "RevisionMissing",
                          f'Revision "{name}" failed to become ready.', now=now)


def mark_missing_traffic_target(status: Status, kind: str, name: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, ALL_TRAFFIC_ASSIGNED, f"{kind}Missing",
                          f'{kind} "{name}" referenced in traffic not found.', now=now)


def mark_revision_not_owned(status: Status, name: str, service: str, *, now: datetime) -> None:
    CONDITIONS.mark_false(status, ALL_TRAFFIC_ASSIGNED, "NotOwned",
                          f'Revision "{name}" is not owned by Service "{service}".', now=now)


def mark_ingress_ready(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, INGRESS_READY, now=now)


def mark_ingress_unknown(status: Status, reason: str, message: str, *, now: datetime) -> None:
    CONDITIONS.mark_unknown(status, INGRESS_READY, reason, message, now=now)


def mark_tls_not_enabled(status: Status, *, now: datetime) -> None:
    CONDITIONS.mark_true(status, CERTIFICATE_PROVISIONED, now=now, reason="TLSNotEnabled",
                         message="external-domain-tls is not enabled")


def set_url(status: Status, url: str) -> None:
    status["url"] = url


def set_address(status: Status, address: str) -> None:
    """Set once every traffic target is routable, as Knative's route reconciler does: what
    resolves the Route (or its Service) as a sink waits until then, and a Route that had
    an address keeps it while a new target comes up."""
    status["address"] = duck.address(address)


def is_ready(route: dict[str, Any]) -> bool:
    status = route.get("status")
    return isinstance(status, dict) and CONDITIONS.is_ready(status)
