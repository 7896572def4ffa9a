"""Core `v1` Secret: registration, defaults, validation, and reading one value.

Registered on import of `ripple.api.core`. Sources' `secretKeyRef`s (GitHubSource's
`accessToken`, KafkaSource's SASL settings) point at Secrets; their reconcilers and
adapters read a value with `secret_value`.

As the Kubernetes API server does, admission folds `stringData` into `data` (base64, with
`stringData` winning) and drops it, so a stored Secret holds `data` only; `type` defaults
to `Opaque`. Validation follows apimachinery's `ValidateSecret` for the parts Ripple uses:
keys are `[-._a-zA-Z0-9]+`, values are standard base64, the total is at most 1 MiB, and
an `immutable: true` Secret keeps its data. Per-type required keys (`kubernetes.io/tls`,
...) are not checked.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ripple import errors
from ripple.api import fields, meta, registry
from ripple.errors import FieldError

TOP_FIELDS = ("apiVersion", "kind", "metadata", "type", "data", "stringData", "immutable")
DEFAULT_TYPE = "Opaque"
MAX_BYTES = 1024 * 1024
_KEY = re.compile(r"[-._a-zA-Z0-9]+")
KEY_RULE = ("a valid key must consist of alphanumeric characters, '-', '_' or '.', be at "
            "most 253 characters, and not be '.' or '..' (e.g. 'key.name' or 'KEY_NAME')")


def set_defaults(secret: dict[str, Any]) -> None:
    meta.set_defaults(secret)
    if secret.get("type") in (None, ""):
        secret["type"] = DEFAULT_TYPE
    plain = secret.get("stringData")
    data = secret.get("data")
    if not isinstance(plain, dict) or not isinstance(data, (dict, type(None))):
        return
    folded = dict(data or {})
    kept = {}
    for k, v in plain.items():
        if isinstance(k, str) and isinstance(v, str):
            folded[k] = base64.b64encode(v.encode()).decode()
        else:
            kept[k] = v  # left for validation to report
    secret["data"] = folded
    if kept:
        secret["stringData"] = kept
    else:
        del secret["stringData"]


def validate(secret: dict[str, Any]) -> fields.Errors:
    errs = meta.validate(secret, top_fields=TOP_FIELDS)
    if fields.present(secret, "type"):
        fields.string(secret["type"], "type", errs)
    if fields.present(secret, "immutable"):
        fields.boolean(secret["immutable"], "immutable", errs)
    size = 0
    for name in ("data", "stringData"):
        if not fields.present(secret, name):
            continue
        found = fields.string_map(secret[name], name, errs) or {}
        for k, v in found.items():
            where = fields.key(name, k)
            if not _KEY.fullmatch(k) or len(k) > 253 or k in (".", ".."):
                errs.append(FieldError(where, f'invalid key "{k}": {KEY_RULE}'))
            if name == "data":
                decoded = _decode(v)
                if decoded is None:
                    errs.append(FieldError(where, "invalid value: not standard base64 (RFC 4648 "
                                                  "with padding); put plain text in stringData"))
                    continue
                size += len(k) + len(decoded)
            else:
                size += len(k) + len(v.encode())
    if size > MAX_BYTES:
        errs.append(FieldError("data", f"too long: {size} bytes, at most {MAX_BYTES}"))
    return errs


def validate_update(old: dict[str, Any], new: dict[str, Any]) -> fields.Errors:
    errs: fields.Errors = []
    if old.get("type") != new.get("type"):
        errs.append(FieldError(
            "type", f'field is immutable: was "{old.get("type")}", now "{new.get("type")}"'
        ))
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errs.append(FieldError("immutable", "field is immutable when set to true"))
        if old.get("data") != new.get("data"):
            errs.append(FieldError("data", "field is immutable when `immutable` is set"))
    return errs


def _decode(text: str) -> bytes | None:
    # Go's encoding/json decodes []byte with base64.StdEncoding, which skips line breaks.
    try:
        return base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return None


def secret_value(secret: dict[str, Any], key: str) -> bytes:
    """The bytes under `key`: `stringData` wins, as on write; errors.NotFound if absent."""
    plain = secret.get("stringData")
    if isinstance(plain, dict) and isinstance(plain.get(key), str):
        return str(plain[key]).encode()
    data = secret.get("data")
    if isinstance(data, dict) and isinstance(data.get(key), str):
        decoded = _decode(data[key])
        if decoded is not None:
            return decoded
    namespace, name = meta.key(secret)
    raise errors.NotFound(f'secret "{namespace}/{name}" has no key "{key}"')


KIND = registry.register(registry.Kind(
    group="",
    version="v1",
    kind="Secret",
    plural="secrets",
    singular="secret",
    set_defaults=set_defaults,
    validate=validate,
    validate_update=validate_update,
))
