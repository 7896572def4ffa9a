"""Turns CESQL text into a syntax tree (`nodes`); `expressions.parse` is the caller.

Precedence, loosest first, as the spec's grammar (cesql/CESQLParser.g4) orders it:

    AND OR XOR                  one level, grouped to the right, as <assoc=right> says
    = != <> < <= > >=           left to right
    + -                         left to right
    * / %                       left to right
    x [NOT] LIKE 'p', x [NOT] IN (...)     postfix, so `a + b LIKE 'x'` is `a + (b LIKE 'x')`
    NOT x, -x                   prefix, so `NOT a LIKE 'x'` is `(NOT a) LIKE 'x'`
    calls, EXISTS x, literals, attributes, ( ... )

Operands are still evaluated left to right; grouping AND/OR/XOR to the right only matters
when they are mixed without parentheses, and there it matches the grammar the Go and Java
SDKs (and so Knative) generate their parsers from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from ripple.cesql import errors, lexing, nodes

_Rule = Callable[[], nodes.Node]

MAX_DEPTH: Final = 64  # deeper trees would risk Python's recursion limit when compiled
INT_MIN: Final = -(2**31)
INT_MAX: Final = 2**31 - 1

_LOGICAL = frozenset({"AND", "OR", "XOR"})
_COMPARISON = nodes.EQUALITY | nodes.ORDERING
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9]+")
_FUNCTION_NAME = re.compile(r"[A-Za-z][A-Za-z_]*")


def parse(text: str) -> nodes.Node:
    if not isinstance(text, str):
        raise errors.ParseError(f"expression must be a string, not {type(text).__name__}", 0)
    parser = _Parser(lexing.tokenize(text))
    node = parser.expression()
    parser.expect_end()
    if nodes.depth(node) > MAX_DEPTH:
        raise errors.ParseError(f"expression nests deeper than {MAX_DEPTH} levels", 0)
    return node


class _Parser:
    def __init__(self, tokens: list[lexing.Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.nesting = 0

    def peek(self, ahead: int = 0) -> lexing.Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> lexing.Token:
        token = self.tokens[self.index]
        if token.kind != lexing.END:
            self.index += 1
        return token

    def at(self, kind: str, *values: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == kind and (not values or token.value in values)

    def expect(self, symbol: str, what: str) -> lexing.Token:
        if not self.at(lexing.SYMBOL, symbol):
            raise self.unexpected(self.peek(), what)
        return self.advance()

    def expect_end(self) -> None:
        if not self.at(lexing.END):
            raise self.unexpected(self.peek())

    def unexpected(self, token: lexing.Token, expected: str = "") -> errors.ParseError:
        if token.kind == lexing.END:
            what = "unexpected end of expression" if token.position else "empty expression"
            return errors.ParseError(what, token.position, expected=expected)
        return errors.ParseError(f"unexpected token {token.text!r}", token.position,
                                 expected=expected)

    def expression(self) -> nodes.Node:
        operands, operators = [self.comparison()], []
        while self.at(lexing.KEYWORD, *_LOGICAL):
            operators.append(self.advance())
            operands.append(self.comparison())
        node = operands.pop()
        while operators:
            operator, left = operators.pop(), operands.pop()
            if isinstance(node, nodes.Logical) and node.op == operator.value:
                node = nodes.Logical(operator.value, (left, *node.operands), operator.position)
            else:
                node = nodes.Logical(operator.value, (left, node), operator.position)
        return node

    def comparison(self) -> nodes.Node:
        return self.binary(self.additive, _COMPARISON)

    def additive(self) -> nodes.Node:
        return self.binary(self.multiplicative, frozenset({"+", "-"}))

    def multiplicative(self) -> nodes.Node:
        return self.binary(self.postfix, frozenset({"*", "/", "%"}))

    def binary(self, operand: _Rule, symbols: frozenset[str]) -> nodes.Node:
        node = operand()
        while self.at(lexing.SYMBOL, *symbols):
            operator = self.advance()
            node = nodes.Binary(operator.value, node, operand(), operator.position)
        return node

    def postfix(self) -> nodes.Node:
        node = self.unary()
        while True:
            after = self.peek(1)
            negated = (self.at(lexing.KEYWORD, "NOT") and after.kind == lexing.KEYWORD
                       and after.value in ("LIKE", "IN"))
            if negated:
                self.advance()
            if self.at(lexing.KEYWORD, "LIKE"):
                operator = self.advance()
                pattern = self.advance()
                if pattern.kind != lexing.STRING:
                    raise self.unexpected(pattern, "a string literal as the LIKE pattern")
                node = nodes.Like(node, pattern.value, negated, operator.position)
            elif self.at(lexing.KEYWORD, "IN"):
                operator = self.advance()
                items = self.arguments("the IN set", allow_empty=False)
                node = nodes.In(node, items, negated, operator.position)
            else:
                return node

    def unary(self) -> nodes.Node:
        token = self.peek()
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise errors.ParseError(f"expression nests deeper than {MAX_DEPTH} levels",
                                    token.position)
        try:
            if self.at(lexing.KEYWORD, "NOT"):
                self.advance()
                return nodes.Not(self.unary(), token.position)
            if self.at(lexing.SYMBOL, "-", "+") and self.peek(1).kind == lexing.INT:
                # A signed literal, so that -2147483648 is a valid integer on its own.
                self.advance()
                return self.integer(self.advance(), token.value, token.position)
            if self.at(lexing.SYMBOL, "-"):
                self.advance()
                return _negate(self.unary(), token.position)
            return self.primary()
        finally:
            self.nesting -= 1

    def primary(self) -> nodes.Node:
        token = self.advance()
        if token.kind == lexing.INT:
            return self.integer(token, "", token.position)
        if token.kind == lexing.STRING:
            return nodes.Literal(token.value, token.position)
        if token.kind == lexing.KEYWORD and token.value in ("TRUE", "FALSE"):
            return nodes.Literal(token.value == "TRUE", token.position)
        if token.kind == lexing.KEYWORD and token.value == "EXISTS":
            name = self.advance()
            if name.kind != lexing.WORD:
                raise self.unexpected(name, "an attribute name after EXISTS")
            return nodes.Exists(self.attribute_name(name), token.position)
        if token.kind == lexing.WORD and self.at(lexing.SYMBOL, "("):
            if not _FUNCTION_NAME.fullmatch(token.value):
                raise errors.ParseError(f"invalid function name {token.text!r}", token.position)
            args = self.arguments("the arguments", allow_empty=True)
            return nodes.Call(token.value.upper(), args, token.position)
        if token.kind == lexing.WORD:
            return nodes.Attribute(self.attribute_name(token), token.position)
        if token.kind == lexing.SYMBOL and token.value == "(":
            node = self.expression()
            self.expect(")", "')'")
            return node
        raise self.unexpected(token, "an expression")

    def arguments(self, what: str, *, allow_empty: bool) -> tuple[nodes.Node, ...]:
        self.expect("(", f"'(' to open {what}")
        if allow_empty and self.at(lexing.SYMBOL, ")"):
            self.advance()
            return ()
        items = [self.expression()]
        while self.at(lexing.SYMBOL, ","):
            self.advance()
            items.append(self.expression())
        self.expect(")", "',' or ')'")
        return tuple(items)

    def attribute_name(self, token: lexing.Token) -> str:
        if not _ATTRIBUTE_NAME.fullmatch(token.value):
            raise errors.ParseError(f"invalid attribute name {token.text!r}", token.position)
        return token.value.lower()

    def integer(self, token: lexing.Token, sign: str, position: int) -> nodes.Literal:
        digits = token.value.lstrip("0")
        # Bound the length first: int() of a huge digit string is slow, then refused.
        value = int(sign + (digits or "0")) if len(digits) <= 10 else INT_MAX + 1
        if not INT_MIN <= value <= INT_MAX:
            raise errors.ParseError(f"integer {sign}{token.value} is outside the 32-bit range",
                                    position)
        return nodes.Literal(value, position)


def _negate(operand: nodes.Node, position: int) -> nodes.Node:
    value = operand.value if isinstance(operand, nodes.Literal) else None
    if type(value) is int and -value <= INT_MAX:
        return nodes.Literal(-value, position)
    return nodes.Negate(operand, position)

