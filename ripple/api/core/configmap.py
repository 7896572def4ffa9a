"""Core `v1` ConfigMap: registration, defaults and validation.

Registered on import of `ripple.api.core`. Ripple reads one ConfigMap: Knative's
`config-autoscaler` in namespace `knative-serving`, which sets the autoscaler's
cluster-wide defaults (`ripple.api.serving.autoscaler_config`), so Knative's
documentation ConfigMaps apply unchanged and take effect without a restart. Any other
ConfigMap is stored as given (e.g. Knative's `config-br-defaults`, which Ripple does not
read), so a manifest set that carries one still applies.

Validation follows apimachinery's `ValidateConfigMap`: keys are `[-._a-zA-Z0-9]+` (at
most 253, not `.` or `..`), a key is not in both `data` and `binaryData`, `binaryData`
values are base64, the total is at most 1 MiB, and an `immutable: true` ConfigMap keeps
its data. `config-autoscaler` is also validated with Knative's keys and rules, naming
`data[key]`, so a broken one is refused before the autoscaler ever reads it.
"""

from __future__ import annotations

from typing import Any

from ripple.api import fields, meta, registry
from ripple.api.core import secret
from ripple.api.serving import autoscaler_config
from ripple.errors import FieldError

TOP_FIELDS = ("apiVersion", "kind", "metadata", "data", "binaryData", "immutable")


def set_defaults(configmap: dict[str, Any]) -> None:
    meta.set_defaults(configmap)


def is_autoscaler_config(configmap: dict[str, Any]) -> bool:
    return meta.key(configmap) == (autoscaler_config.NAMESPACE, autoscaler_config.NAME)


def validate(configmap: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(configmap, top_fields=TOP_FIELDS)
    if fields.present(configmap, "immutable"):
        fields.boolean(configmap["immutable"], "immutable", errs)
    size = 0
    keys: dict[str, str] = {}
    for name in ("data", "binaryData"):
        if not fields.present(configmap, name):
            continue
        found = fields.string_map(configmap[name], name, errs) or {}
        for k, v in found.items():
            where = fields.key(name, k)
            if not secret._KEY.fullmatch(k) or len(k) > 253 or k in (".", ".."):
                errs.append(FieldError(where, f'invalid key "{k}": {secret.KEY_RULE}'))
            if k in keys:
                errs.append(FieldError(where, f'duplicate of the same key in {keys[k]}'))
            keys[k] = name
            if name == "binaryData":
                decoded = secret._decode(v)
                if decoded is None:
                    errs.append(FieldError(where, "invalid value: not standard base64 (RFC 4648 "
                                                  "with padding); put plain text in data"))
                    continue
                size += len(k) + len(decoded)
            else:
                size += len(k) + len(v.encode())
    if size > secret.MAX_BYTES:
        errs.append(FieldError("data", f"too long: {size} bytes, at most {secret.MAX_BYTES}"))
    if is_autoscaler_config(configmap) and isinstance(configmap.get("data"), dict) and not errs:
        errs.extend(autoscaler_config.validate(configmap["data"]))
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    errs: fields.Errors = []
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(FieldError("immutable", "field is immutable when set to true"))
        for name in ("data", "binaryData"):
            if old.get(name) != new.get(name):
                errs.append(FieldError(name, "field is immutable when `immutable` is set"))
    return errs


KIND = registry.register(registry.Kind(
    group="",
    version="v1",
    kind="ConfigMap",
    plural="configmaps",
    singular="configmap",
    short_names=("cm",),
    set_defaults=set_defaults,
    validate=validate,
    validate_update=validate_update,
))
