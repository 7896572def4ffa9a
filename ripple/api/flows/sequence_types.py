"""Sequence (`flows.knative.dev/v1`): its names, constants and wire shapes.

Imported by the other `sequence_*` modules and by the Sequence reconciler. Upstream:
`knative/eventing:pkg/apis/flows/v1/sequence_types.go` and the CRD
`config/core/resources/sequence.yaml`. A Sequence of N steps is N channels and N
Subscriptions: Subscription i sends channel i to step i, and replies to channel i+1, or
to `spec.reply` for the last step. Its address is channel 0's.
"""

from __future__ import annotations

from typing import Any, TypedDict

from ripple.api import duck

GROUP = "flows.knative.dev"
VERSION = "v1"
KIND = "Sequence"

SPEC_FIELDS = ("steps", "channelTemplate", "reply")
# A step is a Destination, inline, plus the delivery of the Subscription that calls it.
STEP_FIELDS = (*duck.DESTINATION_FIELDS, "delivery")


class SequenceStep(TypedDict, total=False):
    ref: dict[str, str]
    uri: str
    CACerts: str
    audience: str
    delivery: dict[str, Any]  # a DeliverySpec for the call of this step


class SequenceSpec(TypedDict, total=False):
    steps: list[SequenceStep]  # at least one
    channelTemplate: dict[str, Any]  # defaulted to InMemoryChannel
    reply: dict[str, Any]  # a Destination for the last step's replies


class SequenceStatus(TypedDict, total=False):
    conditions: list[dict[str, Any]]
    observedGeneration: int
    channelStatuses: list[dict[str, Any]]  # {channel: ObjectReference, ready: Condition}
    subscriptionStatuses: list[dict[str, Any]]  # {subscription: ObjectReference, ready: ...}
    address: dict[str, str]  # channel 0's {name, url}


def steps(sequence: dict[str, Any]) -> list[dict[str, Any]]:
    """The admitted Sequence's steps."""
    spec = sequence.get("spec")
    found = spec.get("steps") if isinstance(spec, dict) else None
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []
