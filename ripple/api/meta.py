"""Object metadata (Kubernetes' TypeMeta and ObjectMeta): defaults, validation and keys.

Called by every kind's `*_defaults` and `*_validation` module, by `loading.admit`, and by
the store and reconcilers through `key`. The rules are Kubernetes' own (apimachinery's
`ValidateObjectMeta`): a name is a DNS-1123 subdomain (or label, for kinds whose name
becomes a host name), a namespace is a DNS-1123 label and defaults to "default", label
keys and values and annotation keys are qualified names.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from ripple.api import fields
from ripple.errors import FieldError

DEFAULT_NAMESPACE = "default"

TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
# The writable fields users give, plus the ones the store sets: a manifest fetched from a
# cluster (`kubectl get -o yaml`) carries them and must still apply.
METADATA_FIELDS = (
    "name", "namespace", "labels", "annotations", "generateName", "uid",
    "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
    "deletionGracePeriodSeconds", "ownerReferences", "finalizers", "managedFields", "selfLink",
)

LABEL_MAX = 63
SUBDOMAIN_MAX = 253
ANNOTATIONS_MAX_BYTES = 256 * 1024

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LABEL_RE = re.compile(_LABEL)
_SUBDOMAIN_RE = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_QUALIFIED_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")

LABEL_RULE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    f"start and end with an alphanumeric character, and be at most {LABEL_MAX} characters "
    "(e.g. 'my-name' or '123-abc')"
)
SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', start and end with an alphanumeric character, and be at most "
    f"{SUBDOMAIN_MAX} characters (e.g. 'example.com')"
)
QUALIFIED_RULE = (
    "a qualified name is an optional DNS subdomain prefix and '/', then at most 63 "
    "alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric "
    "character (e.g. 'MyName', 'my.name' or 'example.com/MyName')"
)
LABEL_VALUE_RULE = (
    "a label value must be empty or at most 63 alphanumeric characters, '-', '_' or '.', "
    "starting and ending with an alphanumeric character"
)

NameRule = Literal["subdomain", "label"]


def is_dns1123_label(text: str) -> bool:
    return len(text) <= LABEL_MAX and _LABEL_RE.fullmatch(text) is not None


def is_dns1123_subdomain(text: str) -> bool:
    return len(text) <= SUBDOMAIN_MAX and _SUBDOMAIN_RE.fullmatch(text) is not None


def is_qualified_name(text: str) -> bool:
    prefix, slash, name = text.rpartition("/")
    if slash and (not prefix or not is_dns1123_subdomain(prefix)):
        return False
    return 0 < len(name) <= LABEL_MAX and _QUALIFIED_RE.fullmatch(name) is not None


def is_label_value(text: str) -> bool:
    return text == "" or (len(text) <= LABEL_MAX and _QUALIFIED_RE.fullmatch(text) is not None)


def metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's metadata, or an empty mapping when it has none (or a malformed one)."""
    found = obj.get("metadata")
    return found if isinstance(found, dict) else {}


def annotations_of(obj: dict[str, Any]) -> dict[str, Any]:
    found = metadata(obj).get("annotations")
    return found if isinstance(found, dict) else {}


def labels_of(obj: dict[str, Any]) -> dict[str, Any]:
    found = metadata(obj).get("labels")
    return found if isinstance(found, dict) else {}


def key(obj: dict[str, Any], *, namespaced: bool = True) -> tuple[str, str]:
    """(namespace, name): where the store files the object; "" namespace if cluster-scoped."""
    meta = metadata(obj)
    namespace = (meta.get("namespace") or DEFAULT_NAMESPACE) if namespaced else ""
    return str(namespace), str(meta.get("name") or "")


def set_defaults(obj: dict[str, Any], *, namespaced: bool = True) -> None:
    """Give a namespaced object the "default" namespace, as kubectl does when none is given."""
    if obj.get("metadata") is None:
        obj["metadata"] = {}
    meta = obj["metadata"]
    if namespaced and isinstance(meta, dict) and not meta.get("namespace"):
        meta["namespace"] = DEFAULT_NAMESPACE


def set_label(obj: dict[str, Any], name: str, value: str) -> None:
    """Set one label, creating the map; leaves a malformed map for validation to report."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return
    if meta.get("labels") is None:
        meta["labels"] = {}
    if isinstance(meta["labels"], dict):
        meta["labels"][name] = value


def set_annotation_if_unset(obj: dict[str, Any], name: str, value: str) -> None:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return
    if meta.get("annotations") is None:
        meta["annotations"] = {}
    if isinstance(meta["annotations"], dict):
        meta["annotations"].setdefault(name, value)


def validate(
    obj: dict[str, Any],
    *,
    name_rule: NameRule = "subdomain",
    namespaced: bool = True,
    top_fields: tuple[str, ...] = TOP_FIELDS,
) -> fields.Errors:
    """Top-level fields and metadata, Kubernetes style."""
    errs: fields.Errors = []
    fields.known_fields(obj, top_fields, "", errs)
    meta = fields.mapping(obj.get("metadata"), "metadata", errs)
    if meta is None:
        return errs
    fields.known_fields(meta, METADATA_FIELDS, "metadata", errs)
    name = meta.get("name")
    if name is None or name == "":
        errs.append(FieldError("metadata.name", fields.MISSING))
    elif fields.string(name, "metadata.name", errs) is not None:
        ok = is_dns1123_label(name) if name_rule == "label" else is_dns1123_subdomain(name)
        if not ok:
            rule = LABEL_RULE if name_rule == "label" else SUBDOMAIN_RULE
            errs.append(FieldError("metadata.name", f'invalid value "{name}": {rule}'))
    namespace = meta.get("namespace")
    if namespace is not None:
        if not namespaced:
            errs.append(FieldError(
                "metadata.namespace", "must not be set: the kind is cluster-scoped"
            ))
        elif (
            fields.string(namespace, "metadata.namespace", errs) is not None
            and not is_dns1123_label(namespace)
        ):
            errs.append(FieldError(
                "metadata.namespace", f'invalid value "{namespace}": {LABEL_RULE}'
            ))
    errs.extend(_validate_labels(meta.get("labels")))
    errs.extend(_validate_annotations(meta.get("annotations")))
    return errs


def _string_map(value: object, path: str, errs: fields.Errors) -> dict[str, str] | None:
    """Labels and annotations are map[string]string: a number, a boolean or a nested map
    is refused naming the key, as Kubernetes does. YAML makes `replicas: 3` and an
    unquoted `true` non-strings, so the message shows the value and how to quote it.
    """
    found = fields.mapping(value, path, errs)
    if found is None:
        return None
    ok = True
    for k, v in found.items():
        if not isinstance(v, str):
            shown = json.dumps(v, default=str)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            hint = f' (quote it: "{shown}")' if isinstance(v, (int, float, bool)) else ""
            errs.append(FieldError(fields.key(path, k), (
                f"Invalid value: {shown}: must be a string, got {fields.type_name(v)}{hint}"
            )))
            ok = False
    return found if ok else None


def _validate_labels(value: object) -> fields.Errors:
    errs: fields.Errors = []
    if value is None:
        return errs
    found = _string_map(value, "metadata.labels", errs)
    for k, v in (found or {}).items():
        path = fields.key("metadata.labels", k)
        if not is_qualified_name(k):
            errs.append(FieldError(path, f'invalid key "{k}": {QUALIFIED_RULE}'))
        if not is_label_value(v):
            errs.append(FieldError(path, f'invalid value "{v}": {LABEL_VALUE_RULE}'))
    return errs


def _validate_annotations(value: object) -> fields.Errors:
    errs: fields.Errors = []
    if value is None:
        return errs
    found = _string_map(value, "metadata.annotations", errs)
    if found is None:
        return errs
    for k in found:
        # Kubernetes checks the lower-cased key, so annotation prefixes are case-insensitive.
        if not is_qualified_name(k.lower()):
            errs.append(FieldError(
                fields.key("metadata.annotations", k), f'invalid key "{k}": {QUALIFIED_RULE}'
            ))
    size = sum(len(k.encode()) + len(v.encode()) for k, v in found.items())
    if size > ANNOTATIONS_MAX_BYTES:
        errs.append(FieldError(
            "metadata.annotations", f"too long: {size} bytes, at most {ANNOTATIONS_MAX_BYTES}"
        ))
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    """What identifies an object cannot change: its kind, name and namespace."""
    errs: fields.Errors = []
    for path, before, after in (
        ("apiVersion", old.get("apiVersion"), new.get("apiVersion")),
        ("kind", old.get("kind"), new.get("kind")),
        ("metadata.name", metadata(old).get("name"), metadata(new).get("name")),
        ("metadata.namespace", metadata(old).get("namespace"), metadata(new).get("namespace")),
    ):
        if before != after:
            errs.append(FieldError(path, f'field is immutable: was "{before}", now "{after}"'))
    return errs
