"""Closures for CESQL's operators (spec section 3.4), built by `compiling` from compiled operands.

Each closure takes the event mapping and returns a CESQL value: a class check on the hot
path, casts only when an operand has another type. A node's own failed cast yields the
zero value of its target and the node finishes, then raises with its result, so
`NOT 10` gives true and a CastError; a Failure from an operand passes straight through.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import NoReturn

from ripple.cesql import casting, errors, nodes, patterns

Value = casting.Value
Evaluator = Callable[[Mapping[str, object]], Value]

_PRIMITIVES = casting.PRIMITIVES
_COMPUTE: dict[str, Callable[[int, int], int]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: _divide(a, b),
    "%": lambda a, b: a - b * _divide(a, b),
}
_COMPARE: dict[str, Callable[[Value, Value], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<>": operator.ne,
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def fail(node: nodes.Node, kind: errors.Kind, message: str, value: Value) -> NoReturn:
    raise errors.Failure(kind, message, node.position, value, node)


def _divide(a: int, b: int) -> int:
    quotient = abs(a) // abs(b)  # truncates toward zero, where // alone floors
    return quotient if (a < 0) == (b < 0) else -quotient


def not_(node: nodes.Not, operand: Evaluator) -> Evaluator:
    def negation(event: Mapping[str, object]) -> Value:
        value = operand(event)
        if value is True:
            return False
        if value is False:
            return True
        truth, problem = casting.to_bool(value)
        if problem:
            fail(node, errors.CAST, problem, not truth)
        return not truth

    return negation


def negate(node: nodes.Negate, operand: Evaluator) -> Evaluator:
    def minus(event: Mapping[str, object]) -> Value:
        number, problem = casting.to_int(operand(event))
        result, overflow = casting.clamp(-number)
        if problem or overflow:
            fail(node, errors.CAST if problem else errors.MATH, problem or overflow or "", result)
        return result

    return minus


def binary(node: nodes.Binary, left: Evaluator, right: Evaluator) -> Evaluator:
    if node.op in nodes.ARITHMETIC:
        return _arithmetic(node, left, right, _COMPUTE[node.op])
    if node.op in nodes.EQUALITY:
        return _equality(node, left, right, _COMPARE[node.op])
    return _ordering(node, left, right, _COMPARE[node.op])


def _arithmetic(node: nodes.Binary, left: Evaluator, right: Evaluator,
                compute: Callable[[int, int], int]) -> Evaluator:
    def arithmetic(event: Mapping[str, object]) -> Value:
        a, b = left(event), right(event)
        problem = None
        if a.__class__ is not int or b.__class__ is not int:
            (a, problem), (b, other) = casting.to_int(a), casting.to_int(b)
            problem = problem or other
        try:
            result, overflow = casting.clamp(compute(a, b))
        except ZeroDivisionError:
            result, overflow = 0, "division by zero"
        if problem:
            fail(node, errors.CAST, problem, result)
        if overflow:
            fail(node, errors.MATH, overflow, result)
        return result

    return arithmetic


def _equality(node: nodes.Binary, left: Evaluator, right: Evaluator,
              compare: Callable[[Value, Value], bool]) -> Evaluator:
    def equality(event: Mapping[str, object]) -> Value:
        a, b = left(event), right(event)
        if a.__class__ is b.__class__:
            return compare(a, b)
        # `=` is overloaded: the right operand's type picks the overload (section 3.7).
        a, problem = casting.cast(a, b.__class__)
        result = compare(a, b)
        if problem:
            fail(node, errors.CAST, problem, result)
        return result

    if (isinstance(node.left, nodes.Attribute) and isinstance(node.right, nodes.Literal)
            and node.right.value.__class__ is str):
        literal = node.right.value
        test = literal.__eq__ if compare is operator.eq else literal.__ne__
        return on_string_attribute(node.left.name, test, equality)
    return equality


def on_string_attribute(name: str, test: Callable[[str], bool], general: Evaluator) -> Evaluator:
    """`test` straight on a string attribute: the shape of most trigger filters
    (`type = '...'`, `source LIKE '...%'`). Anything else takes the general path."""

    def shortcut(event: Mapping[str, object]) -> Value:
        value = event.get(name)
        if value.__class__ is str:
            return test(value)
        return general(event)

    return shortcut


def _ordering(node: nodes.Binary, left: Evaluator, right: Evaluator,
              compare: Callable[[Value, Value], bool]) -> Evaluator:
    def ordering(event: Mapping[str, object]) -> Value:
        a, b = left(event), right(event)
        if a.__class__ is int and b.__class__ is int:
            return compare(a, b)
        (a, problem), (b, other) = casting.to_int(a), casting.to_int(b)
        result = compare(a, b)
        if problem or other:
            fail(node, errors.CAST, problem or other or "", result)
        return result

    return ordering


def logical(node: nodes.Logical, operands: tuple[Evaluator, ...]) -> Evaluator:
    if node.op == "XOR":
        return _xor(node, operands)
    # AND stops at the first false and OR at the first true (spec section 3.4.2).
    stop = node.op == "OR"
    go = not stop

    def rest(event: Mapping[str, object], index: int, value: Value) -> Value:
        # Slow path, from the first operand that is not a boolean: cast and carry on.
        problem = None
        while True:
            if value is not True and value is not False:
                value, trouble = casting.to_bool(value)
                problem = problem or trouble
            index += 1
            if value is stop or index == len(operands):
                break
            value = operands[index](event)
        result = stop if value is stop else go
        if problem:
            fail(node, errors.CAST, problem, result)
        return result

    def chain(event: Mapping[str, object]) -> Value:
        for index, operand in enumerate(operands):
            value = operand(event)
            if value is stop:
                return stop
            if value is not go:
                return rest(event, index, value)
        return go

    if len(operands) > 2:
        return chain
    first, second = operands

    def pair(event: Mapping[str, object]) -> Value:  # the common case, without the loop
        value = first(event)
        if value is stop:
            return stop
        if value is not go:
            return rest(event, 0, value)
        value = second(event)
        return value if value is stop or value is go else rest(event, 1, value)

    return pair


def _xor(node: nodes.Logical, operands: tuple[Evaluator, ...]) -> Evaluator:
    def xor(event: Mapping[str, object]) -> Value:
        parity, problem = False, None
        for operand in operands:
            value = operand(event)
            if value is not True and value is not False:
                value, trouble = casting.to_bool(value)
                problem = problem or trouble
            parity ^= value
        if problem:
            fail(node, errors.CAST, problem, parity)
        return parity

    return xor


def like(node: nodes.Like, operand: Evaluator) -> Evaluator:
    matcher, negated = patterns.compile_pattern(node.pattern), node.negated

    def matches(event: Mapping[str, object]) -> Value:
        value = operand(event)
        if value.__class__ is not str:
            value = casting.to_string(value)
        return matcher(value)

    def not_like(event: Mapping[str, object]) -> Value:
        value = operand(event)
        if value.__class__ is not str:
            value = casting.to_string(value)
        return not matcher(value)

    if isinstance(node.operand, nodes.Attribute) and not negated:
        return on_string_attribute(node.operand.name, matcher, matches)
    return not_like if negated else matches


def in_(node: nodes.In, operand: Evaluator, items: tuple[Evaluator, ...]) -> Evaluator:
    negated = node.negated
    # The left operand's type is the target of every cast (section 3.7), so a set of
    # literals can be cast ahead of time, once per possible left type.
    constant: dict[type, frozenset[Value]] = {}
    literals = [item.value for item in node.items if isinstance(item, nodes.Literal)]
    if len(literals) == len(node.items):
        for target in _PRIMITIVES:
            cast = [casting.cast(literal, target) for literal in literals]
            if not any(problem for _, problem in cast):
                constant[target] = frozenset(value for value, _ in cast)

    def member(event: Mapping[str, object]) -> Value:
        value = operand(event)
        target = value.__class__
        known = constant.get(target)
        if known is not None:
            return (value in known) is not negated
        found, problem = False, None
        for item in items:
            candidate = item(event)
            if candidate.__class__ is not target:
                candidate, trouble = casting.cast(candidate, target)
                problem = problem or trouble
            found = found or candidate == value
        if problem:
            fail(node, errors.CAST, problem, found is not negated)
        return found is not negated

    return member
