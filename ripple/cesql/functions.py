"""The built-in CESQL functions (spec section 3.5), looked up by name and arity by `compiling`.

The spec's string and math functions, the casts the TCK calls (INT, BOOL, STRING), and
IS_BOOL and IS_INT from the drafts, which the Go SDK (and so Knative) still offers.
IS_STRING never existed: the draft TCK wanted a MissingFunctionError for it.

Arguments arrive already cast to the parameter types. A function that meets an error
raises Refusal with the value it still returns; `compiling` adds the position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ripple.cesql import casting, errors

# Unicode White_Space, which is narrower than str.isspace: TRIM must keep \x1c-\x1f.
_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class Refusal(Exception):
    def __init__(self, kind: errors.Kind, message: str, value: casting.Value) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.value = value


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    params: tuple[type | None, ...]  # None takes any type as it is
    returns: type
    impl: Callable[..., Any]
    rest: type | None = None  # the type of any further arguments, for variadic functions


def resolve(name: str, arity: int) -> Builtin | None:
    """The overload of `name` for `arity` arguments, or None: a MissingFunctionError."""
    for builtin in _BUILTINS.get(name, ()):
        fixed = len(builtin.params)
        if arity == fixed or (builtin.rest is not None and arity > fixed):
            return builtin
    return None


def _left(text: str, count: int) -> str:
    if count < 0:
        raise Refusal(errors.FUNCTION_EVALUATION, f"negative length {count}", text)
    return text[:count]


def _right(text: str, count: int) -> str:
    if count < 0:
        raise Refusal(errors.FUNCTION_EVALUATION, f"negative length {count}", text)
    return text[len(text) - count:] if count < len(text) else text


def _substring(text: str, position: int, length: int | None = None) -> str:
    size = len(text)
    if position > size or position < -size:
        raise Refusal(errors.FUNCTION_EVALUATION,
                      f"position {position} is outside a string of {size} characters", "")
    if length is not None and length < 0:
        raise Refusal(errors.FUNCTION_EVALUATION, f"negative length {length}", "")
    if position == 0:
        return ""
    start = position - 1 if position > 0 else size + position
    return text[start:] if length is None else text[start:start + length]


def _abs(number: int) -> int:
    if number == casting.INT_MIN:
        raise Refusal(errors.MATH, "integer overflow: 2147483648 is above 2147483647",
                      casting.INT_MAX)
    return abs(number)


def _explicit(target: type) -> Callable[[casting.Value], casting.Value]:
    def convert(value: casting.Value) -> casting.Value:
        converted, problem = casting.cast(value, target, explicit=True)
        if problem:
            raise Refusal(errors.CAST, problem, converted)
        return converted

    return convert


def _is_int(text: str) -> bool:
    return casting.to_int(text)[1] is None


def _is_bool(text: str) -> bool:
    return text.lower() in ("true", "false")


def _concat_ws(delimiter: str, *texts: str) -> str:
    return delimiter.join(texts)


_BUILTINS: dict[str, tuple[Builtin, ...]] = {
    "LENGTH": (Builtin("LENGTH", (str,), int, len),),
    "CONCAT": (Builtin("CONCAT", (), str, lambda *texts: "".join(texts), rest=str),),
    "CONCAT_WS": (Builtin("CONCAT_WS", (str,), str, _concat_ws, rest=str),),
    "LOWER": (Builtin("LOWER", (str,), str, str.lower),),
    "UPPER": (Builtin("UPPER", (str,), str, str.upper),),
    "TRIM": (Builtin("TRIM", (str,), str, lambda text: text.strip(_WHITESPACE)),),
    "LEFT": (Builtin("LEFT", (str, int), str, _left),),
    "RIGHT": (Builtin("RIGHT", (str, int), str, _right),),
    "SUBSTRING": (
        Builtin("SUBSTRING", (str, int), str, _substring),
        Builtin("SUBSTRING", (str, int, int), str, _substring),
    ),
    "ABS": (Builtin("ABS", (int,), int, _abs),),
    "INT": (Builtin("INT", (None,), int, _explicit(int)),),
    "BOOL": (Builtin("BOOL", (None,), bool, _explicit(bool)),),
    "STRING": (Builtin("STRING", (None,), str, _explicit(str)),),
    "IS_BOOL": (Builtin("IS_BOOL", (str,), bool, _is_bool),),
    "IS_INT": (Builtin("IS_INT", (str,), bool, _is_int),),
}
