"""The `suffix` dialect of `spec.filters`: each attribute's text ends with its value.

Upstream: `pkg/eventfilter/subscriptionsapi/suffix_filter.go`. Called by `compiling`.
Suffix triggers are not indexed; `indexing` evaluates them for every event.
"""

from __future__ import annotations

from collections.abc import Mapping

from broker.filters import values


def make_suffix_filter(expected: Mapping[str, str]) -> values.Filter:
    """All pairs must hold (case-sensitive); a missing attribute fails.

    Raises ValueError on an empty name or value.
    """
    values.check_pairs("suffix", expected)
    pairs = tuple(expected.items())

    def suffix_filter(attributes: values.Attributes) -> bool:
        for name, want in pairs:
            value = attributes.get(name)
            if value is None or not values.text_of(value).endswith(want):
                return False
        return True

    return suffix_filter
