"""Sequence (`flows.knative.dev/v1`): its names and constants.

Imported by the other `sequence_*` modules and by the Sequence reconciler. Upstream:
`knative/eventing:pkg/apis/flows/v1/sequence_types.go` and the CRD
`config/core/resources/sequence.yaml`. A Sequence of N steps is N channels and N
Subscriptions: Subscription i sends channel i to step i, and replies to channel i+1, or
to `spec.reply` for the last step. Its address is channel 0's.
"""

from __future__ import annotations

from typing import Any

from ripple.api import duck

GROUP = "flows.knative.dev"
VERSION = "v1"
KIND = "Sequence"

# `steps`: at least one; `channelTemplate`: defaulted to InMemoryChannel; `reply`: a
# Destination for the last step's replies. Status: the conditions, `channelStatuses[]` and
# `subscriptionStatuses[]` ({channel or subscription: ObjectReference, ready: Condition}),
# and `address`, channel 0's.
SPEC_FIELDS = ("steps", "channelTemplate", "reply")
# A step is a Destination, inline, plus the DeliverySpec of the Subscription that calls it.
STEP_FIELDS = (*duck.DESTINATION_FIELDS, "delivery")


def steps(sequence: dict[str, Any]) -> list[dict[str, Any]]:
    """The admitted Sequence's steps."""
    spec = sequence.get("spec")
    found = spec.get("steps") if isinstance(spec, dict) else None
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []
