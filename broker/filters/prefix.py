"""The `prefix` dialect of `spec.filters`: each attribute's text starts with its value.

Upstream: `pkg/eventfilter/subscriptionsapi/prefix_filter.go`. Called by `compiling`;
`indexing` also finds prefix triggers by probing the event's attribute text.
"""

from __future__ import annotations

from collections.abc import Mapping

from broker.filters import values


def make_prefix_filter(expected: Mapping[str, str]) -> values.Filter:
    """All pairs must hold (case-sensitive); a missing attribute fails.

    Raises ValueError on an empty name or value.
    """
    values.check_pairs("prefix", expected)
    pairs = tuple(expected.items())

    def prefix_filter(attributes: values.Attributes) -> bool:
        for name, want in pairs:
            value = attributes.get(name)
            if value is None or not values.text_of(value).startswith(want):
                return False
        return True

    return prefix_filter
