"""The kinds of resource with a delivery queue and a dead-letter store, and the scopes that
name them (`trigger:NAME`, `broker:NAME`, ...): one list for the data plane
(`channels.identities`, `channels.locations`), the operations API
(`controllers.platforms.local.operations`) and the CLI (`ripple dlq`, `ripple describe`),
which must not import the data plane to start.
"""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    """The kind of resource a queue delivers for, as Knative spells it."""

    TRIGGER = "Trigger"
    SUBSCRIPTION = "Subscription"
    PING_SOURCE = "PingSource"
    GITHUB_SOURCE = "GitHubSource"
    GITLAB_SOURCE = "GitLabSource"
    KAFKA_SOURCE = "KafkaSource"


SOURCE_KINDS = (Kind.PING_SOURCE, Kind.GITHUB_SOURCE, Kind.GITLAB_SOURCE, Kind.KAFKA_SOURCE)
"""The sources with a dead-letter store and a queue. A KafkaSource's events wait in Kafka,
so its queue holds only what a redrive sent back; its adapter keeps what nobody took in
the store (`channels.deadletters.keep`)."""

KINDS = (Kind.TRIGGER, Kind.SUBSCRIPTION, *SOURCE_KINDS)
"""Every kind with a queue: what a scope `KIND:NAME` names one of."""

PARENTS = {"broker": (Kind.TRIGGER, "broker"), "channel": (Kind.SUBSCRIPTION, "channel")}
"""A scope that names a parent (`broker:NAME`): the kind of its queued children, and the
field of theirs that names it."""

SCOPES = (*(str(kind).lower() for kind in KINDS), *PARENTS)
"""The words a scope starts with, lowercase: `trigger`, ..., `broker`, `channel`."""
