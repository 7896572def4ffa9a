"""Tables over `ripple.decoding`, the one manifest decoder of the CLI and the server.
The YAML rules are tabled through `loading.load_documents` in test_api_loading.py; these
are the JSON side and the error's document index."""

from __future__ import annotations

from typing import Any

import pytest

from ripple import decoding


@pytest.mark.parametrize("text, expected", [
    ('{"a": 1, "b": {"c": [true, null]}}', [{"a": 1, "b": {"c": [True, None]}}]),
    ('{\n\t"since": "2024-01-01"\n}', [{"since": "2024-01-01"}]),  # tabs: JSON, not YAML
    ("[1, 2]", [[1, 2]]),
])
def test_decode_json(text: str, expected: list[Any]) -> None:
    assert decoding.decode(text, as_json=True) == expected


@pytest.mark.parametrize("text, message", [
    ('{"a": 1,\n "b": {"c": 1,\n  "c": 2}}', 'line 3: key "c" already set in map (first at line 2)'),
    # Tab-indented JSON: libyaml reads it and names the line; PyYAML's own parser cannot,
    # and the key is named either way.
    ('{"a": 1,\n\t"a": 2}', 'key "a" already set in map'),
    ('{"a": 1,}', "Expecting property name enclosed in double quotes: line 1 column 9"),
    ("", "Expecting value: line 1 column 1"),
])
def test_decode_json_refuses(text: str, message: str) -> None:
    with pytest.raises(decoding.DecodeError) as caught:
        decoding.decode(text, as_json=True)
    assert message in caught.value.message
    assert "\n" not in str(caught.value)


def test_a_yaml_error_names_the_failing_document() -> None:
    with pytest.raises(decoding.DecodeError) as caught:
        decoding.decode("a: 1\n---\nb: 2\n---\nc: [\n")
    assert caught.value.document == 2
    assert caught.value.message.startswith("line 6, column 1: ")


@pytest.mark.parametrize("document, expected", [
    ({"kind": "List", "items": []}, True),
    ({"kind": "BrokerList", "items": [{}]}, True),
    ({"kind": "List"}, False),  # no items: a kind of its own, for admission to refuse
    ({"kind": "Broker", "items": []}, False),
    ([{"kind": "List", "items": []}], False),
])
def test_is_list(document: Any, expected: bool) -> None:
    assert decoding.is_list(document) is expected
