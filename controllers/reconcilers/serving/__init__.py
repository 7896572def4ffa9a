"""The serving reconcilers, one module per kind as Knative's `pkg/reconciler/<kind>`:
`service` (owns a Configuration and a Route), `configuration` (owns its Revisions),
`route` (resolves traffic to Ready Revisions) and `revision` (reports what the platform's
workload runner reports). `resources` builds the children as Knative's `resources/`
packages do. All pure; registered in `controllers.reconcilers.RECONCILERS`.
"""

from __future__ import annotations

from controllers.reconcilers.serving import configuration, resources, revision, route, service

__all__ = ["configuration", "resources", "revision", "route", "service"]
