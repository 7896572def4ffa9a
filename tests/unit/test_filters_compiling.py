"""`compile_trigger`: which of `spec.filter` / `spec.filters` applies, and upstream's
skipping of filters that do not materialize (reference section 1.4)."""

from __future__ import annotations

from typing import Any

import pytest

import broker.filters
from broker import filters
from broker.filters import compiling

EVENT: dict[str, object] = {"specversion": "1.0", "id": "1", "type": "foo", "source": "/src"}

FOO = {"attributes": {"type": "foo"}}
BAR = {"attributes": {"type": "bar"}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, True, id="no filter passes"),
        pytest.param({"filter": None, "filters": None}, True, id="nulls pass"),
        pytest.param({"filter": {}}, True, id="filter without attributes passes"),
        pytest.param(
            {"filter": BAR, "filters": [{"exact": {"type": "foo"}}]},
            True,
            id="filters override filter (pass)",
        ),
        pytest.param(
            {"filter": FOO, "filters": [{"exact": {"type": "bar"}}]},
            False,
            id="filters override filter (fail)",
        ),
        pytest.param(
            {"filter": BAR, "filters": []},
            False,
            id="empty filters do not override (fail)",
        ),
        pytest.param(
            {"filter": FOO, "filters": []},
            True,
            id="empty filters do not override (pass)",
        ),
        pytest.param({"filter": BAR, "filters": None}, False, id="null filters do not override"),
        # Upstream: non-empty `filters` win even when none of them materializes.
        pytest.param({"filter": BAR, "filters": [{}]}, True, id="unset expression is no filter"),
        pytest.param({"filters": [{"exact": {"type": ""}}]}, True, id="empty exact value skipped"),
        pytest.param({"filters": [{"prefix": {"": "x"}}]}, True, id="empty prefix name skipped"),
        pytest.param(
            {"filters": [{"exact": {}}, {"exact": {"type": "bar"}}]},
            False,
            id="empty map skipped, rest applies",
        ),
        pytest.param({"filters": [{"not": {}}]}, True, id="not of nothing is no filter"),
        pytest.param(
            {"filters": [{"not": {"exact": {"type": ""}}}]},
            True,
            id="not of skipped is no filter",
        ),
        pytest.param({"filters": [{"all": []}]}, True, id="empty all is no filter"),
        pytest.param({"filters": [{"any": []}]}, True, id="empty any is no filter"),
        pytest.param(
            {"filters": [{"any": [{"suffix": {"type": ""}}, {"exact": {"type": "bar"}}]}]},
            False,
            id="skipped child leaves any",
        ),
        pytest.param(
            {"filters": [{"any": [{"suffix": {"type": ""}}]}, {"exact": {"type": "bar"}}]},
            False,
            id="any of skipped only is no filter",
        ),
        # A mis-validated object with several dialects: upstream's switch order picks one.
        pytest.param(
            {"filters": [{"exact": {"type": "bar"}, "prefix": {"type": "f"}}]},
            False,
            id="exact before prefix",
        ),
        pytest.param(
            {"filters": [{"prefix": {"type": "x"}, "suffix": {"type": "oo"}}]},
            False,
            id="prefix before suffix",
        ),
        pytest.param(
            {"filters": [{"exact": {}, "suffix": {"type": "oo"}}]},
            True,
            id="empty map is unset",
        ),
        pytest.param(
            {"filters": [{"all": [{"exact": {"type": "bar"}}], "not": {"exact": {"type": "bar"}}}]},
            False,
            id="all before not",
        ),
    ],
)
def test_compile_trigger(spec: dict[str, Any], expected: bool) -> None:
    assert filters.compile_trigger(spec)(EVENT) is expected


@pytest.mark.parametrize(
    ("spec", "is_pass_all"),
    [
        ({}, True),
        ({"filter": {"attributes": {}}}, True),
        ({"filters": [{"all": []}]}, True),
        ({"filter": FOO}, False),
        ({"filters": [{"exact": {"type": "foo"}}]}, False),
    ],
)
def test_nothing_to_filter_compiles_to_pass_all(spec: dict[str, Any], is_pass_all: bool) -> None:
    assert (filters.compile_trigger(spec) is compiling.pass_all) is is_pass_all


def test_public_names() -> None:
    assert broker.filters.__all__ == ["Attributes", "Filter", "FilterIndex", "compile_trigger"]
    for name in broker.filters.__all__:
        assert hasattr(broker.filters, name)
