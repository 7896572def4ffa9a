"""Knative condition sets (`knative.dev/pkg/apis/condition_set.go`) over plain status dicts.

Each kind's `*_lifecycle` module declares one `ConditionSet` and the `mark_*` functions that
reconcilers call; reconcilers never edit `status.conditions` by hand. Readers (the CLI,
the data plane, other reconcilers) use `get` and `is_ready`.

The happy condition (`Ready`) is recomputed from the dependents exactly as Knative's
`NewLivingConditionSet` does:
- marking a dependent False makes Ready False with the same reason and message;
- marking a dependent Unknown makes Ready Unknown, unless some dependent is False, which
  wins (Ready then goes False, with the reason of the Unknown being marked: Knative's quirk);
- marking one True makes Ready the most recently changed False dependent, else the most
  recently changed Unknown one, else Unknown if a dependent is unset, else True.

A condition is `{type, status, lastTransitionTime, reason, message}`; `severity` is written
only when not empty, and Knative gives the empty (Error) severity to Ready and its
dependents and `Info` to every other condition. Marking a condition with the values it
already has changes nothing. `lastTransitionTime` is RFC 3339 from the `now` the caller
passes, so this code stays pure. It moves only when `status` changes, as Kubernetes'
API conventions define it; Knative also moves it when only the reason or message change.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TRUE = "True"
FALSE = "False"
UNKNOWN = "Unknown"
READY = "Ready"
SEVERITY_ERROR = ""
SEVERITY_INFO = "Info"

Status = dict[str, Any]
Condition = dict[str, Any]

# What makes two conditions of one type differ; lastTransitionTime only follows them.
_COMPARED = ("status", "reason", "message", "severity")


@functools.lru_cache(maxsize=64)
def format_time(now: datetime) -> str:
    """RFC 3339 in UTC with whole seconds, as Kubernetes serializes metav1.Time. (Cached:
    a reconcile marks several conditions with one `now`, and a bulk apply reconciles
    thousands of objects within the same few seconds.)"""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time_of(condition: Condition) -> datetime:
    return _parse_time(str(condition.get("lastTransitionTime")))


@functools.lru_cache(maxsize=1024)
def _parse_time(text: str) -> datetime:
    """Cached: every mark sorts the conditions by time, parsing the same few stamps."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def conditions_of(status: Status) -> list[Condition]:
    """The well-formed conditions in a status (a status written by hand may hold junk)."""
    found = status.get("conditions")
    if not isinstance(found, list):
        return []
    return [c for c in found if isinstance(c, dict) and isinstance(c.get("type"), str)]


@dataclass(frozen=True)
class ConditionSet:
    """A living condition set: `happy` summarises `dependents`. Methods mutate `status`."""

    happy: str = READY
    dependents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unique: list[str] = []
        for dependent in self.dependents:
            if dependent != self.happy and dependent not in unique:
                unique.append(dependent)
        object.__setattr__(self, "dependents", tuple(unique))

    def is_terminal(self, type_: str) -> bool:
        return type_ == self.happy or type_ in self.dependents

    def severity(self, type_: str) -> str:
        return SEVERITY_ERROR if self.is_terminal(type_) else SEVERITY_INFO

    def get(self, status: Status, type_: str) -> Condition | None:
        for condition in conditions_of(status):
            if condition["type"] == type_:
                return condition
        return None

    def is_ready(self, status: Status) -> bool:
        happy = self.get(status, self.happy)
        return happy is not None and happy.get("status") == TRUE

    def initialize(self, status: Status, *, now: datetime) -> None:
        """Set every unset condition to Unknown (or True, if Ready is already True)."""
        happy = self.get(status, self.happy)
        if happy is None:
            self._set(status, self.happy, UNKNOWN, "", "", now)
            happy = self.get(status, self.happy)
        initial = TRUE if happy is not None and happy.get("status") == TRUE else UNKNOWN
        for dependent in self.dependents:
            if self.get(status, dependent) is None:
                self._set(status, dependent, initial, "", "", now)

    def mark_true(
        self, status: Status, type_: str, *, now: datetime, reason: str = "", message: str = ""
    ) -> None:
        """Knative's MarkTrue and MarkTrueWithReason."""
        self._set(status, type_, TRUE, reason, message, now)
        self._recompute_happiness(status, type_, now)

    def mark_false(
        self, status: Status, type_: str, reason: str, message: str, *, now: datetime
    ) -> None:
        types = [type_, self.happy] if type_ in self.dependents else [type_]
        for each in types:
            self._set(status, each, FALSE, reason, message, now)

    def mark_unknown(
        self, status: Status, type_: str, reason: str, message: str, *, now: datetime
    ) -> None:
        self._set(status, type_, UNKNOWN, reason, message, now)
        for dependent in self.dependents:
            found = self.get(status, dependent)
            if found is not None and found.get("status") == FALSE:
                happy = self.get(status, self.happy)
                if happy is None or happy.get("status") != FALSE:
                    self.mark_false(status, self.happy, reason, message, now=now)
                return
        if type_ in self.dependents:
            self._set(status, self.happy, UNKNOWN, reason, message, now)

    def _recompute_happiness(self, status: Status, type_: str, now: datetime) -> None:
        unhappy = self._find_unhappy_dependent(status)
        if unhappy is not None:
            self._set(
                status, self.happy, unhappy["status"],
                unhappy.get("reason", ""), unhappy.get("message", ""), now,
            )
        elif type_ != self.happy:
            self._set(status, self.happy, TRUE, "", "", now)

    def _find_unhappy_dependent(self, status: Status) -> Condition | None:
        if not self.dependents:
            return None
        found = [c for c in conditions_of(status) if c["type"] in self.dependents]
        found.sort(key=_time_of, reverse=True)
        for wanted in (FALSE, UNKNOWN):
            for condition in found:
                if condition.get("status") == wanted:
                    return condition
        if len(found) < len(self.dependents):
            return {"status": UNKNOWN}
        return None

    def _set(
        self, status: Status, type_: str, state: str, reason: str, message: str, now: datetime
    ) -> None:
        old = self.get(status, type_)
        new: Condition = {"type": type_, "status": state}
        severity = self.severity(type_)
        if severity:
            new["severity"] = severity
        new["lastTransitionTime"] = format_time(now)
        new["reason"] = reason
        new["message"] = message
        if old is not None:
            if all(old.get(f, "") == new.get(f, "") for f in _COMPARED):
                return
            if old.get("status") == state and old.get("lastTransitionTime"):
                new["lastTransitionTime"] = old["lastTransitionTime"]
        others = [c for c in conditions_of(status) if c["type"] != type_]
        # Sorted by type, as Knative stores them, for kubectl's and our CLI's benefit.
        status["conditions"] = sorted([*others, new], key=lambda c: c["type"])
