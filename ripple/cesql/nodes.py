"""The syntax tree of a CESQL expression: built by `parsing`, turned into closures by `compiling`.

Nodes are frozen values; each keeps the position of its operator or first character, so
errors can point into the text. `render` prints a node fully parenthesized, which is how
the tests pin precedence and how an Expression shows itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from ripple.cesql import casting

ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
EQUALITY = frozenset({"=", "!=", "<>"})
ORDERING = frozenset({"<", "<=", ">", ">="})


@dataclass(frozen=True, slots=True)
class Literal:
    value: casting.Value
    position: int


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str  # lower-cased: CloudEvents attribute names are
    position: int


@dataclass(frozen=True, slots=True)
class Exists:
    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    position: int


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node
    position: int


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic, equality and ordering operators: `op` is the symbol."""

    op: str
    left: Node
    right: Node
    position: int


@dataclass(frozen=True, slots=True)
class Logical:
    """AND, OR or XOR over two or more operands; a run of one operator is kept flat."""

    op: str
    operands: tuple[Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Like:
    operand: Node
    pattern: str
    negated: bool
    position: int


@dataclass(frozen=True, slots=True)
class In:
    operand: Node
    items: tuple[Node, ...]
    negated: bool
    position: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # upper-cased: function names are case-insensitive
    args: tuple[Node, ...]
    position: int


Node = Literal | Attribute | Exists | Not | Negate | Binary | Logical | Like | In | Call


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Not, Negate)):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, Like):
        return (node.operand,)
    if isinstance(node, In):
        return (node.operand, *node.items)
    if isinstance(node, Call):
        return node.args
    return ()


def depth(node: Node) -> int:
    """Levels of nesting, counted without recursion so that any tree can be measured."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(current))
    return deepest


def render(node: Node) -> str:
    if isinstance(node, Literal):
        return _literal(node.value)
    if isinstance(node, Attribute):
        return node.name
    if isinstance(node, Exists):
        return f"(EXISTS {node.name})"
    if isinstance(node, Not):
        return f"(NOT {render(node.operand)})"
    if isinstance(node, Negate):
        return f"(-{render(node.operand)})"
    if isinstance(node, Binary):
        return f"({render(node.left)} {node.op} {render(node.right)})"
    if isinstance(node, Logical):
        return "(" + f" {node.op} ".join(render(o) for o in node.operands) + ")"
    if isinstance(node, Like):
        keyword = "NOT LIKE" if node.negated else "LIKE"
        return f"({render(node.operand)} {keyword} {_literal(node.pattern)})"
    if isinstance(node, In):
        keyword = "NOT IN" if node.negated else "IN"
        items = ", ".join(render(i) for i in node.items)
        return f"({render(node.operand)} {keyword} ({items}))"
    return f"{node.name}(" + ", ".join(render(a) for a in node.args) + ")"


def _literal(value: casting.Value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "\\'") + "'"
