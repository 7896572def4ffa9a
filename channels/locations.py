"""Where a Trigger's, Subscription's or source's delivery keys live, from its resource.

One answer for the planes that build delivery `Target`s (`broker.plane`, `channels.plane`,
`sources.plane`) and for the operations API (`channels.deadletters`, `channels.stats`),
which must find the same queue, retry schedule and dead-letter store from the resource
alone. Every key comes from `ripple.keys`; each location's keys share one hash tag. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ripple import keys, queued

from channels.identities import Kind, TargetKey


@dataclass(frozen=True)
class Location:
    key: TargetKey
    parent: str
    """The Broker or Channel whose queue it is (empty for a source)."""
    stream: str
    schedule: str
    dead_letters: str
    failures: str
    """The hash holding the last error, in field `key.name`."""

    @property
    def dead_letter_index(self) -> str:
        """The index of the dead-letter store's event ids (`ripple.keys.dead_letter_index`)."""
        return keys.dead_letter_index(self.dead_letters)


def of_trigger(namespace: str, broker: str, name: str) -> Location:
    return Location(TargetKey(Kind.TRIGGER, namespace, name), broker,
                    keys.broker_queue(namespace, broker, name), keys.broker_schedule(namespace, broker),
                    keys.broker_dead_letters(namespace, broker, name),
                    keys.broker_failures(namespace, broker))


def of_subscription(namespace: str, channel_namespace: str, channel: str, name: str) -> Location:
    return Location(TargetKey(Kind.SUBSCRIPTION, namespace, name), channel,
                    keys.channel_queue(channel_namespace, channel, name),
                    keys.channel_schedule(channel_namespace, channel),
                    keys.channel_dead_letters(channel_namespace, channel, name),
                    keys.channel_failures(channel_namespace, channel))


def of_source(kind: Kind, namespace: str, name: str) -> Location:
    return Location(TargetKey(kind, namespace, name), "",
                    keys.source_queue(kind, namespace, name), keys.source_schedule(kind, namespace, name),
                    keys.source_dead_letters(kind, namespace, name),
                    keys.source_failures(kind, namespace, name))


def of_resource(obj: dict[str, Any]) -> Location | None:
    """The location of a Trigger, Subscription or source; None for other kinds."""
    meta = obj.get("metadata") or {}
    namespace, name = meta.get("namespace") or "default", str(meta.get("name", ""))
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind == Kind.TRIGGER:
        return of_trigger(namespace, str(spec.get("broker", "")), name)
    if kind == Kind.SUBSCRIPTION:
        ref = spec.get("channel") or {}
        return of_subscription(namespace, ref.get("namespace") or namespace, str(ref.get("name", "")), name)
    for source in queued.SOURCE_KINDS:
        if kind == source:
            return of_source(source, namespace, name)
    return None
