"""The errors of CESQL, by the kinds the CESQL v1 spec names (section 3.3).

    ParseError (ripple.errors.Invalid)   raised by `parse`: the expression is not CESQL
    EvaluationError                      a value in the error list `evaluate` returns
    Failure (internal)                   carries one error up the compiled closures

`lexing` and `parsing` raise ParseError; the closures of `compiling` and `operators`
raise Failure, which `expressions` turns into a value plus an error list. Callers outside
the package see ParseError and EvaluationError only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from ripple import errors

Kind = Literal[
    "parse", "math", "cast", "missingFunction", "functionEvaluation", "missingAttribute", "generic"
]

PARSE: Final = "parse"
MATH: Final = "math"
CAST: Final = "cast"
MISSING_FUNCTION: Final = "missingFunction"
FUNCTION_EVALUATION: Final = "functionEvaluation"
MISSING_ATTRIBUTE: Final = "missingAttribute"
GENERIC: Final = "generic"


class ParseError(errors.Invalid):
    """The text is not a CESQL expression: a 400 for whoever sent it.

    The message says where and what: `cesql: unexpected token ')' at position 7`.
    Positions count characters from 0.
    """

    kind: Final = PARSE

    def __init__(self, what: str, position: int, *, expected: str = "") -> None:
        self.position = position
        hint = f"; expected {expected}" if expected else ""
        super().__init__(f"cesql: {what} at position {position}{hint}")


@dataclass(frozen=True, slots=True)
class EvaluationError:
    """One error met while evaluating; the value returned beside it is still defined."""

    kind: Kind
    message: str
    position: int

    def __str__(self) -> str:
        return f"cesql: {self.message} at position {self.position}"


class Failure(Exception):
    """Raised by a compiled node that met an error, carrying the value that node yields.

    Only the node that raised knows its own value (`NOT 10` is true, `ABS(-2147483648)` is
    2147483647); every node it passes through yields its zero value instead, which is what
    the TCK asks (`true AND (1 != 1 / 0)` is false). `origin` tells the two apart.
    Filters never look at the error, so it is built only when asked for.
    """

    __slots__ = ("kind", "message", "origin", "position", "value")

    def __init__(  # no super().__init__: a missing attribute is common, keep raising cheap
        self, kind: Kind, message: str, position: int, value: str | int | bool, origin: object
    ) -> None:
        self.kind = kind
        self.message = message
        self.position = position
        self.value = value
        self.origin = origin

    @property
    def error(self) -> EvaluationError:
        return EvaluationError(self.kind, self.message, self.position)

    def __str__(self) -> str:
        return str(self.error)
