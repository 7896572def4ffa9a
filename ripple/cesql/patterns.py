"""LIKE patterns (spec section 3.4.3) compiled to string tests, for `operators.like`.

`%` matches any run of characters and `_` exactly one, unless escaped as `\\%` or `\\_`;
any other backslash stands for itself, so `'ab\\c' LIKE 'ab\\c'` holds. The shapes that
trigger filters use most (exact, prefix, suffix, infix) become plain string methods; the
rest become one anchored regex.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_PIECES = re.compile(r"(\\[%_]|[%_])")


def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """A test of whether a whole string matches `pattern`."""
    literals, wildcards = [""], []
    for index, piece in enumerate(_PIECES.split(pattern)):
        if index % 2 == 0:
            literals[-1] += piece
        elif piece in ("%", "_"):
            wildcards.append(piece)
            literals.append("")
        else:
            literals[-1] += piece[1]
    if not wildcards:
        return literals[0].__eq__
    if wildcards == ["%"] and not literals[1]:
        prefix = literals[0]
        return lambda value: value.startswith(prefix)
    if wildcards == ["%"] and not literals[0]:
        suffix = literals[1]
        return lambda value: value.endswith(suffix)
    if wildcards == ["%", "%"] and not literals[0] and not literals[2]:
        middle = literals[1]
        return lambda value: middle in value
    regex = re.escape(literals[0]) + "".join(
        (".*" if wildcard == "%" else ".") + re.escape(literal)
        for wildcard, literal in zip(wildcards, literals[1:])
    )
    fullmatch = re.compile(regex, re.DOTALL).fullmatch
    return lambda value: fullmatch(value) is not None
