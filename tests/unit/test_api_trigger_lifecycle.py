"""The Trigger condition set and its mark_* functions (ripple.api.eventing.trigger_lifecycle)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ripple.api.eventing import trigger_lifecycle as tl

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def condition(status: dict[str, Any], type_: str) -> tuple[str, str, str] | None:
    found = tl.CONDITIONS.get(status, type_)
    return None if found is None else (found["status"], found["reason"], found["message"])


def all_good(status: dict[str, Any]) -> None:
    tl.mark_broker_ready(status, now=NOW)
    tl.mark_subscription_ready(status, now=NOW)
    tl.mark_dependency_succeeded(status, now=NOW)
    tl.mark_subscriber_resolved(status, "http://s.default.svc", now=NOW)
    tl.mark_dead_letter_sink_not_configured(status, now=NOW)


def test_initialize_then_ready() -> None:
    status: dict[str, Any] = {}
    tl.initialize(status, now=NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "BrokerReady", "DeadLetterSinkResolved", "DependencyReady", "Ready", "SubscriberResolved",
        "SubscriptionReady"]
    assert condition(status, "Ready") == ("Unknown", "", "")
    all_good(status)
    assert condition(status, "Ready") == ("True", "", "")
    assert status["subscriberUri"] == "http://s.default.svc"
    assert "deadLetterSinkUri" not in status


@pytest.mark.parametrize(("mark", "args", "type_", "expected", "ready"), [
    (tl.mark_broker_not_ready, (), "BrokerReady",
     ("Unknown", "BrokerNotConfigured", "Broker has not yet been reconciled."), "Unknown"),
    (tl.mark_broker_not_ready, ("BrokerMissing", "no broker"), "BrokerReady",
     ("Unknown", "BrokerMissing", "no broker"), "Unknown"),
    (tl.mark_broker_failed, ("BrokerFailed", "m"), "BrokerReady",
     ("False", "BrokerFailed", "m"), "False"),
    (tl.mark_subscriber_failed, ("NotFound", "no svc"), "SubscriberResolved",
     ("False", "NotFound", "no svc"), "False"),
    (tl.mark_subscriber_unknown, ("Resolving", "m"), "SubscriberResolved",
     ("Unknown", "Resolving", "m"), "Unknown"),
    (tl.mark_dead_letter_sink_resolved, ("http://dls",), "DeadLetterSinkResolved",
     ("True", "", ""), "True"),
    (tl.mark_dead_letter_sink_failed, ("NotFound", "m"), "DeadLetterSinkResolved",
     ("False", "NotFound", "m"), "False"),
    (tl.mark_dependency_failed, ("SourceFailed", "m"), "DependencyReady",
     ("False", "SourceFailed", "m"), "False"),
    (tl.mark_dependency_unknown, ("R", "m"), "DependencyReady", ("Unknown", "R", "m"), "Unknown"),
    (tl.mark_dependency_not_configured, (), "DependencyReady",
     ("Unknown", "DependencyNotConfigured", "Dependency has not yet been reconciled."), "Unknown"),
])
def test_marks_from_ready(
    mark: Any, args: tuple[Any, ...], type_: str, expected: tuple[str, str, str], ready: str
) -> None:
    status: dict[str, Any] = {}
    all_good(status)
    mark(status, *args, now=NOW)
    assert condition(status, type_) == expected
    assert condition(status, "Ready")[0] == ready  # type: ignore[index]


@pytest.mark.parametrize(("mark", "field", "value"), [
    (lambda s: tl.mark_subscriber_failed(s, "R", "m", now=NOW), "subscriberUri", None),
    (lambda s: tl.mark_subscriber_resolved(s, "http://new", now=NOW), "subscriberUri", "http://new"),
    (lambda s: tl.mark_dead_letter_sink_resolved(s, "http://dls", now=NOW), "deadLetterSinkUri",
     "http://dls"),
    (lambda s: tl.mark_dead_letter_sink_failed(s, "R", "m", now=NOW), "deadLetterSinkUri", None),
    (lambda s: tl.mark_dead_letter_sink_not_configured(s, now=NOW), "deadLetterSinkUri", None),
])
def test_marks_keep_the_uris_in_step(mark: Any, field: str, value: str | None) -> None:
    status = {"subscriberUri": "http://old", "deadLetterSinkUri": "http://old"}
    mark(status)
    assert status.get(field) == value


@pytest.mark.parametrize(("propagate", "type_"), [
    (tl.propagate_broker_condition, "BrokerReady"),
    (tl.propagate_dependency_condition, "DependencyReady"),
])
@pytest.mark.parametrize(("ready", "expected"), [
    (None, "Unknown"),
    ({"type": "Ready", "status": "True"}, "True"),
    ({"type": "Ready", "status": "False", "reason": "R", "message": "m"}, "False"),
    ({"type": "Ready", "status": "Unknown", "reason": "R", "message": "m"}, "Unknown"),
    ({"type": "Ready", "status": "Maybe"}, "Unknown"),
])
def test_propagate(propagate: Any, type_: str, ready: dict[str, Any] | None, expected: str) -> None:
    status: dict[str, Any] = {}
    propagate(status, ready, now=NOW)
    found = condition(status, type_)
    assert found is not None and found[0] == expected
    if ready is not None and ready.get("reason"):
        assert found[1:] == ("R", "m")


@pytest.mark.parametrize(("generation", "observed", "expected"), [(3, 3, True), (3, 2, False)])
def test_is_ready(generation: int, observed: int, expected: bool) -> None:
    status: dict[str, Any] = {"observedGeneration": observed}
    all_good(status)
    assert tl.is_ready({"metadata": {"generation": generation}, "status": status}) is expected
    assert tl.is_ready({"metadata": {}}) is False
