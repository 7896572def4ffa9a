"""Route validation (Knative's `route_validation.go`): the traffic list Route and Service share.

`validate_traffic` applies Knative's rules, with its messages:
- each target names a `revisionName` or a `configurationName`, not both (inside a
  Service neither: the Service's own Configuration is meant, and `configurationName` is
  not allowed there);
- `latestRevision: true` may not come with a `revisionName`, nor `latestRevision: false`
  without one;
- `percent` is within [0, 100], and all of them sum to exactly 100 (a Route with no
  traffic sums to 0);
- a `tag` is a DNS-1035 label and is used once (both entries are named);
- `url` is status only;
- the labels: `serving.knative.dev/service` names the owning Service, and
  `networking.knative.dev/visibility` can only be `cluster-local`.
"""

from __future__ import annotations

from typing import Any

from ripple.api import fields, meta
from ripple.api.serving import annotation_validation, revision_types, revision_validation, route_types
from ripple.errors import FieldError


VISIBILITY_LABEL = "networking.knative.dev/visibility"
CLUSTER_LOCAL = "cluster-local"


def validate(route: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(route, name_rule="label")
    errs.extend(validate_service_label(route))
    visibility = meta.labels_of(route).get(VISIBILITY_LABEL)
    if visibility is not None and visibility != CLUSTER_LOCAL:
        errs.append(FieldError(fields.key("metadata.labels", VISIBILITY_LABEL),
                               f'invalid value: {visibility}: must be "{CLUSTER_LOCAL}"'))
    errs.extend(annotation_validation.refuse_on_parent(meta.annotations_of(route), "metadata.annotations"))
    spec = route.get("spec")
    if spec is None:
        errs.append(FieldError("spec", f"{fields.MISSING}: a Route needs spec.traffic"))
        return errs
    found = fields.mapping(spec, "spec", errs)
    if found is None:
        return errs
    fields.known_fields(found, route_types.SPEC_FIELDS, "spec", errs)
    errs.extend(validate_traffic(found.get("traffic"), "spec.traffic", in_service=False))
    return errs


def validate_service_label(obj: dict[str, Any]) -> fields.Errors:
    """Upstream's verifyLabelOwnerRef: `serving.knative.dev/service` names the Service that
    owns the object (a Route or Configuration a Service made)."""
    value = meta.labels_of(obj).get(revision_types.SERVICE_LABEL)
    if value is None:
        return []
    owners = [r.get("name") for r in meta.metadata(obj).get("ownerReferences") or []
              if isinstance(r, dict) and r.get("kind") == "Service"]
    if value in owners:
        return []
    return [FieldError(fields.key("metadata.labels", revision_types.SERVICE_LABEL), (
        f'there is no ownerReference to Service "{value}"; the label is set by a Service on '
        "the Configuration and Route it creates"))]


def validate_traffic(traffic: Any, path: str, *, in_service: bool) -> fields.Errors:
    errs: fields.Errors = []
    if traffic is None or traffic == []:
        if not in_service:  # a Service's defaults give it 100% to @latest
            errs.append(FieldError(path, "Traffic targets sum to 0, want 100"))
        return errs
    if not isinstance(traffic, list):
        errs.append(FieldError(path, fields.wrong_type("a list", traffic)))
        return errs
    total = 0
    tags: dict[str, int] = {}
    for i, item in enumerate(traffic):
        where = fields.index(path, i)
        target = fields.mapping(item, where, errs)
        if target is None:
            continue
        errs.extend(_validate_target(target, where, in_service))
        percent = target.get("percent")
        if isinstance(percent, int) and not isinstance(percent, bool):
            total += percent
        tag = target.get("tag")
        if isinstance(tag, str) and tag:
            if tag in tags:
                for j in (i, tags[tag]):
                    errs.append(FieldError(fields.join(fields.index(path, j), "tag"),
                                           f'Multiple definitions for "{tag}"'))
            tags.setdefault(tag, i)
    if total != 100:
        errs.append(FieldError(path, f"Traffic targets sum to {total}, want 100"))
    return errs


def _validate_target(target: dict[str, Any], path: str, in_service: bool) -> fields.Errors:
    errs: fields.Errors = []
    fields.known_fields(target, route_types.TRAFFIC_FIELDS, path, errs)
    revision = target.get("revisionName")
    configuration = target.get("configurationName")
    latest = target.get("latestRevision")
    for name, value in (("revisionName", revision), ("configurationName", configuration)):
        if value is not None and fields.string(value, fields.join(path, name), errs):
            if not meta.is_qualified_name(value):
                errs.append(FieldError(fields.join(path, name),
                                       f'invalid key name "{value}": {meta.QUALIFIED_RULE}'))
    if latest is not None and fields.boolean(latest, fields.join(path, "latestRevision"), errs) is not None:
        if bool(revision) == latest:  # pinned and floating at once
            errs.append(FieldError(fields.join(path, "latestRevision"), (
                f'may not set revisionName "{revision or ""}" when latestRevision is '
                f'{"true" if latest else "false"}')))
    if in_service and configuration:
        errs.append(FieldError(fields.join(path, "configurationName"), (
            "must not set the field(s): a Service's traffic goes to its own Configuration; "
            "use latestRevision: true, or a revisionName")))
    elif revision and configuration:
        errs.append(FieldError(path, (
            "expected exactly one, got both: revisionName, configurationName")))
    elif not revision and not configuration and not in_service:
        errs.append(FieldError(path, "expected exactly one, got neither: revisionName, configurationName"))
    percent = target.get("percent")
    if percent is not None:
        where = fields.join(path, "percent")
        if fields.integer(percent, where, errs) is not None and not 0 <= percent <= 100:
            errs.append(FieldError(where, f"expected 0 <= {percent} <= 100"))
    tag = target.get("tag")
    if tag is not None and fields.string(tag, fields.join(path, "tag"), errs):
        if not revision_validation.is_dns1035_label(tag):
            errs.append(FieldError(fields.join(path, "tag"),
                                   f'invalid value "{tag}": {revision_validation.DNS1035_RULE}'))
    if target.get("url") is not None:
        errs.append(FieldError(fields.join(path, "url"), (
            "must not set the field(s): url is set in status, for tagged targets")))
    return errs
