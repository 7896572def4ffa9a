"""A replay on real Valkey: every page of the window enqueued to the matching Trigger, or,
once asked to stop (its client closed the stream), whole pages only, up to the page under
way: the last progress then counts exactly what is in the queue."""

from __future__ import annotations

import asyncio
import time

import pytest

from broker import replaying
from ripple import cloudevents as ce
from ripple import keys
from ripple.api.eventing.replays import ReplayRequest

pytestmark = pytest.mark.integration

EVENTS = replaying.PAGE * 3 + 10
TRIGGERS = [{"metadata": {"name": "t", "namespace": "ns"},
             "spec": {"broker": "b", "subscriber": {"uri": "http://x/"}}}]


async def fill(client) -> None:
    async with client.pipeline(transaction=False) as pipe:
        for i in range(EVENTS):
            event = ce.CloudEvent({"specversion": "1.0", "id": f"e{i}", "source": "/s", "type": "t"})
            pipe.xadd(keys.broker_log("ns", "b"), ce.to_record(event))
        await pipe.execute()


def request(replay_id: str) -> ReplayRequest:
    now = time.time()
    return ReplayRequest("ns", "b", now - 600, now + 1, id=replay_id)


async def test_a_whole_replay_enqueues_every_page(redis_client) -> None:
    await fill(redis_client)
    seen = [p async for p in replaying.replay(redis_client, request("r1"), TRIGGERS)]
    assert [p.replayed for p in seen] == [256, 512, 768, EVENTS, EVENTS] and seen[-1].done
    assert await redis_client.xlen(keys.broker_queue("ns", "b", "t")) == EVENTS


async def test_a_stopped_replay_ends_at_the_page_boundary(redis_client) -> None:
    await fill(redis_client)
    stop = asyncio.Event()
    seen = []
    async for progress in replaying.replay(redis_client, request("r2"), TRIGGERS, stop=stop):
        seen.append(progress)
        stop.set()  # after the first page, as when Ctrl-C closed the stream then
    assert [(p.replayed, p.scanned, p.done) for p in seen] == [(256, 256, False)]
    queued = await redis_client.xrange(keys.broker_queue("ns", "b", "t"))
    assert len(queued) == 256  # whole pages only: exactly what the last progress counted
    assert ce.from_record(queued[-1][1]).attributes["ripplereplay"] == "r2"
