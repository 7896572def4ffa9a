"""Casts between the three CESQL types (spec section 3.7), for `operators` and `functions`.

A cast returns `(value, problem)`: on failure `value` is the zero value of the target type
and `problem` says why, so the caller can carry on and report a CastError, as the spec
asks. Callers reach here only when a value is not already of the wanted type: the hot
path stays a class check.

One deliberate asymmetry, from the TCK: an integer becomes a boolean only through an
explicit BOOL(x). Implicitly (`NOT 10`, `1 AND TRUE`) it is a CastError, where the TCK
wants `NOT 10` to be true with a cast error.
"""

from __future__ import annotations

import datetime
from typing import Final

Value = str | int | bool  # the three CESQL types: String, Integer, Boolean

INT_MIN: Final = -(2**31)
INT_MAX: Final = 2**31 - 1
ZERO: Final[dict[type, Value]] = {bool: False, int: 0, str: ""}
NAMES: Final[dict[type, str]] = {bool: "boolean", int: "integer", str: "string"}
PRIMITIVES: Final = frozenset({str, int, bool})

def to_string(value: Value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value if value.__class__ is str else str(value)


def to_int(value: Value) -> tuple[int, str | None]:
    if value.__class__ is int:
        return value, None
    if value.__class__ is bool:
        return int(value), None
    text = str(value)
    # int() alone would take spaces, underscores and non-ASCII digits; the spec takes
    # an optional sign and ASCII digits. Bound the length before int(), which is slow on
    # a huge digit string and then refuses it.
    digits = text[1:] if text[:1] in ("+", "-") else text
    if digits.isascii() and digits.isdigit():
        if len(digits.lstrip("0")) <= 10 and INT_MIN <= (number := int(text)) <= INT_MAX:
            return number, None
        return 0, f"{text!r} is outside the 32-bit integer range"
    return 0, f"cannot cast {text!r} to integer"


def to_bool(value: Value, *, explicit: bool = False) -> tuple[bool, str | None]:
    if value.__class__ is bool:
        return value, None
    if value.__class__ is int:
        if explicit:
            return value != 0, None
        return False, f"integer {value} is not cast to boolean implicitly; use BOOL()"
    lowered = str(value).lower()
    if lowered == "true":
        return True, None
    if lowered == "false":
        return False, None
    return False, f"cannot cast {value!r} to boolean"


def cast(value: Value, target: type, *, explicit: bool = False) -> tuple[Value, str | None]:
    """`value` as `target` (str, int or bool), with the problem if it does not convert."""
    if target is str:
        return to_string(value), None
    if target is int:
        return to_int(value)
    return to_bool(value, explicit=explicit)


def clamp(number: int) -> tuple[int, str | None]:
    """`number` held to the 32-bit range; overflow is a MathError, as ABS(-2147483648) shows."""
    if number > INT_MAX:
        return INT_MAX, f"integer overflow: {number} is above {INT_MAX}"
    if number < INT_MIN:
        return INT_MIN, f"integer overflow: {number} is below {INT_MIN}"
    return number, None


def to_value(raw: object) -> Value:
    """An attribute value as CESQL sees it: anything not str, int or bool is a String."""
    # An exact-class test, so that a subclass (an IntEnum, a str subclass) is converted
    # below; mypy cannot narrow on it, hence the ignore.
    if raw.__class__ in PRIMITIVES:
        return raw  # type: ignore[return-value]
    if isinstance(raw, int):
        return int(raw)
    if isinstance(raw, datetime.datetime):
        return raw.isoformat()
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return str(raw)
