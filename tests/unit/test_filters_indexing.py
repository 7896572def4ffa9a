"""`FilterIndex`: it matches what brute force matches, and evaluates only candidates."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytest

from broker import filters
from broker.filters import indexing
from ripple import cloudevents as ce
from ripple.cloudevents import records


class Counting:
    """A `compiler` for FilterIndex whose filters count their evaluations."""

    def __init__(self) -> None:
        self.evaluations = 0

    def __call__(self, spec: Mapping[str, Any]) -> filters.Filter:
        compiled = filters.compile_trigger(spec)

        def counted(attributes: filters.Attributes) -> bool:
            self.evaluations += 1
            return compiled(attributes)

        return counted


TYPE = "com.example.order.created"
NEAR_MISSES = [
    # Candidates by type that then fail: these, and only these, are evaluated besides the hit.
    {"filters": [{"exact": {"type": TYPE}}, {"suffix": {"source": "nomatch"}}]},
    {"filter": {"attributes": {"type": TYPE, "missing": ""}}},
    {"filters": [{"prefix": {"type": "com.example."}}, {"suffix": {"id": "2"}}]},
    {"filters": [{"prefix": {"type": "com."}}, {"not": {"exact": {"id": "1"}}}]},
]


@pytest.mark.parametrize(
    ("hit", "evaluations"),
    [
        pytest.param(
            {"filters": [{"exact": {"type": TYPE}}, {"suffix": {"source": "x"}}]},
            1,
            id="exact",
        ),
        pytest.param({"filter": {"attributes": {"type": TYPE, "source": ""}}}, 1, id="legacy"),
        pytest.param(
            {"filters": [{"prefix": {"type": "com.ex"}}, {"prefix": {"source": "/"}}]},
            1,
            id="prefix",
        ),
        pytest.param(
            {"filters": [{"all": [{"exact": {"source": "/x"}}, {"suffix": {"type": "created"}}]}]},
            1,
            id="all",
        ),
        # The indexed condition is the whole filter: the lookup proves it, nothing is evaluated.
        pytest.param({"filters": [{"exact": {"type": TYPE}}]}, 0, id="exact sufficient"),
        pytest.param({"filters": [{"prefix": {"source": "/"}}]}, 0, id="prefix sufficient"),
    ],
)
def test_match_evaluates_only_candidates(hit: dict[str, Any], evaluations: int) -> None:
    counting = Counting()
    index = filters.FilterIndex(compiler=counting)
    for i in range(1000):
        miss = f"com.example.order.{i}"
        index.put(f"exact-{i}", {"filters": [{"exact": {"type": miss}}, {"suffix": {"id": "1"}}]})
        # Prefixes of many lengths, sharing the event's first characters but not its value.
        index.put(f"prefix-{i}", {"filters": [{"prefix": {"type": miss}}, {"suffix": {"id": "1"}}]})
    for i, spec in enumerate(NEAR_MISSES):
        index.put(f"near-{i}", spec)
    index.put("hit", hit)
    assert len(index) == 2001 + len(NEAR_MISSES)

    assert index.match({"type": TYPE, "source": "/x", "id": "1"}) == ["hit"]
    assert counting.evaluations == evaluations + len(NEAR_MISSES)


@pytest.mark.parametrize(
    ("spec", "slot"),
    [
        ({"filter": {"attributes": {"source": "s", "type": "t"}}}, ("exact", "type", "t", False)),
        (
            {"filter": {"attributes": {"subject": "s", "source": "s"}}},
            ("exact", "source", "s", False),
        ),
        ({"filter": {"attributes": {"zz": "1", "aa": "2"}}}, ("exact", "aa", "2", False)),
        ({"filter": {"attributes": {"type": "t"}}}, ("exact", "type", "t", True)),
        ({"filter": {"attributes": {"type": ""}}}, ("scan", "", "", False)),
        ({"filter": {"attributes": {"type": "t", "id": ""}}}, ("exact", "type", "t", False)),
        ({"filters": [{"exact": {"type": "t"}}]}, ("exact", "type", "t", True)),
        ({"filters": [{"exact": {"type": "t"}}, {"exact": {}}]}, ("exact", "type", "t", True)),
        (
            {"filters": [{"exact": {"type": ""}}, {"prefix": {"type": "p"}}]},
            ("prefix", "type", "p", True),
        ),
        (
            {"filters": [{"all": [{"all": [{"exact": {"source": "s"}}]}]}]},
            ("exact", "source", "s", True),
        ),
        (
            {"filters": [{"prefix": {"type": "a"}}, {"prefix": {"type": "abc"}}]},
            ("prefix", "type", "abc", False),
        ),
        ({"filters": [{"prefix": {"x": "a"}}, {"exact": {"y": "b"}}]}, ("exact", "y", "b", False)),
        ({"filters": [{"any": [{"exact": {"type": "t"}}]}]}, ("scan", "", "", False)),
        ({"filters": [{"not": {"exact": {"type": "t"}}}]}, ("scan", "", "", False)),
        ({"filters": [{"suffix": {"type": "t"}}]}, ("scan", "", "", False)),
        (
            {"filter": {"attributes": {"type": "t"}}, "filters": [{"suffix": {"type": "t"}}]},
            ("scan", "", "", False),
        ),
        ({"filter": {"attributes": {"type": "t"}}, "filters": []}, ("exact", "type", "t", True)),
    ],
)
def test_plan_slot(spec: dict[str, Any], slot: tuple[str, str, str, bool]) -> None:
    planned = indexing.plan_slot(spec)
    assert (planned.kind, planned.attribute, planned.value, planned.sufficient) == slot


def test_put_replaces_and_remove_forgets() -> None:
    index = filters.FilterIndex()
    event = {"type": "a", "source": "s"}
    index.put("t", {"filter": {"attributes": {"type": "a"}}})
    index.put("u", {})
    assert sorted(index.match(event)) == ["t", "u"]
    index.put("t", {"filters": [{"prefix": {"type": "b"}}]})
    assert (len(index), index.match(event)) == (2, ["u"])
    index.put("t", {"filters": [{"suffix": {"source": "s"}}]})
    assert sorted(index.match(event)) == ["t", "u"]
    index.remove("u")
    index.remove("u")  # idempotent
    index.remove("t")
    assert (len(index), index.match(event)) == (0, [])
    assert (index._exact, index._prefix, index._scan, index._always) == ({}, {}, set(), set())


@pytest.mark.parametrize(
    ("prefixes", "text", "expected"),
    [
        ({"a": "1", "ab": "2", "abc": "3", "b": "4", "abd": "5"}, "abc", {"1", "2", "3"}),
        ({"a": "1", "ab": "2"}, "", set()),
        ({"abcd": "1"}, "abc", set()),
        ({"x": "1"}, "abc", set()),
    ],
)
def test_prefix_table(prefixes: dict[str, str], text: str, expected: set[str]) -> None:
    table = indexing._PrefixTable()
    for prefix, key in prefixes.items():
        table.add(prefix, key)
    assert set(table.candidates(text)) == expected
    for prefix, key in prefixes.items():
        table.discard(prefix, key)
    assert not table and table._lengths == ()


NAMES = ["type", "source", "subject", "ext"]
TEXTS = ["a", "ab", "abc", "abd", "b", "ba", "true", "1", "12"]


def random_pairs(rng: random.Random) -> dict[str, str]:
    names = rng.sample([*NAMES, "flag", "count"], rng.randint(1, 2))
    return {name: rng.choice([*TEXTS, ""] if rng.random() < 0.1 else TEXTS) for name in names}


def random_expression(rng: random.Random, depth: int) -> dict[str, Any]:
    dialects = ["exact", "exact", "prefix", "prefix", "suffix", "unset", "mixed"]
    if depth < 3:
        dialects += ["all", "all", "any", "not"]
    dialect = rng.choice(dialects)
    if dialect in ("all", "any"):
        return {dialect: [random_expression(rng, depth + 1) for _ in range(rng.randint(0, 3))]}
    if dialect == "not":
        return {"not": random_expression(rng, depth + 1)}
    if dialect == "unset":
        return {}
    if dialect == "mixed":
        return {"exact": random_pairs(rng), "prefix": random_pairs(rng)}
    return {dialect: random_pairs(rng)}


def random_spec(rng: random.Random) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if rng.random() < 0.4:
        spec["filter"] = {"attributes": random_pairs(rng) if rng.random() < 0.9 else {}}
    if rng.random() < 0.7:
        spec["filters"] = [random_expression(rng, 0) for _ in range(rng.randint(0, 3))]
    return spec


def random_event(rng: random.Random) -> dict[str, object]:
    event: dict[str, object] = {"specversion": "1.0", "id": "1"}
    for name in NAMES:
        if rng.random() < 0.8:
            event[name] = rng.choice([*TEXTS, ""])
    if rng.random() < 0.5:
        event["flag"] = rng.random() < 0.5
    if rng.random() < 0.5:
        event["count"] = rng.choice([1, 12, 123])
    return event


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_index_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    index = filters.FilterIndex()
    triggers: dict[str, dict[str, Any]] = {}
    matched_any = 0
    for _ in range(800):
        key = f"t{rng.randrange(300)}"
        if rng.random() < 0.15:
            index.remove(key)
            triggers.pop(key, None)
        else:
            triggers[key] = random_spec(rng)
            index.put(key, triggers[key])
        event = random_event(rng)
        brute = {k for k, spec in triggers.items() if filters.compile_trigger(spec)(event)}
        found = index.match(event)
        assert len(found) == len(set(found)), "a trigger matched twice"
        assert set(found) == brute, (event, brute ^ set(found))
        assert len(index) == len(triggers)
        matched_any += bool(brute)
    assert matched_any > 100  # the table is not vacuous


@pytest.mark.parametrize("seed", [6, 7])
def test_index_matches_stream_entries_as_it_matches_dicts(seed: int) -> None:
    """The fan-out matches `RecordAttributes` of a stream entry (type and source from their
    own fields, the rest parsed on demand): the same triggers as the parsed attributes."""
    rng = random.Random(seed)
    index = filters.FilterIndex()
    for i in range(300):
        index.put(f"t{i}", random_spec(rng))
    for _ in range(500):
        event = random_event(rng)
        fields = records.to_record(ce.CloudEvent(dict(event)))
        lazy = records.RecordAttributes(fields)
        assert sorted(index.match(lazy)) == sorted(index.match(event))
