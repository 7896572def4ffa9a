"""InMemoryChannel (`messaging.knative.dev/v1`): its names and constants.

Imported by the other `in_memory_channel_*` modules and by reconcilers. Upstream:
`knative/eventing:pkg/apis/messaging/v1/in_memory_channel_types.go` and the CRD
`config/channels/in-memory-channel/resources/in-memory-channel.yaml`.

Ripple's InMemoryChannel is not in memory: like every Ripple channel its events go to a
durable log in Redis before the ingress answers 202. The name is Knative's, kept so that
manifests apply unchanged.
"""

from __future__ import annotations

GROUP = "messaging.knative.dev"
VERSION = "v1"
KIND = "InMemoryChannel"

# Knative's IMC dispatcher mode (async answers 202 before fan-out). Ripple admits and
# ignores it: its ingress answers 202 once the event is durably in the channel's log.
ASYNC_HANDLER_ANNOTATION = "messaging.knative.dev/async-handler"
# "cluster" or "namespace": which dispatcher serves the channel, in Knative.
SCOPE_ANNOTATION = "eventing.knative.dev/scope"
SCOPES = ("cluster", "namespace")

# `channelable` has both: `subscribers[]` (written by reconcilers) and `delivery`, the
# default of the channel's subscriptions. Status: the conditions, `address`,
# `subscribers[]` (channelable.SubscriberStatus) and `deadLetterSinkUri`.
SPEC_FIELDS = ("subscribers", "delivery")

