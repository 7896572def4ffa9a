"""The DeadLetterSinkResolved marks every kind with a `delivery.deadLetterSink` shares.

Broker, Trigger, Channel and InMemoryChannel lifecycles bind one `Marks` to their own
condition set and re-export its methods under Knative's `Mark*` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ripple.api import conditions

Status = dict[str, Any]

TYPE = "DeadLetterSinkResolved"
NOT_CONFIGURED = "DeadLetterSinkNotConfigured"


@dataclass(frozen=True)
class Marks:
    condition_set: conditions.ConditionSet
    type: str = TYPE

    def resolved(self, status: Status, uri: str, *, now: datetime) -> None:
        status["deadLetterSinkUri"] = uri
        self.condition_set.mark_true(status, self.type, now=now)

    def not_configured(self, status: Status, *, now: datetime) -> None:
        status.pop("deadLetterSinkUri", None)
        self.condition_set.mark_true(status, self.type, now=now, reason=NOT_CONFIGURED,
                                     message="No dead letter sink is configured.")

    def failed(self, status: Status, reason: str, message: str, *, now: datetime) -> None:
        status.pop("deadLetterSinkUri", None)
        self.condition_set.mark_false(status, self.type, reason, message, now=now)
