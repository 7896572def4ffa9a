"""Who a delivery queue delivers for: the typed identity of every delivery `Target`.

The broker plane (Triggers), the channel plane (Subscriptions) and the sources' plane
(PingSource, GitHubSource, GitLabSource, KafkaSource) each build `Target`s keyed by a
`TargetKey`; `channels.deliveries.Deliveries.sync` serves the targets of the kinds its
caller owns, and the sources' plane reads the kind, namespace and name of a removed
target back from its key to delete the source's keys. Logs print a key as
`Kind/namespace/name`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ripple.queued import Kind

__all__ = ["Kind", "TargetKey"]


@dataclass(frozen=True, slots=True)
class TargetKey:
    """One Trigger, Subscription or source: unique among every queue of a process."""

    kind: Kind
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"
