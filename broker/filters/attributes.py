"""The legacy `spec.filter.attributes` dialect: exact, case-sensitive equality, ANDed.

Upstream: `pkg/eventfilter/attributes`. Called by `compiling` when a trigger has no
non-empty `spec.filters`.
"""

from __future__ import annotations

from collections.abc import Mapping

from broker.filters import values

ANY_VALUE = ""
"""Upstream's `TriggerAnyFilter`: the attribute must be present, with any non-empty value."""


def make_attributes_filter(expected: Mapping[str, str]) -> values.Filter:
    """Every listed attribute must be present; a non-empty value must equal exactly.

    An empty `expected` passes everything, but `compiling` never asks for one: upstream
    treats an empty map as no filter at all.
    """
    # Split once here so the per-event loop does no branching on the filter's shape.
    present = tuple(name for name, value in expected.items() if value == ANY_VALUE)
    equal = tuple((name, value) for name, value in expected.items() if value != ANY_VALUE)

    def attributes_filter(attributes: values.Attributes) -> bool:
        for name, want in equal:
            value = attributes.get(name)
            if value is None or values.text_of(value) != want:
                return False
        for name in present:
            value = attributes.get(name)
            # An optional attribute sent as "" was never really set (upstream's reading).
            if value is None or values.text_of(value) == "":
                return False
        return True

    return attributes_filter
