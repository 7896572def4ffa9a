"""CRD schemas as the API server applies them, for tests: strict field validation and the
structural-schema rules.

`strict(schema)` adds `additionalProperties: false` wherever a schema lists properties and
does not preserve unknown fields: `kubectl apply` asks for strict field validation by default
(since Kubernetes 1.27), so an unknown field is an error there rather than pruned.
`structural_problems(schema)` lists the places that break Kubernetes' structural-schema rules
(every node typed unless it preserves unknown fields or is int-or-string; no
`additionalProperties` beside `properties`).
"""

from __future__ import annotations

import copy
from typing import Any

PRESERVE = "x-kubernetes-preserve-unknown-fields"


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    _strict(schema)
    return schema


def _strict(node: dict[str, Any]) -> None:
    if "properties" in node and not node.get(PRESERVE):
        node["additionalProperties"] = False
    for child in (node.get("properties") or {}).values():
        _strict(child)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            _strict(node[key])


def structural_problems(node: dict[str, Any], path: str = "") -> list[str]:
    problems = []
    if "type" not in node and not node.get(PRESERVE) and not node.get("x-kubernetes-int-or-string"):
        problems.append(f"{path or '<root>'}: no type")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{path}: properties beside additionalProperties")
    if node.get("type") == "array" and not isinstance(node.get("items"), dict):
        problems.append(f"{path}: an array without items")
    for name, child in (node.get("properties") or {}).items():
        problems += structural_problems(child, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            problems += structural_problems(node[key], f"{path}[{key}]")
    return problems
