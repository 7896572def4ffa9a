"""Channel (`messaging.knative.dev/v1`): its names and constants.

Imported by the other `channel_*` modules, by Sequence and Parallel (which share the
channel template), and by reconcilers. Upstream: `knative/eventing:pkg/apis/messaging/v1/
{channel_types,channel_template_types}.go`, the CRD `config/core/resources/channel.yaml`,
and the cluster default in `config/core/configmaps/default-channel.yaml`
(`default-ch-webhook`).
"""

from __future__ import annotations

from typing import Any

GROUP = "messaging.knative.dev"
VERSION = "v1"
KIND = "Channel"
API_VERSION = f"{GROUP}/{VERSION}"

# Written by the defaulting of both channels: the Subscribable duck version they implement.
SUBSCRIBABLE_ANNOTATION = "messaging.knative.dev/subscribable"
SUBSCRIBABLE_VERSION = "v1"

# `default-ch-webhook`'s clusterDefault: what backs a Channel, Sequence or Parallel that
# names no template. Ripple has no per-namespace defaults.
DEFAULT_CHANNEL_TEMPLATE: dict[str, Any] = {
    "apiVersion": "messaging.knative.dev/v1",
    "kind": "InMemoryChannel",
}

# `channelTemplate`: defaulted, immutable; `subscribers` and `delivery` as `channelable`
# has them. Status: the conditions, `address`, `subscribers[]`, `deadLetterSinkUri`, and
# `channel`, a KReference to the backing channel.
SPEC_FIELDS = ("channelTemplate", "subscribers", "delivery")
# The backing channel's apiVersion and kind (e.g. InMemoryChannel), and a `spec` passed to
# it verbatim.
CHANNEL_TEMPLATE_FIELDS = ("apiVersion", "kind", "spec")


def channel_template(obj: dict[str, Any]) -> dict[str, Any]:
    """The admitted object's `spec.channelTemplate` (Channel, Sequence, Parallel)."""
    spec = obj.get("spec")
    found = spec.get("channelTemplate") if isinstance(spec, dict) else None
    return found if isinstance(found, dict) else {}
