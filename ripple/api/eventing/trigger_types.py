"""Trigger (`eventing.knative.dev/v1`): names, constants, spec shapes and annotation readers.

Imported by the other `trigger_*` modules, by the Trigger reconciler and by the broker's
fan-out. Upstream: `knative/eventing:pkg/apis/eventing/v1/trigger_types.go`.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

from ripple.api import duck, meta

GROUP = "eventing.knative.dev"
VERSION = "v1"
KIND = "Trigger"

BROKER_LABEL = "eventing.knative.dev/broker"
# JSON ObjectReference of a source the Trigger waits for (kn's source-and-trigger pairs).
DEPENDENCY_ANNOTATION = "knative.dev/dependency"
# "enabled" asks for a `default` Broker in the namespace; valid only on Triggers of it.
INJECTION_ANNOTATION = "eventing.knative.dev/injection"

SPEC_FIELDS = ("broker", "brokerRef", "filter", "filters", "subscriber", "delivery")
FILTER_FIELDS = ("attributes",)
DIALECTS = ("all", "any", "not", "exact", "prefix", "suffix", "cesql")


class TriggerFilter(TypedDict, total=False):
    attributes: dict[str, str]  # exact matches, ANDed; "" means "present and non-empty"


# One expression of the CloudEvents Subscriptions API, with exactly one dialect set. The
# functional form is needed because one wire name, `not`, is a Python keyword.
SubscriptionsAPIFilter = TypedDict("SubscriptionsAPIFilter", {
    "all": "list[SubscriptionsAPIFilter]",
    "any": "list[SubscriptionsAPIFilter]",
    "not": "SubscriptionsAPIFilter",
    "exact": dict[str, str],
    "prefix": dict[str, str],
    "suffix": dict[str, str],
    "cesql": str,
}, total=False)


class TriggerSpec(TypedDict, total=False):
    """An admitted Trigger's `spec`, as the broker's filter compiler reads it.

    Its status: the conditions, `subscriberUri` and `deadLetterSinkUri`.
    """

    broker: str  # required, immutable
    filter: TriggerFilter
    filters: list[SubscriptionsAPIFilter]  # wins over `filter` when non-empty
    subscriber: duck.Destination
    delivery: duck.DeliverySpec  # replaces the Broker's as a whole


def parse_dependency(text: str) -> dict[str, Any]:
    """The ObjectReference in a `knative.dev/dependency` value; ValueError if it is not one."""
    try:
        found = json.loads(text)
    except ValueError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(found, dict):
        raise ValueError(  # noqa: TRY004 (valid JSON, but the wrong value)
            "not a JSON object such as "
            '{"apiVersion":"sources.knative.dev/v1","kind":"PingSource","name":"x"}'
        )
    return found


def dependency(trigger: dict[str, Any]) -> dict[str, Any] | None:
    """The source this Trigger depends on, its namespace defaulted; None if there is none.

    Admission refused malformed values, so a stored Trigger's annotation parses.
    """
    text = meta.annotations_of(trigger).get(DEPENDENCY_ANNOTATION)
    if not isinstance(text, str):
        return None
    try:
        ref = parse_dependency(text)
    except ValueError:
        return None
    namespace, _ = meta.key(trigger)
    return {**ref, "namespace": ref.get("namespace") or namespace}


def broker_name(trigger: dict[str, Any]) -> str:
    spec = trigger.get("spec")
    name = spec.get("broker") if isinstance(spec, dict) else None
    return name if isinstance(name, str) else ""
