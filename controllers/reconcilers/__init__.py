"""The reconcilers: one pure `reconcile(obj, ctx) -> Result` per kind (the contract is in
`controllers.reconciling`). One module per kind, as Knative's `pkg/reconciler/<kind>`;
`RECONCILERS` maps a kind to its function, and both platforms drive this one table.
"""

from __future__ import annotations

from controllers.reconcilers import broker, channel, flows, sources, subscription, trigger
from controllers.reconcilers.serving import configuration as serving_configuration
from controllers.reconcilers.serving import revision as serving_revision
from controllers.reconcilers.serving import route as serving_route
from controllers.reconcilers.serving import service as serving_service
from controllers.reconciling import Reconcile

RECONCILERS: dict[str, Reconcile] = {
    "Broker": broker.reconcile,
    "Trigger": trigger.reconcile,
    "InMemoryChannel": channel.reconcile_in_memory_channel,
    "Channel": channel.reconcile_channel,
    "Subscription": subscription.reconcile,
    "Sequence": flows.reconcile_sequence,
    "Parallel": flows.reconcile_parallel,
    "PingSource": sources.reconcile_ping_source,
    "GitHubSource": sources.reconcile_github_source,
    "GitLabSource": sources.reconcile_gitlab_source,
    "KafkaSource": sources.reconcile_kafka_source,
    "Service": serving_service.reconcile,
    "Configuration": serving_configuration.reconcile,
    "Revision": serving_revision.reconcile,
    "Route": serving_route.reconcile,
}

__all__ = ["RECONCILERS", "Reconcile", "broker", "channel", "flows", "sources", "subscription",
           "trigger"]
