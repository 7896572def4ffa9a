"""Parallel (`flows.knative.dev/v1`): its names, constants and wire shapes.

Imported by the other `parallel_*` modules and by the Parallel reconciler. Upstream:
`knative/eventing:pkg/apis/flows/v1/parallel_types.go` and the CRD
`config/core/resources/parallel.yaml`. A Parallel is an ingress channel and, per branch,
a filter Subscription on the ingress channel (to `filter`, replying into the branch
channel; straight into the branch channel when there is no filter), a branch channel,
and a subscriber Subscription on the branch channel (to `subscriber`, replying to the
branch's `reply`, else `spec.reply`). Its address is the ingress channel's.
"""

from __future__ import annotations

from typing import Any, TypedDict

GROUP = "flows.knative.dev"
VERSION = "v1"
KIND = "Parallel"

SPEC_FIELDS = ("branches", "channelTemplate", "reply")
BRANCH_FIELDS = ("filter", "subscriber", "reply", "delivery")


class ParallelBranch(TypedDict, total=False):
    filter: dict[str, Any]  # a Destination: an event it replies with passes; none drops it
    subscriber: dict[str, Any]  # a Destination; required
    reply: dict[str, Any]  # a Destination; wins over spec.reply
    delivery: dict[str, Any]  # a DeliverySpec for the call of the subscriber


class ParallelSpec(TypedDict, total=False):
    branches: list[ParallelBranch]  # at least one
    channelTemplate: dict[str, Any]  # defaulted to InMemoryChannel
    reply: dict[str, Any]  # a Destination for the replies of branches without their own


class ParallelBranchStatus(TypedDict, total=False):
    filterSubscriptionStatus: dict[str, Any]  # {subscription: ObjectReference, ready: ...}
    filterChannelStatus: dict[str, Any]  # {channel: ObjectReference, ready: Condition}
    subscriberSubscriptionStatus: dict[str, Any]


class ParallelStatus(TypedDict, total=False):
    conditions: list[dict[str, Any]]
    observedGeneration: int
    ingressChannelStatus: dict[str, Any]  # {channel: ObjectReference, ready: Condition}
    branchStatuses: list[ParallelBranchStatus]
    address: dict[str, str]  # the ingress channel's {name, url}


def branches(parallel: dict[str, Any]) -> list[dict[str, Any]]:
    """The admitted Parallel's branches."""
    spec = parallel.get("spec")
    found = spec.get("branches") if isinstance(spec, dict) else None
    return [b for b in found if isinstance(b, dict)] if isinstance(found, list) else []
