"""channels.deliveries: each plane syncs only the kinds of target it owns, and the promoter
polls only the schedules of running dispatchers (a deleted Broker's schedule is dropped)."""

from __future__ import annotations

import asyncio
from collections import Counter

from channels.deliveries import Deliveries
from channels.dispatching import Target
from channels.identities import Kind, TargetKey
from channels.policies import DeliveryPolicy
from ripple.settings import DeliverySettings


class FakeQueues:
    """Reads that wait for ever (no entries); records every promote."""

    def __init__(self) -> None:
        self.promoted: Counter[str] = Counter()
        self.polled = asyncio.Event()
        self.redis = None

    async def ensure_group(self, stream: str) -> None:
        return None

    async def read(self, *args: object, **kwargs: object) -> list:
        await asyncio.Event().wait()
        return []

    async def promote(self, schedule: str, now: float, limit: int = 500) -> int:
        self.promoted[schedule] += 1
        self.polled.set()
        return 0


def target(kind: Kind, name: str, schedule: str) -> Target:
    return Target(key=TargetKey(kind, "ns", name), stream=f"q:{{{schedule}}}:{name}",
                  schedule=schedule, namespace="ns", subscriber_uri="http://sub",
                  policy=DeliveryPolicy())


async def promoted_after_sync(queues: FakeQueues, rounds: int, schedule: str) -> Counter[str]:
    """What the promoter polls over the next `rounds` polls of `schedule`."""
    queues.promoted.clear()
    while queues.promoted[schedule] < rounds:
        queues.polled.clear()
        await queues.polled.wait()
    return Counter(queues.promoted)


async def test_a_schedule_no_dispatcher_uses_is_no_longer_polled() -> None:
    queues = FakeQueues()
    deliveries = Deliveries(queues, sender=None, consumer="c",  # type: ignore[arg-type]
                            settings=DeliverySettings(schedule_poll=0.001))
    try:
        deliveries.sync([target(Kind.TRIGGER, "t1", "gone"), target(Kind.TRIGGER, "t2", "kept")],
                        kinds={Kind.TRIGGER})
        assert set(await promoted_after_sync(queues, 2, "kept")) == {"gone", "kept"}
        deliveries.sync([target(Kind.TRIGGER, "t2", "kept")], kinds={Kind.TRIGGER})
        polled = await promoted_after_sync(queues, 3, "kept")
        assert "gone" not in polled
    finally:
        await deliveries.close(drain_timeout=0)


async def test_a_plane_removes_only_the_kinds_it_owns() -> None:
    queues = FakeQueues()
    deliveries = Deliveries(queues, sender=None, consumer="c",  # type: ignore[arg-type]
                            settings=DeliverySettings())
    try:
        trigger = target(Kind.TRIGGER, "same-name", "b")
        subscription = target(Kind.SUBSCRIPTION, "same-name", "c")
        ping = target(Kind.PING_SOURCE, "same-name", "p")
        deliveries.sync([trigger], kinds={Kind.TRIGGER})
        deliveries.sync([subscription], kinds={Kind.SUBSCRIPTION})
        deliveries.sync([ping], kinds={Kind.PING_SOURCE, Kind.GITHUB_SOURCE})
        assert set(deliveries.targets()) == {trigger.key, subscription.key, ping.key}
        removed = deliveries.sync([], kinds={Kind.SUBSCRIPTION})
        assert removed == [subscription]
        assert set(deliveries.targets()) == {trigger.key, ping.key}
        assert str(ping.key) == "PingSource/ns/same-name"
    finally:
        await deliveries.close(drain_timeout=0)


async def test_the_promoter_survives_an_unexpected_error() -> None:
    queues = FakeQueues()
    failing = True
    promote = queues.promote

    async def promote_once_failing(schedule: str, now: float, limit: int = 500) -> int:
        nonlocal failing
        if failing:
            failing = False
            raise RuntimeError("CROSSSLOT")
        return await promote(schedule, now, limit)

    queues.promote = promote_once_failing  # type: ignore[method-assign]
    deliveries = Deliveries(queues, sender=None, consumer="c",  # type: ignore[arg-type]
                            settings=DeliverySettings(schedule_poll=0.001))
    try:
        deliveries.sync([target(Kind.TRIGGER, "t1", "s")], kinds={Kind.TRIGGER})
        assert (await promoted_after_sync(queues, 1, "s"))["s"] >= 1
        assert not failing
    finally:
        await deliveries.close(drain_timeout=0)
