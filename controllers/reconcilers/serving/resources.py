"""The children the serving reconcilers own, built as Knative's `resources/` packages build
them. Pure.

- `make_configuration` and `make_route` (`pkg/reconciler/service/resources`): named as
  the Service, with its labels and annotations plus `serving.knative.dev/service`; the
  Route's traffic entries without a `revisionName` get `configurationName` = the Service's.
- `make_revision` (`pkg/reconciler/configuration/resources/revision.go`): named by the
  template, else `NAME-0000N` from the Configuration's `metadata.generation`; the
  template's labels and annotations plus the configuration labels; the template's spec.
- `echo_revision`: an existing Revision exactly as stored, so the applier, which deletes
  every owned child not wanted, keeps it and finds nothing to update.

Called by `serving.service` and `serving.configuration`.
"""

from __future__ import annotations

import copy
from typing import Any

from controllers.reconciling import Object
from ripple.api import meta
from ripple.api.serving import configuration_types, revision_types, route_types
from ripple.api.serving import revision_types as rt

# Annotations that describe the object they are on, not its children (kubectl's).
NOT_INHERITED = ("kubectl.kubernetes.io/last-applied-configuration",)


def _inherited(obj: Object) -> tuple[dict[str, Any], dict[str, Any]]:
    labels = {k: v for k, v in meta.labels_of(obj).items()}
    annotations = {k: v for k, v in meta.annotations_of(obj).items() if k not in NOT_INHERITED}
    return labels, annotations


def make_configuration(service: Object) -> Object:
    namespace, name = meta.key(service)
    labels, annotations = _inherited(service)
    labels[rt.SERVICE_LABEL] = name
    uid = meta.metadata(service).get("uid")
    if uid:
        labels[rt.SERVICE_UID_LABEL] = str(uid)
    template = copy.deepcopy((service.get("spec") or {}).get("template") or {})
    return {"apiVersion": configuration_types.API_VERSION, "kind": configuration_types.KIND,
            "metadata": {"name": name, "namespace": namespace, "labels": labels,
                         "annotations": annotations},
            "spec": {"template": template}}


def make_route(service: Object) -> Object:
    namespace, name = meta.key(service)
    labels, annotations = _inherited(service)
    labels[rt.SERVICE_LABEL] = name
    traffic = []
    for target in (service.get("spec") or {}).get("traffic") or []:
        target = copy.deepcopy(target)
        if not target.get("revisionName"):
            target["configurationName"] = name
        traffic.append(target)
    return {"apiVersion": route_types.API_VERSION, "kind": route_types.KIND,
            "metadata": {"name": name, "namespace": namespace, "labels": labels,
                         "annotations": annotations},
            "spec": {"traffic": traffic}}


def revision_name(configuration: Object) -> str:
    """The name of the Revision for the Configuration's current generation."""
    template = (configuration.get("spec") or {}).get("template") or {}
    named = (template.get("metadata") or {}).get("name")
    if named:
        return str(named)
    return rt.generated_name(meta.key(configuration)[1], generation(configuration))


def generation(obj: Object) -> int:
    try:
        return int(meta.metadata(obj).get("generation") or 1)
    except (TypeError, ValueError):
        return 1


def make_revision(configuration: Object) -> Object:
    namespace, name = meta.key(configuration)
    template = (configuration.get("spec") or {}).get("template") or {}
    template_meta = template.get("metadata") or {}
    labels = dict(template_meta.get("labels") or {})
    annotations = dict(template_meta.get("annotations") or {})
    labels[rt.CONFIGURATION_LABEL] = name
    labels[rt.CONFIGURATION_GENERATION_LABEL] = str(generation(configuration))
    uid = meta.metadata(configuration).get("uid")
    if uid:
        labels[rt.CONFIGURATION_UID_LABEL] = str(uid)
    for label in (rt.SERVICE_LABEL, rt.SERVICE_UID_LABEL):
        value = meta.labels_of(configuration).get(label)
        if value:
            labels[label] = value
    return {"apiVersion": revision_types.API_VERSION, "kind": revision_types.KIND,
            "metadata": {"name": revision_name(configuration), "namespace": namespace,
                         "labels": labels, "annotations": annotations},
            "spec": copy.deepcopy(template.get("spec") or {})}


def echo_revision(revision: Object) -> Object:
    metadata = meta.metadata(revision)
    kept = {k: copy.deepcopy(metadata[k]) for k in ("name", "namespace", "labels", "annotations")
            if k in metadata}
    return {"apiVersion": revision["apiVersion"], "kind": revision["kind"], "metadata": kept,
            "spec": copy.deepcopy(revision.get("spec") or {})}
