"""The fan-out on a real Valkey: matched entries are copied to their queues in log order, the
log is acknowledged, and entries written without the `t`/`s` fields still match."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from broker import filters
from channels.fanout import GROUP, Fanout
from ripple import cloudevents as ce

pytestmark = pytest.mark.integration

LOG = "log:{b}"


def queue_of(name: str) -> str:
    return f"queue:{{b}}:{name}"


def event(i: int, type_: str, **extra: object) -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": f"e{i}", "source": "/src", "type": type_,
                          **extra}, b'{"i": %d}' % i)


def index(**specs: dict) -> filters.FilterIndex:
    found = filters.FilterIndex()
    for name, spec in specs.items():
        found.put(name, spec)
    return found


async def run_fanout(client, match, entries: list[dict[bytes, bytes]], wanted: dict[str, int]):
    """XADD `entries` to the log, fan out until each queue holds its wanted count."""
    last = b""
    for fields in entries:
        last = await client.xadd(LOG, fields)
    fanout = Fanout(client, LOG, match, queue_of, consumer="c1", batch=4)
    task = asyncio.create_task(fanout.run())
    try:
        deadline = time.monotonic() + 10
        while True:
            lengths = {name: await client.xlen(queue_of(name)) for name in wanted}
            groups = [g for g in await client.xinfo_groups(LOG) if g["name"] == GROUP.encode()]
            done = groups and groups[0]["last-delivered-id"] == last and not groups[0]["pending"]
            if lengths == wanted and done:
                return
            assert time.monotonic() < deadline, (lengths, groups)
            await asyncio.sleep(0.02)
    finally:
        fanout.stopped = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def queued(client, name: str) -> list[ce.CloudEvent]:
    return [ce.from_record(fields) for _, fields in await client.xrange(queue_of(name))]


async def test_copies_matches_in_log_order_and_acknowledges(redis_client) -> None:
    triggers = index(
        orders={"filter": {"attributes": {"type": "order"}}},
        prefixed={"filters": [{"prefix": {"type": "ord"}}]},
        by_subject={"filters": [{"cesql": "subject = 'x'"}]},
        everything={},
    )
    events = [event(i, "order" if i % 2 else "refund", **({"subject": "x"} if i % 3 == 0 else {}))
              for i in range(10)]
    await run_fanout(redis_client, triggers.match, [ce.to_record(e) for e in events],
                     {"orders": 5, "prefixed": 5, "by_subject": 4, "everything": 10})
    assert [e.id for e in await queued(redis_client, "orders")] == ["e1", "e3", "e5", "e7", "e9"]
    assert await queued(redis_client, "prefixed") == [e for e in events if e.type == "order"]
    assert [e.id for e in await queued(redis_client, "by_subject")] == ["e0", "e3", "e6", "e9"]
    assert await queued(redis_client, "everything") == events
    # the copies are the log's entries, field for field
    [(_, copy)] = await redis_client.xrange(queue_of("orders"), count=1)
    assert copy == ce.to_record(events[1])


async def test_a_batch_that_matches_nothing_is_acknowledged(redis_client) -> None:
    triggers = index(orders={"filter": {"attributes": {"type": "order"}}})
    await run_fanout(redis_client, triggers.match,
                     [ce.to_record(event(i, "other")) for i in range(6)], {"orders": 0})
    assert not await redis_client.exists(queue_of("orders"))


async def test_entries_without_their_own_type_field_still_match(redis_client) -> None:
    """What an older Ripple wrote: only `a` and `d`."""
    old = [{b"a": json.dumps(event(i, "order").attributes).encode(), b"d": b"{}"} for i in range(3)]
    triggers = index(orders={"filters": [{"exact": {"type": "order"}}]})
    await run_fanout(redis_client, triggers.match, old, {"orders": 3})
    assert [e.type for e in await queued(redis_client, "orders")] == ["order"] * 3


async def test_indexed_triggers_match_without_parsing_the_attributes(redis_client) -> None:
    """`type` comes from its own field: `a` is never parsed for exact and prefix triggers."""
    seen: list[object] = []
    triggers = index(orders={"filters": [{"exact": {"type": "order"}}]},
                     prefixed={"filters": [{"prefix": {"type": "or"}}]})

    def match(attributes):
        seen.append(attributes)
        return triggers.match(attributes)

    await run_fanout(redis_client, match, [ce.to_record(event(i, "order")) for i in range(3)],
                     {"orders": 3, "prefixed": 3})
    assert seen and all(a._parsed is None for a in seen)  # type: ignore[attr-defined]
