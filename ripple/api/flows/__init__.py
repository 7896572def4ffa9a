"""The `flows.knative.dev` API group: Sequence and Parallel.

Imported by `ripple.api`; importing the kind modules registers the kinds. Each kind is a
family of modules named as in Knative's `pkg/apis/flows/v1`: `<kind>` (registration),
`<kind>_types`, `<kind>_defaults`, `<kind>_validation` and `<kind>_lifecycle`. Both kinds
are built from channels and Subscriptions (`ripple.api.messaging`); `statuses` makes the
`{channel|subscription, ready}` entries they report for those children.
"""

from __future__ import annotations

from ripple.api.flows import (
    parallel,
    parallel_lifecycle,
    parallel_types,
    sequence,
    sequence_lifecycle,
    sequence_types,
    statuses,
)

__all__ = [
    "parallel",
    "parallel_lifecycle",
    "parallel_types",
    "sequence",
    "sequence_lifecycle",
    "sequence_types",
    "statuses",
]
