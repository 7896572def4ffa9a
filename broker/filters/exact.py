"""The `exact` dialect of `spec.filters`: each attribute's text equals its value.

Upstream: `pkg/eventfilter/subscriptionsapi/exact_filter.go`. Called by `compiling`;
`indexing` buckets triggers by the same equalities, so both must stringify alike
(`values.text_of`).
"""

from __future__ import annotations

from collections.abc import Mapping

from broker.filters import values


def make_exact_filter(expected: Mapping[str, str]) -> values.Filter:
    """All pairs must hold; a missing attribute fails.

    Raises ValueError on an empty name or value.
    """
    values.check_pairs("exact", expected)
    pairs = tuple(expected.items())
    if len(pairs) == 1:
        # The webhook allows one pair per map, so this is the shape nearly every filter has.
        ((name, want),) = pairs

        def exact_one(attributes: values.Attributes) -> bool:
            value = attributes.get(name)
            return value is not None and values.text_of(value) == want

        return exact_one

    def exact_all(attributes: values.Attributes) -> bool:
        for name, want in pairs:
            value = attributes.get(name)
            if value is None or values.text_of(value) != want:
                return False
        return True

    return exact_all
