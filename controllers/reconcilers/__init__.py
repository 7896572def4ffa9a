"""The reconcilers: pure functions from a declared resource and the observed world to the
status it should have. One module per kind; `RECONCILERS` maps a kind to its function.

Each takes `(obj, observed, now, base_url)` and returns the new status dict without
touching its input. The platforms (local, kubernetes) write the status when it changed.
"""

from __future__ import annotations

from collections.abc import Callable

from controllers.reconcilers import broker, channel, flows, sources, subscription, trigger
from controllers.reconcilers.observing import Object, Observed, Reconcile
from controllers.reconcilers.resources import flows as flow_resources

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
}

CHILDREN: dict[str, Callable[[Object], list[Object]]] = {
    "Sequence": flow_resources.children,
    "Parallel": flow_resources.children,
}
"""Kinds that own children: a pure builder of the children each object wants."""

__all__ = ["CHILDREN", "RECONCILERS", "Observed", "Reconcile", "broker", "channel", "sources", "subscription", "trigger"]
