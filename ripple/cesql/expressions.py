"""The Expression object: parsed and compiled once, then evaluated against many events.

`parse` is called by API validation (a ParseError is a 400) and by the broker when it
loads a trigger; `matches` is called by the broker's filter for every event, so it does
nothing but call the compiled closures.
"""

from __future__ import annotations

from collections.abc import Mapping

from ripple.cesql import casting, compiling, errors, nodes, parsing


class Expression:
    """A compiled CESQL expression. Immutable and safe to share between tasks."""

    __slots__ = ("_evaluator", "_node", "_zero", "text")

    def __init__(self, text: str, node: nodes.Node) -> None:
        self.text = text
        self._node = node
        self._evaluator = compiling.compile_node(node)
        self._zero = casting.ZERO[compiling.result_type(node)]

    def evaluate(
        self, event: Mapping[str, object]
    ) -> tuple[casting.Value, list[errors.EvaluationError]]:
        """The value of the expression for `event` (its context attributes, lower-case names),
        and the errors met. After an error the value is still defined: the zero value of the
        expression's type, or the value the failing node itself gives when it is the root
        (`NOT 10` is true). Evaluation stops at the first error, so the list holds at most one.
        """
        try:
            return self._evaluator(event), []
        except errors.Failure as failure:
            value = failure.value if failure.origin is self._node else self._zero
            return value, [failure.error]

    def matches(self, event: Mapping[str, object]) -> bool:
        """Filter semantics (spec section 1.2): the value is the boolean true, and no error."""
        try:
            return self._evaluator(event) is True
        except errors.Failure:
            return False

    def __repr__(self) -> str:
        return f"cesql.Expression({self.text!r})"

    def __str__(self) -> str:
        return nodes.render(self._node)


def parse(text: str) -> Expression:
    """Parse and compile `text`; raises ParseError (a ripple.errors.Invalid) if it is not CESQL."""
    return Expression(text, parsing.parse(text))


def matches(expression: Expression, event: Mapping[str, object]) -> bool:
    return expression.matches(event)
