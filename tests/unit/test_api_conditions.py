"""Knative living condition sets over status dicts (ripple.api.conditions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from ripple.api import conditions
from ripple.api.conditions import ConditionSet

CS = ConditionSet("Ready", ("A", "B"))
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

Op = tuple[Any, ...]


def run(ops: list[Op], status: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply the marks in order, each one second after the previous."""
    status = {} if status is None else status
    for i, (verb, *args) in enumerate(ops):
        now = T0 + timedelta(seconds=i + 1)
        if verb == "init":
            CS.initialize(status, now=now)
        elif verb == "true":
            CS.mark_true(status, *args, now=now)
        elif verb == "true_reason":
            type_, reason, message = args
            CS.mark_true(status, type_, now=now, reason=reason, message=message)
        elif verb == "false":
            CS.mark_false(status, *args, now=now)
        elif verb == "unknown":
            CS.mark_unknown(status, *args, now=now)
    return status


def ready(status: dict[str, Any]) -> tuple[str, str, str]:
    found = CS.get(status, "Ready")
    assert found is not None
    return found["status"], found["reason"], found["message"]


@pytest.mark.parametrize(("ops", "expected"), [
    pytest.param([("init",)], ("Unknown", "", ""), id="initialize"),
    pytest.param([("init",), ("true", "A")], ("Unknown", "", ""), id="one-of-two-true"),
    pytest.param([("true", "A")], ("Unknown", "", ""), id="unset-dependent-is-unknown"),
    pytest.param([("init",), ("true", "A"), ("true", "B")], ("True", "", ""), id="all-true"),
    pytest.param([("true", "A"), ("true", "B")], ("True", "", ""), id="all-true-no-init"),
    pytest.param([("init",), ("false", "A", "Down", "a is down")], ("False", "Down", "a is down"),
                 id="false-propagates"),
    pytest.param([("false", "A", "Down", "m"), ("true", "A"), ("true", "B")], ("True", "", ""),
                 id="recovers"),
    pytest.param([("false", "A", "RA", "ma"), ("false", "B", "RB", "mb"), ("true", "A")],
                 ("False", "RB", "mb"), id="remaining-false-wins"),
    pytest.param([("unknown", "A", "UA", "ua"), ("false", "B", "FB", "fb")], ("False", "FB", "fb"),
                 id="false-after-unknown"),
    pytest.param([("false", "B", "FB", "fb"), ("unknown", "A", "UA", "ua")], ("False", "FB", "fb"),
                 id="unknown-does-not-hide-false"),
    pytest.param([("init",), ("unknown", "A", "UA", "ua")], ("Unknown", "UA", "ua"),
                 id="unknown-propagates"),
    pytest.param([("unknown", "A", "UA", "ua"), ("unknown", "B", "UB", "ub"), ("true", "Extra")],
                 ("Unknown", "UB", "ub"), id="most-recent-unknown-wins"),
    pytest.param([("false", "A", "FA", "fa"), ("unknown", "B", "UB", "ub"), ("true", "Extra")],
                 ("False", "FA", "fa"), id="false-beats-newer-unknown"),
    pytest.param([("true", "A"), ("true", "B"), ("false", "Extra", "X", "x")], ("True", "", ""),
                 id="non-dependent-false-ignored"),
    pytest.param([("true", "A"), ("true", "B"), ("unknown", "Extra", "X", "x")], ("True", "", ""),
                 id="non-dependent-unknown-ignored"),
    pytest.param([("true", "A"), ("true_reason", "B", "NotConfigured", "none")], ("True", "", ""),
                 id="true-with-reason"),
])
def test_happy_condition_follows_dependents(ops: list[Op], expected: tuple[str, str, str]) -> None:
    assert ready(run(ops)) == expected


def test_unknown_beside_a_false_dependent_forces_ready_false_with_its_own_reason() -> None:
    # Knative's quirk: MarkUnknown finds a False dependent while Ready is not False, and
    # marks Ready False with the reason of the Unknown being set.
    status = {"conditions": [
        {"type": "B", "status": "False", "reason": "FB", "message": "fb"},
        {"type": "Ready", "status": "True", "reason": "", "message": ""},
    ]}
    assert ready(run([("unknown", "A", "UA", "ua")], status)) == ("False", "UA", "ua")


def test_marking_the_same_values_changes_nothing() -> None:
    status = run([("false", "A", "Down", "m")])
    before = [dict(c) for c in status["conditions"]]
    run([("false", "A", "Down", "m")], status)
    assert status["conditions"] == before


@pytest.mark.parametrize(("second", "moves"), [
    (("false", "A", "Down", "m"), False),
    (("false", "A", "Other", "other message"), False),
    (("unknown", "A", "Down", "m"), True),
    (("true", "A"), True),
])
def test_last_transition_time_moves_only_when_status_changes(second: Op, moves: bool) -> None:
    status = run([("false", "A", "Down", "m")])
    first = CS.get(status, "A")["lastTransitionTime"]  # type: ignore[index]
    verb, *args = second
    getattr(CS, f"mark_{verb}")(status, *args, now=T0 + timedelta(hours=1))
    after = CS.get(status, "A")["lastTransitionTime"]  # type: ignore[index]
    assert after == ("2024-05-01T13:00:00Z" if moves else first)


def test_conditions_are_sorted_by_type_and_shaped_like_knative() -> None:
    status = run([("init",), ("false", "Extra", "X", "x")])
    assert [c["type"] for c in status["conditions"]] == ["A", "B", "Extra", "Ready"]
    assert status["conditions"][0] == {
        "type": "A", "status": "Unknown", "lastTransitionTime": "2024-05-01T12:00:01Z",
        "reason": "", "message": "",
    }
    # Knative gives non-dependent conditions the Info severity, and dependents none.
    assert CS.get(status, "Extra")["severity"] == "Info"  # type: ignore[index]
    assert "severity" not in CS.get(status, "Ready")  # type: ignore[operator]


@pytest.mark.parametrize(("ready_status", "initial"), [("True", "True"), ("Unknown", "Unknown")])
def test_initialize_fills_unset_dependents_from_ready(ready_status: str, initial: str) -> None:
    status = {"conditions": [{"type": "Ready", "status": ready_status}]}
    CS.initialize(status, now=T0)
    assert CS.get(status, "A")["status"] == initial  # type: ignore[index]
    assert CS.get(status, "B")["status"] == initial  # type: ignore[index]


@pytest.mark.parametrize(("status", "expected"), [
    ({}, False),
    ({"conditions": "junk"}, False),
    ({"conditions": [{"type": "Ready", "status": "Unknown"}]}, False),
    ({"conditions": [{"type": "Ready", "status": "True"}]}, True),
    ({"conditions": [None, {"status": "True"}, {"type": "Ready", "status": "True"}]}, True),
])
def test_is_ready(status: dict[str, Any], expected: bool) -> None:
    assert CS.is_ready(status) is expected


def test_junk_conditions_are_dropped_when_marking() -> None:
    status: dict[str, Any] = {"conditions": [None, "x", {"status": "True"}]}
    CS.mark_true(status, "A", now=T0)
    assert [c["type"] for c in status["conditions"]] == ["A", "Ready"]


def test_condition_set_dedupes_dependents_and_ignores_happy() -> None:
    assert ConditionSet("Ready", ("A", "Ready", "A", "B")).dependents == ("A", "B")


def test_without_dependents_marking_anything_true_makes_ready_true() -> None:
    bare = ConditionSet()
    status: dict[str, Any] = {}
    bare.mark_true(status, "Other", now=T0)
    assert bare.is_ready(status)


@pytest.mark.parametrize(("now", "text"), [
    (datetime(2024, 1, 2, 3, 4, 5, 999), "2024-01-02T03:04:05Z"),
    (datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))), "2024-01-02T03:04:05Z"),
])
def test_format_time_is_rfc3339_utc_seconds(now: datetime, text: str) -> None:
    assert conditions.format_time(now) == text
