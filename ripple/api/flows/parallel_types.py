"""Parallel (`flows.knative.dev/v1`): its names and constants.

Imported by the other `parallel_*` modules and by the Parallel reconciler. Upstream:
`knative/eventing:pkg/apis/flows/v1/parallel_types.go` and the CRD
`config/core/resources/parallel.yaml`. A Parallel is an ingress channel and, per branch,
a filter Subscription on the ingress channel (to `filter`, replying into the branch
channel; straight into the branch channel when there is no filter), a branch channel,
and a subscriber Subscription on the branch channel (to `subscriber`, replying to the
branch's `reply`, else `spec.reply`). Its address is the ingress channel's.
"""

from __future__ import annotations

from typing import Any

GROUP = "flows.knative.dev"
VERSION = "v1"
KIND = "Parallel"

# `branches`: at least one; `channelTemplate`: defaulted to InMemoryChannel; `reply`: a
# Destination for the replies of branches without their own. Status: the conditions,
# `ingressChannelStatus`, `branchStatuses[]` (each a filterChannelStatus,
# filterSubscriptionStatus and subscriberSubscriptionStatus) and `address`, the ingress
# channel's.
SPEC_FIELDS = ("branches", "channelTemplate", "reply")
# `filter`: a Destination, an event it replies with passes and no reply drops it;
# `subscriber`: a Destination, required; `reply`: a Destination that wins over spec.reply;
# `delivery`: a DeliverySpec for the call of the subscriber.
BRANCH_FIELDS = ("filter", "subscriber", "reply", "delivery")


def branches(parallel: dict[str, Any]) -> list[dict[str, Any]]:
    """The admitted Parallel's branches."""
    spec = parallel.get("spec")
    found = spec.get("branches") if isinstance(spec, dict) else None
    return [b for b in found if isinstance(b, dict)] if isinstance(found, list) else []
