"""The `all`, `any` and `not` dialects of `spec.filters`.

Upstream: `all_filter.go`, `any_filter.go`, `not_filter.go` in
`pkg/eventfilter/subscriptionsapi`. Called by `compiling`, which has already dropped the
children that upstream would treat as "no filter", so these see only real filters.
"""

from __future__ import annotations

from collections.abc import Sequence

from broker.filters import values


def make_all_filter(children: Sequence[values.Filter]) -> values.Filter:
    """True when every child is true (short-circuits on the first false)."""
    if len(children) == 1:
        return children[0]
    members = tuple(children)

    def all_filter(attributes: values.Attributes) -> bool:
        for child in members:
            if not child(attributes):
                return False
        return True

    return all_filter


def make_any_filter(children: Sequence[values.Filter]) -> values.Filter:
    """True when at least one child is true (short-circuits on the first true)."""
    if len(children) == 1:
        return children[0]
    members = tuple(children)

    def any_filter(attributes: values.Attributes) -> bool:
        for child in members:
            if child(attributes):
                return True
        return False

    return any_filter


def make_not_filter(child: values.Filter) -> values.Filter:
    """True when the child is false."""

    def not_filter(attributes: values.Attributes) -> bool:
        return not child(attributes)

    return not_filter
