"""Revision (`serving.knative.dev/v1`): names, labels, the spec's fields and its defaults.

Upstream: `pkg/apis/serving/v1/revision_types.go`, `pkg/apis/serving/register.go` (the
labels), `pkg/apis/config/defaults.go` (config-defaults), `pkg/apis/serving/fieldmask.go`
(which PodSpec and Container fields Knative lets through), and `kmeta.ChildName`.

Imported by the other serving API modules, the serving reconcilers, the CLI and the data
plane (which reads a Revision's containers and limits).
"""

from __future__ import annotations

import hashlib
from typing import Any

GROUP = "serving.knative.dev"
VERSION = "v1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "Revision"

# Labels (pkg/apis/serving/register.go), set on a Revision by its Configuration.
CONFIGURATION_LABEL = f"{GROUP}/configuration"
CONFIGURATION_UID_LABEL = f"{GROUP}/configurationUID"
CONFIGURATION_GENERATION_LABEL = f"{GROUP}/configurationGeneration"
SERVICE_LABEL = f"{GROUP}/service"
SERVICE_UID_LABEL = f"{GROUP}/serviceUID"
ROUTE_LABEL = f"{GROUP}/route"
ROUTING_STATE_LABEL = f"{GROUP}/routingState"

# config-defaults (pkg/apis/config/defaults.go)
DEFAULT_TIMEOUT_SECONDS = 300
MAX_TIMEOUT_SECONDS = 600
DEFAULT_CONTAINER_CONCURRENCY = 0
CONTAINER_CONCURRENCY_MAX = 1000
DEFAULT_CONTAINER_NAME = "user-container"

# RevisionSpec: Knative's own fields, and the PodSpec fields its fieldmask lets through
# with the default feature flags.
OWN_FIELDS = ("containerConcurrency", "timeoutSeconds", "responseStartTimeoutSeconds",
              "idleTimeoutSeconds")
POD_FIELDS = ("containers", "volumes", "serviceAccountName", "imagePullSecrets",
              "enableServiceLinks", "automountServiceAccountToken")
SPEC_FIELDS = (*POD_FIELDS, *OWN_FIELDS)
# Container fields Knative's ContainerMask keeps (the rest of corev1.Container is refused).
CONTAINER_FIELDS = ("name", "image", "command", "args", "env", "envFrom", "workingDir",
                    "ports", "readinessProbe", "livenessProbe", "startupProbe", "resources",
                    "securityContext", "volumeMounts", "imagePullPolicy",
                    "terminationMessagePath", "terminationMessagePolicy")
TEMPLATE_FIELDS = ("metadata", "spec")
# A template's metadata: what Knative's RevisionTemplateSpec validation lets through
# (`creationTimestamp: null` is what `kubectl get -o yaml` writes).
TEMPLATE_METADATA_FIELDS = ("name", "generateName", "namespace", "labels", "annotations",
                            "creationTimestamp")

LONGEST_NAME = 63
_MD5_LEN = 32


def child_name(parent: str, suffix: str) -> str:
    """Knative's `kmeta.ChildName`: parent + suffix, cut to 63 characters by replacing the
    parent's tail with its md5, so long names stay unique."""
    if len(parent) <= LONGEST_NAME - len(suffix):
        return parent + suffix
    head = LONGEST_NAME - len(suffix)
    if head <= _MD5_LEN:
        return hashlib.md5((parent + suffix).encode()).hexdigest()
    return parent[: head - _MD5_LEN] + hashlib.md5(parent.encode()).hexdigest() + suffix


def generated_name(configuration: str, generation: int) -> str:
    """`NAME-00001`: Knative's MakeRevision name for a template without a name."""
    return child_name(configuration, f"-{generation:05d}")


def containers(spec: Any) -> list[dict[str, Any]]:
    found = spec.get("containers") if isinstance(spec, dict) else None
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def serving_container(spec: Any) -> dict[str, Any] | None:
    """The container that receives requests: the only one, or the one with `ports`."""
    found = containers(spec)
    if len(found) == 1:
        return found[0]
    return next((c for c in found if c.get("ports")), found[0] if found else None)


def generation_of(revision: dict[str, Any]) -> int:
    """The Configuration generation the Revision was made for (its label), 0 if unknown."""
    labels = (revision.get("metadata") or {}).get("labels") or {}
    try:
        return int(labels.get(CONFIGURATION_GENERATION_LABEL, 0))
    except (TypeError, ValueError):
        return 0
