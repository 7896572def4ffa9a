"""A small, well-defined subset of kubectl's JSONPath templates, for `-o jsonpath=...`.

Called by `ripple.cli.output.render_jsonpath`. Pure: a template and an object in, text out.

Supported (kubectl's meaning for each):
- text outside braces, printed as is;
- `{.a.b}`: a field path; `{.a['k.with.dots']}` for a key with dots; `{.}` or `{@}` the node;
- `{.items[0]}`, `{.items[-1]}`: an index; `{.items[*].metadata.name}`: every element;
  `{.spec.*}`: every value of a map;
- `{range .items[*]}...{end}`: the inner template once per element (nestable);
- `{"\\n"}`, `{"\\t"}`, `{"text"}`: a literal, with `\\n`, `\\t`, `\\\\` and `\\"` escapes.
Several results of one expression are joined by a space, as kubectl does. Strings print
raw, numbers and booleans as JSON, maps and lists as compact JSON. A missing key prints
nothing (kubectl get's allowMissingKeys). Anything else, notably filters `[?(...)]`,
slices `[1:3]`, recursive descent `..` and unions `[a,b]`, is an error naming what is
supported, never a silent empty result.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ripple import errors

SUPPORTED = ("{.a.b}, {.a['k']}, {.list[0]}, {.list[*].x}, {.map.*}, "
             "{range .list[*]}...{end} and {\"text\"}")

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_INDEX = re.compile(r"\[(-?\d+|\*)\]")
_QUOTED = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}


class JsonPathError(errors.Invalid):
    """A template outside the supported subset, or unbalanced braces or ranges."""


@dataclass
class _Node:
    kind: str  # "text", "path", "range"
    value: Any = None
    children: list[_Node] = field(default_factory=list)


def render(template: str, obj: Any) -> str:
    """The template filled from `obj`."""
    return "".join(_run(parse(template), obj))


def parse(template: str) -> list[_Node]:
    """The template as a tree; raises JsonPathError on anything outside the subset."""
    root: list[_Node] = []
    stack = [root]
    for is_expr, piece in _pieces(template):
        if not is_expr:
            stack[-1].append(_Node("text", piece))
            continue
        expr = piece.strip()
        if expr == "end":
            if len(stack) == 1:
                raise JsonPathError(f"jsonpath {template!r}: {{end}} without {{range}}")
            stack.pop()
        elif expr.startswith("range ") or expr == "range":
            node = _Node("range", _steps(expr[len("range"):].strip(), template))
            stack[-1].append(node)
            stack.append(node.children)
        elif expr.startswith('"'):
            stack[-1].append(_Node("text", _literal(expr, template)))
        else:
            stack[-1].append(_Node("path", _steps(expr, template)))
    if len(stack) != 1:
        raise JsonPathError(f"jsonpath {template!r}: a {{range}} has no {{end}}")
    return root


def _pieces(template: str) -> Iterator[tuple[bool, str]]:
    """(False, text) and (True, expression) in order; braces inside quotes are text."""
    i, start = 0, 0
    while i < len(template):
        char = template[i]
        if char == "}":
            raise JsonPathError(f"jsonpath {template!r}: '}}' at {i} closes nothing")
        if char != "{":
            i += 1
            continue
        if i > start:
            yield False, template[start:i]
        j, quote = i + 1, ""
        while j < len(template) and (quote or template[j] != "}"):
            if quote and template[j] == "\\":
                j += 1
            elif template[j] in "\"'":
                quote = "" if quote == template[j] else quote or template[j]
            elif template[j] == "{" and not quote:
                raise JsonPathError(f"jsonpath {template!r}: '{{' at {j} inside an expression")
            j += 1
        if j >= len(template):
            raise JsonPathError(f"jsonpath {template!r}: '{{' at {i} is never closed")
        yield True, template[i + 1:j]
        i = start = j + 1
    if start < len(template):
        yield False, template[start:]


def _literal(expr: str, template: str) -> str:
    if len(expr) < 2 or not expr.endswith('"'):
        raise JsonPathError(f"jsonpath {template!r}: unterminated string {expr}")
    body, out, i = expr[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


Step = tuple[str, Any]
"""("key", name), ("index", n) or ("all", None): every element of a list or value of a map."""


def _steps(expr: str, template: str) -> list[Step]:
    """`.a['b'][0][*]` as steps."""
    def refuse(at: str) -> JsonPathError:
        return JsonPathError(f"jsonpath {template!r}: unsupported syntax {at!r} in {{{expr}}}; "
                             f"supported: {SUPPORTED}")

    if expr in (".", "@", "$", "$."):
        return []
    rest = expr[1:] if expr.startswith(("$", "@")) else expr
    if not rest.startswith((".", "[")):
        raise refuse(rest or expr)
    steps: list[Step] = []
    while rest:
        if rest.startswith(".."):
            raise refuse(rest)
        if rest.startswith(".*"):
            steps.append(("all", None))
            rest = rest[2:]
        elif rest.startswith("."):
            found = _NAME.match(rest, 1)
            if found is None:
                raise refuse(rest)
            steps.append(("key", found.group()))
            rest = rest[found.end():]
        elif (index := _INDEX.match(rest)) is not None:
            which = index.group(1)
            steps.append(("all", None) if which == "*" else ("index", int(which)))
            rest = rest[index.end():]
        elif (quoted := _QUOTED.match(rest)) is not None:
            key = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
            steps.append(("key", re.sub(r"\\(.)", r"\1", key)))
            rest = rest[quoted.end():]
        else:
            raise refuse(rest)
    return steps


def _select(steps: list[Step], node: Any) -> list[Any]:
    nodes = [node]
    for kind, arg in steps:
        found: list[Any] = []
        for each in nodes:
            if kind == "all" and isinstance(each, list):
                found += each
            elif kind == "all" and isinstance(each, dict):
                found += list(each.values())
            elif kind == "index" and isinstance(each, list) and -len(each) <= arg < len(each):
                found.append(each[arg])
            elif kind == "key" and isinstance(each, dict) and arg in each:
                found.append(each[arg])
        nodes = found
    return nodes


def _run(nodes: list[_Node], current: Any) -> Iterator[str]:
    for node in nodes:
        if node.kind == "text":
            yield node.value
        elif node.kind == "path":
            yield " ".join(_text(value) for value in _select(node.value, current))
        else:
            for item in _select(node.value, current):
                yield from _run(node.children, item)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return json.dumps(value)
