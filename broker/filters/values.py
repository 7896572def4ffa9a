"""The shared vocabulary of the trigger filters: the `Filter` callable and attribute text.

Every dialect module (`attributes`, `exact`, `prefix`, `suffix`, `logical`, `cesql`) and
the `compiling` and `indexing` modules import this one. Nothing here is public beyond
`Filter`, which `broker.filters` re-exports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Attributes = Mapping[str, object]
"""A CloudEvent's context attributes: lower-case names, extensions included."""

Filter = Callable[[Attributes], bool]
"""Pass (True) or fail (False) for one event's attributes."""


def text_of(value: object) -> str:
    """The string form an attribute is compared by.

    Knative's `exact` dialect compares `fmt.Sprintf("%v", value)`. We want the JSON
    spelling instead, so a boolean extension set to `true` in structured mode equals the
    string "true" that the same extension carries in binary mode.
    """
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def lookup_text(attributes: Attributes, name: str) -> str | None:
    """The text of attribute `name`, or None when the event does not carry it.

    A None value counts as absent: JSON `null` means "not set" in CloudEvents.
    """
    value = attributes.get(name)
    if value is None:
        return None
    return text_of(value)


def check_pairs(dialect: str, pairs: Mapping[str, str]) -> None:
    """Raise ValueError unless every name and value in a dialect map is a non-empty string.

    Upstream's `NewExactFilter`/`NewPrefixFilter`/`NewSuffixFilter` refuse such maps and
    the broker then skips the filter. `compiling` and `indexing` must agree on which
    maps are refused, so both ask this one function.
    """
    for name, value in pairs.items():
        if not isinstance(name, str) or not isinstance(value, str) or not name or not value:
            raise ValueError(f"{dialect}: attribute and value can't be empty: {name!r}: {value!r}")


def pairs_are_usable(dialect: str, pairs: Mapping[str, str]) -> bool:
    try:
        check_pairs(dialect, pairs)
    except ValueError:
        return False
    return True
