"""Turn a Trigger's `spec` into one `Filter`: Knative's filter materialization.

Called by the broker fan-out through `broker.filters.compile_trigger`, and by `indexing`,
which compiles every trigger it holds and reads `select_dialect` to plan its buckets.

Upstream (`subscriptionsapi/create.go`, `filter_handler.go`) has a tri-state result:
pass, fail, and "no filter", which is the identity of AND and OR and only "fail" blocks
delivery. "No filter" never depends on the event: it comes from a filter that is empty or
fails to build. So it is settled here, at compile time: such filters compile to None and
are dropped from their parent, which is exactly what the identity would do per event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from broker.filters import attributes, cesql, exact, logical, prefix, suffix, values

if TYPE_CHECKING:
    from ripple.api.eventing.trigger_types import (
        SubscriptionsAPIFilter,
        TriggerFilter,
        TriggerSpec,
    )

DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")
"""Upstream's `switch` order: when a (mis-validated) filter sets several, the first wins."""


def pass_all(attributes: values.Attributes) -> bool:
    """The filter of a trigger that filters nothing."""
    return True


def compile_trigger(spec: TriggerSpec) -> values.Filter:
    """The filter of a Trigger `spec`, assumed validated.

    A non-empty `spec.filters` wins over `spec.filter`; an empty `filters: []` does not.
    Returns `pass_all` itself when nothing filters, so callers may test by identity.
    """
    compiled = compile_spec(spec)
    return pass_all if compiled is None else compiled


def compile_spec(spec: TriggerSpec) -> values.Filter | None:
    """Like `compile_trigger`, but None when the trigger filters nothing."""
    expressions = spec.get("filters")
    if expressions:
        return compile_conjunction(expressions)
    return compile_legacy(spec.get("filter"))


def compile_legacy(filter_spec: TriggerFilter | None) -> values.Filter | None:
    """`spec.filter`: a nil or empty `attributes` map filters nothing."""
    expected = (filter_spec or {}).get("attributes")
    if not expected:
        return None
    return attributes.make_attributes_filter(expected)


def compile_conjunction(expressions: Sequence[SubscriptionsAPIFilter]) -> values.Filter | None:
    """A list of filters ANDed, as `spec.filters` and `all` are."""
    children = compile_list(expressions)
    return logical.make_all_filter(children) if children else None


def compile_list(expressions: Sequence[SubscriptionsAPIFilter]) -> list[values.Filter]:
    compiled = (compile_expression(expression) for expression in expressions)
    return [child for child in compiled if child is not None]


def select_dialect(expression: SubscriptionsAPIFilter) -> tuple[str, Any] | None:
    """The dialect upstream acts on, with its argument; None when none is set.

    "Set" follows the Go zero values: a non-empty map, list or string, or any `not`.
    """
    for dialect in DIALECTS:
        argument = expression.get(dialect)
        if (argument is not None) if dialect == "not" else bool(argument):
            return dialect, argument
    return None


def compile_expression(expression: SubscriptionsAPIFilter) -> values.Filter | None:
    """One `SubscriptionsAPIFilter` object; None when upstream would skip it."""
    selected = select_dialect(expression)
    if selected is None:
        return None
    dialect, argument = selected
    if dialect == "all":
        return compile_conjunction(argument)
    if dialect == "any":
        children = compile_list(argument)
        return logical.make_any_filter(children) if children else None
    if dialect == "not":
        child = compile_expression(argument)
        return None if child is None else logical.make_not_filter(child)
    try:
        return _LEAVES[dialect](argument)
    except ValueError:
        # Upstream logs and skips a leaf it cannot build (an empty value, a CESQL
        # expression that does not parse); the webhook should have refused it already.
        return None


_LEAVES: dict[str, Callable[[Any], values.Filter]] = {
    "exact": exact.make_exact_filter,
    "prefix": prefix.make_prefix_filter,
    "suffix": suffix.make_suffix_filter,
    "cesql": cesql.make_cesql_filter,
}
