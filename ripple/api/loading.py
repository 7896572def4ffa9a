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

from ripple import decoding, errors
from ripple.api import meta, registry
from ripple.errors import FieldError


def load_documents(text: str, *, as_json: bool = False) -> list[dict[str, Any]]:
    """The mappings of a multi-document YAML stream (or one JSON value), skipping empty
    documents and expanding kubectl's `kind: List` into its items.

    The text is read by `ripple.decoding`, the decoder the CLI uses too: dates stay
    strings and a duplicated key is refused with its line, as Kubernetes does.

    Raises errors.Invalid naming `documents[i]` (counting every document from 0), or
    `documents[i].items[j]` in a List, when a document is not YAML or not a mapping.
    """
    try:
        documents = decoding.decode(text, as_json=as_json)
    except decoding.DecodeError as error:
        what = "JSON" if as_json else "YAML"
        raise errors.Invalid(
            FieldError(f"documents[{error.document}]", f"not valid {what}: {error.message}")
        ) from None
    found: list[dict[str, Any]] = []
    for position, document in enumerate(documents):
        if document is None:
            continue
        path = f"documents[{position}]"
        if decoding.is_list(document):
            items = document["items"] or []
            if not isinstance(items, list):
                raise errors.Invalid(FieldError(f"{path}.items", _not_a_mapping(items, "a list")))
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    raise errors.Invalid(FieldError(f"{path}.items[{index}]", _not_a_mapping(item)))
                found.append(item)
            continue
        if not isinstance(document, dict):
            raise errors.Invalid(FieldError(path, _not_a_mapping(document)))
        found.append(document)
    return found


def _not_a_mapping(value: object, wanted: str = "a mapping with apiVersion, kind and metadata") -> str:
    got = (
        "a list" if isinstance(value, list)
        else "a mapping" if isinstance(value, dict)
        else f"the scalar {value!r}"
    )
    return f"must be {wanted}, got {got}"


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
