"""Compiles a syntax tree into nested Python closures, once per expression, for `expressions`.

Evaluating is then a chain of plain calls: no tree walk, no dispatch on node kinds. This
module compiles the leaves (literals, attributes, EXISTS, function calls) and hands the
operators to `operators`. Errors leave as a `Failure` (see `errors`), so the first one
ends the evaluation: the spec's fail-fast mode (section 4.1), which it asks of filters.
"""

from __future__ import annotations

from collections.abc import Mapping

from ripple.cesql import casting, errors, functions, nodes, operators

Value = casting.Value
Evaluator = operators.Evaluator

_ABSENT = object()
# Required attributes always exist: the event is assumed valid (spec section 3.4.4).
_REQUIRED = frozenset({"specversion", "id", "source", "type"})
_PRIMITIVES = casting.PRIMITIVES


def compile_node(node: nodes.Node) -> Evaluator:
    if isinstance(node, nodes.Literal):
        value = node.value
        return lambda event: value
    if isinstance(node, nodes.Attribute):
        return _attribute(node)
    if isinstance(node, nodes.Exists):
        return _exists(node)
    if isinstance(node, nodes.Not):
        return operators.not_(node, compile_node(node.operand))
    if isinstance(node, nodes.Negate):
        return operators.negate(node, compile_node(node.operand))
    if isinstance(node, nodes.Binary):
        return operators.binary(node, compile_node(node.left), compile_node(node.right))
    if isinstance(node, nodes.Logical):
        return operators.logical(node, tuple(compile_node(o) for o in node.operands))
    if isinstance(node, nodes.Like):
        return operators.like(node, compile_node(node.operand))
    if isinstance(node, nodes.In):
        items = tuple(compile_node(item) for item in node.items)
        return operators.in_(node, compile_node(node.operand), items)
    return _call(node)


def result_type(node: nodes.Node) -> type:
    """The static type of a node, whose zero value it yields after an inner error."""
    if isinstance(node, nodes.Literal):
        return type(node.value)
    if isinstance(node, nodes.Negate) or (
        isinstance(node, nodes.Binary) and node.op in nodes.ARITHMETIC
    ):
        return int
    if isinstance(node, nodes.Call):
        builtin = functions.resolve(node.name, len(node.args))
        return builtin.returns if builtin else bool
    return bool  # the spec's default when the type cannot be known, as for attributes


def _attribute(node: nodes.Attribute) -> Evaluator:
    name = node.name

    def attribute(event: Mapping[str, object]) -> Value:
        value = event.get(name, _ABSENT)
        # One set lookup per attribute read, the cheapest test there is, and it refuses
        # subclasses (to_value converts them); mypy cannot narrow on it, hence the ignore.
        if value.__class__ in _PRIMITIVES:
            return value  # type: ignore[return-value]
        if value is _ABSENT or value is None:
            # Boolean: the spec's type for a subexpression whose type cannot be known.
            operators.fail(node, errors.MISSING_ATTRIBUTE, f"missing attribute {name!r}", False)
        return casting.to_value(value)

    return attribute


def _exists(node: nodes.Exists) -> Evaluator:
    name = node.name
    if name in _REQUIRED:
        return lambda event: True
    return lambda event: event.get(name) is not None


def _call(node: nodes.Call) -> Evaluator:
    name, arity = node.name, len(node.args)
    builtin = functions.resolve(name, arity)
    if builtin is None:
        # The TCK wants this at evaluation (CONCAT_WS() is a MissingFunctionError), not parse.
        message = f"no function {name} takes {arity} argument{'' if arity == 1 else 's'}"

        def missing(event: Mapping[str, object]) -> Value:
            operators.fail(node, errors.MISSING_FUNCTION, message, False)

        return missing
    impl = builtin.impl
    params = builtin.params + (builtin.rest,) * (arity - len(builtin.params))
    args = tuple(zip((compile_node(arg) for arg in node.args), params))

    def call(event: Mapping[str, object]) -> Value:
        values, problem = [], None
        for evaluate, target in args:
            value = evaluate(event)
            if target is not None and value.__class__ is not target:
                value, trouble = casting.cast(value, target)
                problem = problem or trouble
            values.append(value)
        try:
            result: Value = impl(*values)
        except functions.Refusal as refusal:
            operators.fail(node, refusal.kind, f"{name}: {refusal.message}", refusal.value)
        if problem:
            operators.fail(node, errors.CAST, f"{name}: {problem}", result)
        return result

    return call
