"""CloudEvents SQL (CESQL v1): parse an expression once, then evaluate it against events.

Called by the broker's trigger filters (`matches`, on the hot path) and by API validation
(`parse`, whose ParseError is a ripple.errors.Invalid). Modules, bottom up: `errors`;
`casting`, `functions` and `patterns` (the spec's value rules); `lexing` and `parsing`
(text to `nodes`); `operators` and `compiling` (nodes to closures); `expressions` (the
public object).

    expr = cesql.parse("type LIKE 'com.example.%' AND EXISTS subject")
    value, errors = expr.evaluate(event)   # errors: [EvaluationError(kind=..., ...)]
    cesql.matches(expr, event)             # True only for the boolean true with no error
"""

from __future__ import annotations

from ripple.cesql.errors import EvaluationError, Kind, ParseError
from ripple.cesql.expressions import Expression, matches, parse

__all__ = ["EvaluationError", "Expression", "Kind", "ParseError", "matches", "parse"]
