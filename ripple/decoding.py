"""Manifest text to JSON-shaped documents, as Kubernetes decodes YAML and JSON: one decoder.

Called by `ripple.api.loading.load_documents` (the API server and `ripple up -f`) and by
the CLI's `ripple apply -f` / `ripple delete -f` (`ripple.cli.commands.apply`), so both
read a manifest the same way. It lives outside `ripple.api` on purpose: importing
`ripple.api` registers every kind (about 190 ms), and the CLI must stay quick to start;
this module costs PyYAML's import and nothing more.

The rules are sigs.k8s.io/yaml's (YAML is converted to JSON before Kubernetes reads it):
- a value is a JSON value: a date such as `2024-01-01` stays the string it looks like,
  where PyYAML would make a `datetime.date` (which no JSON body can carry), and what has
  no JSON form (`.nan`, `.inf`, `!!binary`, `!!set`) is refused with its line;
- scalar keys become strings (`1:` is the key "1", `true:` is "true");
- a key given twice in one mapping is refused, naming the key and its line, where PyYAML
  silently keeps the last one (Kubernetes' strict decoding: `key "x" already set in map`).
Every failure is `DecodeError`, one line, so callers prefix it with the file or document.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from ripple import errors

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class DecodeError(errors.Invalid):
    """The text is not YAML (or JSON), or breaks one of the rules above; one line."""

    def __init__(self, message: str, *, document: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.document = document  # 0-based index of the failing document in the stream


_SAFE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it: the pure-Python one took 0.77 s to read
a thousand Triggers, a quarter of `ripple apply -f` of them."""


class _Loader(_SAFE):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader with JSON-shaped values and duplicate keys refused."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Duplicate(yaml.YAMLError):
    def __init__(self, key: str, line: int, first_line: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first_line = key, line, first_line


def _json_key(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
    # `<<: *anchor` merges: flatten puts the merged pairs first; the mapping's own keys
    # override them (YAML's merge rule), and only the own keys can be duplicates.
    loader.flatten_mapping(node)
    merged = len(node.value) - own
    result: dict[Any, Any] = {}
    lines: dict[str, int] = {}
    for position, (key_node, value_node) in enumerate(node.value):
        key = _json_key(loader.construct_object(key_node, deep=True))
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, "found a key that is not a string", key_node.start_mark
            )
        line = key_node.start_mark.line + 1
        if position >= merged:
            if key in lines:
                raise _Duplicate(key, line, lines[key])
            lines[key] = line
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> str:
    """An explicit `!!timestamp` is still text once it is JSON."""
    return str(loader.construct_scalar(node))


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> float:
    value = float(loader.construct_yaml_float(node))
    if not math.isfinite(value):
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value} is not a JSON number", node.start_mark
        )
    return value


def _refuse(loader: _Loader, node: yaml.Node) -> None:
    raise yaml.constructor.ConstructorError(
        None, None, f"!!{node.tag.rpartition(':')[2]} has no JSON form", node.start_mark
    )


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
for _tag in ("binary", "set", "omap", "pairs"):  # bytes, sets and tuples: not JSON values
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)


def _one_line(error: yaml.YAMLError) -> str:
    """PyYAML's multi-line message as `line L, column C: problem (context)`."""
    if isinstance(error, _Duplicate):
        return f'line {error.line}: key "{error.key}" already set in map (first at line {error.first_line})'
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        context = f" ({error.context})" if error.context else ""
        return f"{where}{error.problem or 'invalid YAML'}{context}"
    return str(error).replace("\n", " ")


def decode_yaml(text: str) -> list[Any]:
    """Every document of a YAML stream, JSON-shaped; an empty document is None."""
    found: list[Any] = []  # filled as the stream is read: its length names a failing document
    try:
        found.extend(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as error:
        raise DecodeError(_one_line(error), document=len(found)) from None
    return found


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(key, 0, 0)
        result[key] = value
    return result


def decode_json(text: str) -> Any:
    """One JSON value; a duplicated key is refused as in YAML, with its line when found."""
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicates)
    except _Duplicate as duplicate:
        try:  # JSON's scanner keeps no positions; the YAML reader of the same text does
            decode_yaml(text)
        except DecodeError as located:
            if f'key "{duplicate.key}"' in located.message:
                raise DecodeError(located.message) from None
        raise DecodeError(f'key "{duplicate.key}" already set in map') from None
    except ValueError as error:  # json.JSONDecodeError, UnicodeDecodeError
        raise DecodeError(str(error)) from None


def decode(text: str, *, as_json: bool = False) -> list[Any]:
    """The documents of a manifest: a YAML stream, or (`as_json`) one JSON value."""
    return [decode_json(text)] if as_json else decode_yaml(text)


def is_list(document: Any) -> bool:
    """kubectl's `kind: List` (or any `*List`, as `kubectl get -o yaml` writes) with items."""
    return (
        isinstance(document, dict)
        and str(document.get("kind", "")).endswith("List")
        and "items" in document
    )
