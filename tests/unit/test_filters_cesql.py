"""The `cesql` dialect: true passes; false, a non-boolean or an evaluation error fails."""

from __future__ import annotations

from typing import Any

import pytest

from broker import filters
from broker.filters import cesql

EVENT: dict[str, object] = {
    "specversion": "1.0",
    "id": "1",
    "type": "dev.knative.foo",
    "source": "/apis/v1/ns/default",
    "myext": "val",
    "flag": True,
    "count": 42,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("type = 'dev.knative.foo'", True),
        ("type = 'dev.knative.bar'", False),
        ("type = 'DEV.KNATIVE.FOO'", False),
        ("myext = 'val' AND source LIKE '/apis/%'", True),
        ("type = 'x' OR myext = 'val'", True),
        ("EXISTS myext", True),
        ("EXISTS missing", False),
        ("count = 42", True),
        ("count > 40 AND count < 50", True),
        ("flag", True),
        ("flag = FALSE", False),
        ("NOT (missing = 'x')", False),  # evaluation error (missing attribute) -> no match
        ("missing = 'x'", False),
        ("1 / 0 = 0", False),  # division by zero is an evaluation error
        ("type", False),  # not a boolean: only true passes
    ],
)
def test_cesql(expression: str, expected: bool) -> None:
    assert filters.compile_trigger({"filters": [{"cesql": expression}]})(EVENT) is expected


@pytest.mark.parametrize(
    ("expressions", "expected"),
    [
        pytest.param(
            [{"not": {"cesql": "missing = 'x'"}}],
            True,
            id="not of an error passes, as upstream",
        ),
        pytest.param([{"cesql": "type = "}], True, id="unparsable is skipped"),
        pytest.param(
            [{"cesql": "type = "}, {"exact": {"type": "x"}}],
            False,
            id="unparsable skipped, rest applies",
        ),
        pytest.param(
            [{"all": [{"cesql": "count = 42"}, {"prefix": {"type": "dev"}}]}],
            True,
            id="inside all",
        ),
        pytest.param(
            [{"any": [{"cesql": "missing"}, {"suffix": {"type": "foo"}}]}],
            True,
            id="error inside any",
        ),
    ],
)
def test_cesql_with_others(expressions: list[dict[str, Any]], expected: bool) -> None:
    assert filters.compile_trigger({"filters": expressions})(EVENT) is expected


def test_unparsable_expression_raises_value_error() -> None:
    with pytest.raises(ValueError):
        cesql.make_cesql_filter("type = ")
