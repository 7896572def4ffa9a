"""The `cesql` dialect of `spec.filters`: a CloudEvents SQL expression must yield true.

Upstream: `pkg/eventfilter/subscriptionsapi/cesql_filter.go`. Called by `compiling`; the
language itself lives in `ripple.cesql`.
"""

from __future__ import annotations

from ripple import cesql

from broker.filters import values


def make_cesql_filter(text: str) -> values.Filter:
    """Parse once, evaluate per event. Raises ValueError when the expression does not parse."""
    try:
        expression = cesql.parse(text)
    except cesql.ParseError as error:
        raise ValueError(f"cesql: {error}") from error

    def cesql_filter(attributes: values.Attributes) -> bool:
        try:
            return cesql.matches(expression, attributes) is True
        except Exception:
            # `matches` already maps evaluation errors to False. This guards the fan-out:
            # a defect in one trigger's expression must not stop the event reaching the
            # other triggers, and the spec's answer to "could not evaluate" is no match.
            return False

    return cesql_filter
