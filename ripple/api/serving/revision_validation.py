"""Revision validation (Knative's `revision_validation.go`), and the validation of a
RevisionTemplateSpec that Configuration and Service share.

- `validate_spec`: the RevisionSpec: the PodSpec (`k8s_validation`), `containerConcurrency`
  0-1000, `timeoutSeconds` 0-600, `responseStartTimeoutSeconds` and `idleTimeoutSeconds`
  0-600 (and at most `timeoutSeconds`);
- `validate_template`: the template's metadata (its autoscaling annotations, and its
  name under Knative's `validateRevisionName`: a DNS-1035 label prefixed by the parent's
  name and a dash) and its spec;
- `verify_name_change`: Knative's `VerifyNameChange`: a template that keeps its name
  may not change otherwise, since the name is the Revision's and Revisions are immutable;
- `validate_update`: a Revision's spec never changes (its labels and annotations may).

Called by the Revision kind, and by `configuration_validation` and `service_validation`.
"""

from __future__ import annotations

import re
from typing import Any

from ripple.api import fields, meta
from ripple.api.serving import annotation_validation, k8s_validation, revision_types
from ripple.errors import FieldError

_DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS1035_RULE = ("a DNS-1035 label must consist of lower case alphanumeric characters or "
                "'-', start with an alphabetic character, and end with an alphanumeric "
                f"character, at most {revision_types.LONGEST_NAME} characters (e.g. 'my-name', "
                "or 'abc-123')")


def is_dns1035_label(text: str) -> bool:
    return len(text) <= revision_types.LONGEST_NAME and _DNS1035.fullmatch(text) is not None


KNOWN_LABELS = (revision_types.ROUTING_STATE_LABEL, revision_types.ROUTE_LABEL,
                revision_types.SERVICE_LABEL, revision_types.CONFIGURATION_UID_LABEL,
                revision_types.SERVICE_UID_LABEL, revision_types.CONFIGURATION_GENERATION_LABEL)


def validate(revision: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(revision, name_rule="label")
    errs.extend(_validate_labels(revision))
    errs.extend(annotation_validation.validate(meta.annotations_of(revision), "metadata.annotations"))
    spec = revision.get("spec")
    if spec is None:
        errs.append(FieldError("spec", fields.MISSING))
        return errs
    found = fields.mapping(spec, "spec", errs)
    if found is not None:
        errs.extend(validate_spec(found, "spec"))
    return errs


def _validate_labels(revision: dict[str, Any]) -> fields.Errors:
    """Upstream's `Revision.ValidateLabels`: the `serving.knative.dev/` labels are the
    ones Knative sets, and `configuration` names a Configuration that owns the Revision."""
    errs: fields.Errors = []
    owners = [r.get("name") for r in meta.metadata(revision).get("ownerReferences") or []
              if isinstance(r, dict) and r.get("kind") == "Configuration"]
    for key, value in meta.labels_of(revision).items():
        path = fields.key("metadata.labels", key)
        if key == revision_types.CONFIGURATION_LABEL:
            if value not in owners:
                errs.append(FieldError(path, (
                    f'the Revision has no ownerReference to Configuration "{value}"; the label '
                    "is set by a Configuration on the Revisions it creates")))
        elif key.startswith(revision_types.GROUP + "/") and key not in KNOWN_LABELS:
            errs.append(FieldError(path, (
                f"invalid key name: labels under {revision_types.GROUP}/ are Knative's own: "
                f"{', '.join((revision_types.CONFIGURATION_LABEL, *KNOWN_LABELS))}")))
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    if old.get("spec") != new.get("spec"):
        changed = _changed(old.get("spec"), new.get("spec"), "spec")
        return [FieldError("spec", (
            "Immutable fields changed (-old +new): " + "; ".join(changed[:5])
            + ": a Revision never changes; change the Configuration's or Service's "
              "spec.template, which creates a new Revision"))]
    return []


def validate_spec(spec: dict[str, Any], path: str) -> fields.Errors:
    errs: fields.Errors = []
    fields.known_fields(spec, revision_types.SPEC_FIELDS, path, errs)
    errs.extend(k8s_validation.validate_pod_spec(spec, path))
    cc = spec.get("containerConcurrency")
    if cc is not None:
        where = fields.join(path, "containerConcurrency")
        if fields.integer(cc, where, errs) is not None and not 0 <= cc <= revision_types.CONTAINER_CONCURRENCY_MAX:
            errs.append(FieldError(where, f"expected 0 <= {cc} <= "
                                          f"{revision_types.CONTAINER_CONCURRENCY_MAX}"))
    timeouts: dict[str, int] = {}
    for name in ("timeoutSeconds", "responseStartTimeoutSeconds", "idleTimeoutSeconds"):
        value = spec.get(name)
        if value is None:
            continue
        where = fields.join(path, name)
        if fields.integer(value, where, errs) is None:
            continue
        if not 0 <= value <= revision_types.MAX_TIMEOUT_SECONDS:
            errs.append(FieldError(where, f"expected 0 <= {value} <= "
                                          f"{revision_types.MAX_TIMEOUT_SECONDS}"))
        else:
            timeouts[name] = value
    total = timeouts.get("timeoutSeconds") or revision_types.MAX_TIMEOUT_SECONDS
    for name in ("responseStartTimeoutSeconds", "idleTimeoutSeconds"):
        if timeouts.get(name, 0) > total:
            errs.append(FieldError(fields.join(path, name),
                                   f"expected 0 <= {timeouts[name]} <= {total} (timeoutSeconds)"))
    return errs


def validate_template(template: Any, path: str, parent: dict[str, Any]) -> fields.Errors:
    """A RevisionTemplateSpec at `path` (`spec.template`) of `parent`."""
    errs: fields.Errors = []
    if template is None:
        errs.append(FieldError(path, fields.MISSING))
        return errs
    found = fields.mapping(template, path, errs)
    if found is None:
        return errs
    fields.known_fields(found, revision_types.TEMPLATE_FIELDS, path, errs)
    metadata = found.get("metadata")
    meta_path = fields.join(path, "metadata")
    if metadata is not None:
        md = fields.mapping(metadata, meta_path, errs)
        if md is not None:
            errs.extend(_validate_template_metadata(md, meta_path, parent))
    spec = found.get("spec")
    spec_path = fields.join(path, "spec")
    if spec is None:
        errs.append(FieldError(spec_path, fields.MISSING))
    else:
        s = fields.mapping(spec, spec_path, errs)
        if s is not None:
            errs.extend(validate_spec(s, spec_path))
    return errs


def _validate_template_metadata(md: dict[str, Any], path: str, parent: dict[str, Any]) -> fields.Errors:
    errs: fields.Errors = []
    fields.known_fields(md, revision_types.TEMPLATE_METADATA_FIELDS, path, errs)
    # Labels and annotations by Kubernetes' rules, through meta.validate on a stand-in.
    stand_in: dict[str, Any] = {"name": "x"}
    stand_in.update((k, md[k]) for k in ("labels", "annotations") if k in md)
    shaped: dict[str, Any] = {"metadata": stand_in}
    for e in meta.validate(shaped):
        errs.append(FieldError(e.path.replace("metadata", path, 1), e.message))
    annotations = md.get("annotations")
    if isinstance(annotations, dict):
        errs.extend(annotation_validation.validate(annotations, fields.join(path, "annotations")))
    parent_name = meta.key(parent)[1]
    parent_generate = meta.metadata(parent).get("generateName")
    for key in ("name", "generateName"):
        value = md.get(key)
        if value in (None, ""):
            continue
        where = fields.join(path, key)
        if fields.string(value, where, errs) is None:
            continue
        checked = value if key == "name" else value.rstrip("-") or "x"
        if not is_dns1035_label(checked):
            errs.append(FieldError(where, f'invalid value "{value}": {DNS1035_RULE}'))
    name = md.get("name")
    if isinstance(name, str) and name:
        if parent_name:
            prefix = parent_name + "-"
            if not name.startswith(prefix):
                errs.append(FieldError(fields.join(path, "name"), (
                    f'"{name}" must have prefix "{prefix}"')))
        elif parent_generate:
            errs.append(FieldError(fields.join(path, "name"), (
                "may not be set when the parent uses metadata.generateName")))
    namespace = md.get("namespace")
    if namespace not in (None, "") and namespace != meta.key(parent)[0]:
        errs.append(FieldError(fields.join(path, "namespace"), (
            f'invalid value "{namespace}": must be empty or the parent\'s namespace')))
    return errs


def verify_name_change(old: Any, new: Any, path: str) -> fields.Errors:
    """Knative's VerifyNameChange for `spec.template` at `path`."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    old_name = (old.get("metadata") or {}).get("name") if isinstance(old.get("metadata"), dict) else None
    new_name = (new.get("metadata") or {}).get("name") if isinstance(new.get("metadata"), dict) else None
    if not new_name or old_name != new_name or old == new:
        return []
    changed = _changed(old, new, path)
    return [FieldError(fields.join(fields.join(path, "metadata"), "name"), (
        "Saw the following changes without a name change (-old +new): " + "; ".join(changed[:5])
        + f': the template is named "{new_name}", which is the name of its Revision, and '
          "Revisions never change; give the template a new name, or remove the name to have "
          "one generated"))]


def _changed(old: Any, new: Any, path: str) -> list[str]:
    """The paths where two JSON values differ, for the messages above."""
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for k in sorted(set(old) | set(new), key=str):
            found.extend(_changed(old.get(k), new.get(k), fields.join(path, str(k))))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        found = []
        for i, (a, b) in enumerate(zip(old, new)):
            found.extend(_changed(a, b, fields.index(path, i)))
        return found
    return [] if old == new else [path]
