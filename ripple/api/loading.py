"""From YAML text to admitted resources: parse the documents, then default and validate.

Called by the CLI (`ripple apply -f`), the local platform's manifest loader and the API
server, for every object before it is stored. `admit` is Ripple's admission webhook: the
kind is looked up, a copy is defaulted and validated, and every broken rule is reported
at once as one `errors.Invalid` (HTTP 422) naming each field path, so nothing is stored.
Status is not validated: reconcilers write it, through the kinds' `*_lifecycle` modules.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from ripple import errors
from ripple.api import meta, registry
from ripple.errors import FieldError

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.SafeLoader):
    """YAML as Kubernetes reads it: JSON-shaped values, and duplicate keys refused.

    A date stays a string (an annotation value `2024-01-01` is text, and JSON has no date
    type), scalar keys become strings as sigs.k8s.io/yaml makes them, and a key given twice
    is an error rather than the silent last-one-wins of PyYAML.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _json_key(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = _json_key(loader.construct_object(key_node, deep=True))
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found a key that is not a string", key_node.start_mark,
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f'found duplicate key "{key}"', key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_documents(text: str) -> list[dict[str, Any]]:
    """The mappings of a multi-document YAML stream, skipping empty documents.

    Raises errors.Invalid naming `documents[i]` (counting every document from 0) when a
    document is not YAML or not a mapping.
    """
    found: list[dict[str, Any]] = []
    parsed = 0  # documents read so far: on a YAML error, the index of the failing one
    try:
        for position, document in enumerate(yaml.load_all(text, Loader=_Loader)):
            parsed = position + 1
            if document is None:
                continue
            if not isinstance(document, dict):
                kind = "a list" if isinstance(document, list) else f"the scalar {document!r}"
                raise errors.Invalid(FieldError(f"documents[{position}]", (
                    f"must be a mapping with apiVersion, kind and metadata, got {kind}"
                )))
            found.append(document)
    except yaml.YAMLError as error:
        raise errors.Invalid(
            FieldError(f"documents[{parsed}]", f"not valid YAML: {error}")
        ) from None
    return found


def admit(obj: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    """The defaulted copy of `obj`, or errors.Invalid (422) listing every broken rule.

    With `old` (the stored object) this is an update, and the kind's immutable fields are
    checked too, along with the identity (kind, name, namespace) of the object.
    """
    if not isinstance(obj, dict):
        raise errors.Invalid(FieldError("", (
            "a resource must be a mapping with apiVersion, kind and metadata"
        )), status=422)
    kind = registry.lookup(obj.get("apiVersion"), obj.get("kind"))  # type: ignore[arg-type]
    new = copy.deepcopy(obj)
    new["apiVersion"] = kind.api_version  # another served version converts to the stored one
    kind.set_defaults(new)
    problems = kind.validate(new)
    if old is not None:
        problems = [*problems, *meta.validate_update(old, new), *kind.validate_update(old, new)]
    if problems:
        raise errors.Invalid(problems, status=422)
    return new
