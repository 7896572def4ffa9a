"""The `serving.knative.dev` API group: Service, Configuration, Revision and Route.

Imported by `ripple.api`; importing the kind modules registers the kinds. Each kind is a
family of modules named as in Knative's `pkg/apis/serving/v1`: `<kind>` (registration),
`<kind>_types`, `<kind>_defaults`, `<kind>_validation` and `<kind>_lifecycle`; shared by
them: `k8s_validation` (containers), `annotation_validation` (`autoscaling.knative.dev/*`),
`go_durations`, and `urls` (the one URL scheme of Routes and Services). The
`config-autoscaler` ConfigMap is read by `autoscaler_config`.
"""

from __future__ import annotations

from ripple.api.serving import (
    autoscaler_config,
    configuration,
    configuration_lifecycle,
    configuration_types,
    revision,
    revision_lifecycle,
    revision_types,
    route,
    route_lifecycle,
    route_types,
    service,
    service_lifecycle,
    service_types,
    urls,
)

__all__ = [
    "autoscaler_config",
    "configuration",
    "configuration_lifecycle",
    "configuration_types",
    "revision",
    "revision_lifecycle",
    "revision_types",
    "route",
    "route_lifecycle",
    "route_types",
    "service",
    "service_lifecycle",
    "service_types",
    "urls",
]
