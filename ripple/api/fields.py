"""Shape checks for JSON-shaped resources: the small vocabulary every validation module speaks.

Called by `meta`, `duck`, and the per-kind `*_validation` modules. A resource arrives as
whatever YAML or JSON gave us, so nothing can be assumed about its shape. Each check
appends `FieldError`s to a list the caller owns and returns the value only when it has the
wanted shape. Validation thereby goes on past the first error and reports all of them at
once, the way Knative's `FieldError.Also` does, and it never crashes on a malformed object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ripple.errors import FieldError

Errors = list[FieldError]

MISSING = "required field is missing"


def join(path: str, name: str) -> str:
    """`spec` + `broker` -> `spec.broker`; the root path is the empty string."""
    return f"{path}.{name}" if path else name


def index(path: str, i: int) -> str:
    """`spec.filters` + 0 -> `spec.filters[0]`."""
    return f"{path}[{i}]"


def key(path: str, k: object) -> str:
    """`spec.filter.attributes` + `Type` -> `spec.filter.attributes[Type]` (Knative's ViaKey)."""
    return f"{path}[{k}]"


def type_name(value: object) -> str:
    """The JSON name of a value's type, for messages such as 'must be a list, got a mapping'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def wrong_type(expected: str, value: object) -> str:
    return f"must be {expected}, got {type_name(value)}"


def mapping(value: object, path: str, errs: Errors) -> dict[str, Any] | None:
    """The value if it is a mapping with string keys; otherwise record why and return None."""
    if not isinstance(value, dict):
        errs.append(FieldError(path, wrong_type("a mapping", value)))
        return None
    for k in value:
        if not isinstance(k, str):
            errs.append(FieldError(key(path, k), f"keys must be strings, got {type_name(k)}"))
            return None
    return value


def string(value: object, path: str, errs: Errors, *, nonempty: bool = False) -> str | None:
    """The value if it is a string (non-empty when asked); otherwise record why."""
    if not isinstance(value, str):
        errs.append(FieldError(path, wrong_type("a string", value)))
        return None
    if nonempty and not value:
        errs.append(FieldError(path, "must not be empty"))
        return None
    return value


def integer(value: object, path: str, errs: Errors) -> int | None:
    """The value if it is an integer. YAML's `true` is not one, although Python says so."""
    if isinstance(value, bool) or not isinstance(value, int):
        errs.append(FieldError(path, wrong_type("an integer", value)))
        return None
    return value


def boolean(value: object, path: str, errs: Errors) -> bool | None:
    if not isinstance(value, bool):
        errs.append(FieldError(path, wrong_type("a boolean (true or false)", value)))
        return None
    return value


def string_map(value: object, path: str, errs: Errors) -> dict[str, str] | None:
    """A map of string to string, as labels, annotations and filter attributes are."""
    found = mapping(value, path, errs)
    if found is None:
        return None
    ok = True
    for k, v in found.items():
        if not isinstance(v, str):
            errs.append(FieldError(key(path, k), wrong_type("a string", v)))
            ok = False
    return found if ok else None


def known_fields(obj: Mapping[str, Any], allowed: Iterable[str], path: str, errs: Errors) -> None:
    """Refuse fields the schema does not have, as `kubectl apply --validate=strict` does.

    A misplaced field (a `subscriber` indented under `filter`) is the commonest manifest bug,
    and silently pruning it, as a CRD without strict validation would, hides it.
    """
    allowed = tuple(allowed)
    for name in obj:
        if name not in allowed:
            errs.append(FieldError(
                join(path, str(name)),
                f'unknown field "{name}"; the fields here are: {", ".join(allowed)}',
            ))


def present(obj: Mapping[str, Any], name: str) -> bool:
    """True when the field is set to something other than null."""
    return obj.get(name) is not None


def required(obj: Mapping[str, Any], name: str, path: str, errs: Errors) -> Any:
    """The field's value, recording a missing-field error when it is absent, null or ""."""
    value = obj.get(name)
    if value is None or value == "":
        errs.append(FieldError(join(path, name), MISSING))
        return None
    return value
