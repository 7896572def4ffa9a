"""KafkaSource's data plane, used by `sources.plane`: one `KafkaAdapter` per source.

    records   Kafka record -> CloudEvent (pure): binding events pass through, others wrap
    offsets   which offsets may be committed while records finish out of order (pure)
    adapter   the consumer: group membership, ordered/unordered delivery, commits
"""

from __future__ import annotations

from sources.kafka.adapter import KafkaAdapter, KafkaConfig

__all__ = ["KafkaAdapter", "KafkaConfig"]
