"""Cuts a CESQL expression into tokens; `parsing` is its only caller.

Keywords are case-insensitive and come out upper-cased in `value`. Strings come out
unescaped: only the escape of the delimiting quote (`\\'` or `''` in single quotes, `\\"`
or `""` in double quotes) is resolved. Every other backslash stays, because LIKE patterns
give `\\%` and `\\_` their own meaning.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from ripple.cesql import errors

INT: Final = "int"
STRING: Final = "string"
WORD: Final = "word"
KEYWORD: Final = "keyword"
SYMBOL: Final = "symbol"
END: Final = "end"

KEYWORDS: Final = frozenset({"AND", "OR", "XOR", "NOT", "LIKE", "EXISTS", "IN", "TRUE", "FALSE"})

# Alternation order matters for the symbols: two-character operators first.
_TOKEN = re.compile(
    r"""
      (?P<space>[ \t\r\n]+)
    | (?P<word>[A-Za-z0-9_]+)
    | (?P<string>'(?:\\.|''|[^'\\])*'|"(?:\\.|""|[^"\\])*")
    | (?P<symbol><>|!=|<=|>=|[-+*/%=<>(),])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"""\\.|''|\"\"""", re.DOTALL)


class Token(NamedTuple):
    kind: str
    text: str
    value: str
    position: int


def tokenize(text: str) -> list[Token]:
    """All tokens of `text`, ending with one END token; raises ParseError on a bad character."""
    tokens: list[Token] = []
    position, size = 0, len(text)
    while position < size:
        match = _TOKEN.match(text, position)
        if match is None:
            if text[position] in "'\"":
                raise errors.ParseError("unterminated string literal", position)
            raise errors.ParseError(f"unexpected character {text[position]!r}", position)
        kind, raw = match.lastgroup, match.group()
        if kind == "word":
            tokens.append(_word(raw, position))
        elif kind == "string":
            tokens.append(Token(STRING, raw, _unquote(raw), position))
        elif kind == "symbol":
            tokens.append(Token(SYMBOL, raw, raw, position))
        position = match.end()
    tokens.append(Token(END, "", "", size))
    return tokens


def _word(raw: str, position: int) -> Token:
    if raw.isdigit():
        return Token(INT, raw, raw, position)
    upper = raw.upper()
    if upper in KEYWORDS:
        return Token(KEYWORD, raw, upper, position)
    return Token(WORD, raw, raw, position)


def _unquote(raw: str) -> str:
    quote, body = raw[0], raw[1:-1]
    if "\\" not in body and quote * 2 not in body:
        return body

    # The regex walks escape pairs left to right, as the lexer did, so `\\'` cannot occur.
    def resolve(match: re.Match[str]) -> str:
        pair = match.group()
        return quote if pair in (quote * 2, "\\" + quote) else pair

    return _ESCAPE.sub(resolve, body)
