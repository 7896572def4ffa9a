"""Each trigger-filter dialect against one event, through `compile_trigger`.

Cases follow Knative's `pkg/eventfilter` semantics (reference sections 1.3 and 1.4).
"""

from __future__ import annotations

from typing import Any

import pytest

from broker import filters
from broker.filters import exact, prefix, suffix

EVENT: dict[str, object] = {
    "specversion": "1.0",
    "id": "1",
    "type": "dev.knative.foo",
    "source": "/apis/v1/ns/default",
    "subject": "",  # an optional attribute sent empty: "never set" for the legacy filter
    "myext": "val",
    "flag": True,
    "off": False,
    "count": 42,
}


def passes(spec: dict[str, Any]) -> bool:
    return filters.compile_trigger(spec)(EVENT)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        pytest.param(None, True, id="nil map passes all"),
        pytest.param({}, True, id="empty map passes all"),
        pytest.param({"type": "dev.knative.foo"}, True, id="equal"),
        pytest.param({"type": "dev.knative.bar"}, False, id="different"),
        pytest.param({"type": "Dev.Knative.Foo"}, False, id="value is case-sensitive"),
        pytest.param({"Type": "dev.knative.foo"}, False, id="name is case-sensitive"),
        pytest.param({"type": "dev.knative"}, False, id="no prefix match"),
        pytest.param({"type": "dev.knative.foo", "source": "/apis/v1/ns/default"}, True, id="AND"),
        pytest.param({"type": "dev.knative.foo", "source": "/other"}, False, id="AND one fails"),
        pytest.param({"type": ""}, True, id="empty value: any value"),
        pytest.param({"subject": ""}, False, id="empty value: present but empty fails"),
        pytest.param({"missing": ""}, False, id="empty value: absent fails"),
        pytest.param({"missing": "x"}, False, id="absent fails"),
        pytest.param({"subject": "x"}, False, id="empty event value never equals"),
        pytest.param({"type": "dev.knative.foo", "missing": ""}, False, id="AND with absent"),
        pytest.param({"myext": "val"}, True, id="extension"),
        pytest.param({"flag": "true"}, True, id="bool as JSON text"),
        pytest.param({"flag": "True"}, False, id="bool not Python text"),
        pytest.param({"off": "false"}, True, id="false as JSON text"),
        pytest.param({"off": ""}, True, id="false is a non-empty value"),
        pytest.param({"count": "42"}, True, id="int as decimal"),
        pytest.param({"count": "042"}, False, id="int not numerically compared"),
    ],
)
def test_legacy_attributes(attributes: dict[str, str] | None, expected: bool) -> None:
    assert passes({"filter": {"attributes": attributes}}) is expected


@pytest.mark.parametrize(
    ("dialect", "pairs", "expected"),
    [
        ("exact", {"type": "dev.knative.foo"}, True),
        ("exact", {"type": "dev.knative.bar"}, False),
        ("exact", {"type": "DEV.KNATIVE.FOO"}, False),
        ("exact", {"TYPE": "dev.knative.foo"}, False),
        ("exact", {"type": "dev.knative"}, False),
        ("exact", {"missing": "x"}, False),
        ("exact", {"flag": "true"}, True),
        ("exact", {"off": "false"}, True),
        ("exact", {"count": "42"}, True),
        ("exact", {"count": "42.0"}, False),
        ("exact", {"type": "dev.knative.foo", "myext": "val"}, True),
        ("exact", {"type": "dev.knative.foo", "myext": "other"}, False),
        ("prefix", {"type": "dev.knative"}, True),
        ("prefix", {"type": "dev.knative.foo"}, True),
        ("prefix", {"type": "dev.knative.foo."}, False),
        ("prefix", {"type": "Dev"}, False),
        ("prefix", {"type": "knative"}, False),
        ("prefix", {"missing": "x"}, False),
        ("prefix", {"count": "4"}, True),
        ("prefix", {"flag": "tr"}, True),
        ("prefix", {"type": "dev", "source": "/apis"}, True),
        ("prefix", {"type": "dev", "source": "apis"}, False),
        ("suffix", {"type": ".foo"}, True),
        ("suffix", {"type": "dev.knative.foo"}, True),
        ("suffix", {"type": "x.dev.knative.foo"}, False),
        ("suffix", {"type": ".FOO"}, False),
        ("suffix", {"type": "dev"}, False),
        ("suffix", {"missing": "x"}, False),
        ("suffix", {"count": "2"}, True),
        ("suffix", {"off": "lse"}, True),
        ("suffix", {"type": "foo", "source": "default"}, True),
        ("suffix", {"type": "foo", "source": "/apis"}, False),
    ],
)
def test_map_dialects(dialect: str, pairs: dict[str, str], expected: bool) -> None:
    assert passes({"filters": [{dialect: pairs}]}) is expected


FOO = {"exact": {"type": "dev.knative.foo"}}
BAR = {"exact": {"type": "dev.knative.bar"}}
DEV = {"prefix": {"type": "dev."}}
MISSING = {"exact": {"missing": "x"}}


@pytest.mark.parametrize(
    ("expressions", "expected"),
    [
        pytest.param([FOO, DEV], True, id="list is AND: both"),
        pytest.param([FOO, BAR], False, id="list is AND: one fails"),
        pytest.param([{"all": [FOO, DEV]}], True, id="all true"),
        pytest.param([{"all": [FOO, BAR]}], False, id="all one false"),
        pytest.param([{"all": [FOO]}], True, id="all of one"),
        pytest.param([{"any": [BAR, FOO]}], True, id="any one true"),
        pytest.param([{"any": [BAR, MISSING]}], False, id="any none true"),
        pytest.param([{"not": BAR}], True, id="not false"),
        pytest.param([{"not": FOO}], False, id="not true"),
        pytest.param([{"not": MISSING}], True, id="not of missing attribute passes"),
        pytest.param([{"not": {"not": FOO}}], True, id="double not"),
        pytest.param(
            [{"all": [{"any": [BAR, DEV]}, {"not": {"suffix": {"type": ".bar"}}}]}],
            True,
            id="all of any and not",
        ),
        pytest.param(
            [{"any": [{"not": FOO}, {"all": [DEV, {"exact": {"myext": "val"}}]}]}],
            True,
            id="any of not and all",
        ),
        pytest.param(
            [{"any": [{"not": FOO}, {"all": [DEV, {"exact": {"myext": "no"}}]}]}],
            False,
            id="any of not and all, both false",
        ),
        pytest.param([{"not": {"any": [BAR, {"all": [FOO, MISSING]}]}}], True, id="deep not"),
    ],
)
def test_logical_dialects(expressions: list[dict[str, Any]], expected: bool) -> None:
    assert passes({"filters": expressions}) is expected


@pytest.mark.parametrize(
    "make", [exact.make_exact_filter, prefix.make_prefix_filter, suffix.make_suffix_filter]
)
@pytest.mark.parametrize("pairs", [{"type": ""}, {"": "x"}, {"type": "a", "source": ""}])
def test_map_dialects_refuse_empty_names_and_values(make: Any, pairs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        make(pairs)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("x", True)],
)
def test_a_null_attribute_is_absent(value: object, expected: bool) -> None:
    event = {"type": "t", "ext": value}
    assert filters.compile_trigger({"filters": [{"prefix": {"ext": "x"}}]})(event) is expected
    assert filters.compile_trigger({"filter": {"attributes": {"ext": ""}}})(event) is expected
