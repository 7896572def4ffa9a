"""Every module that calls Redis translates an unreachable store into `errors.StoreUnavailable`
(a TemporaryError: 503 + Retry-After at an ingress), so the code above it catches only
`ripple.errors`. The store here is a closed port: the connection is refused at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio

from broker.tailing import Tail
from channels import queues as queue_ops
from channels.appending import Appender
from channels.fanout import Fanout
from channels.queues import Queues
from ripple import cloudevents as ce
from ripple import cron, errors, keys, redisclient
from ripple.store.redis import RedisResourceStore
from serving import deferring
from sources import reporting
from sources.ping.scheduler import PingJob, PingScheduler
from sources.publishing import Publisher

EVENT = ce.CloudEvent({"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, None)
JOB = PingJob(namespace="ns", name="p", schedule=cron.parse("* * * * *"), tick_key="tick:{p}",
              stream="queue:{p}", attributes={"specversion": "1.0", "type": "t", "source": "/s"},
              data=None)

def fanout(client: redis.asyncio.Redis) -> Fanout:
    return Fanout(client, "log:{b}", lambda _a: [], str, consumer="c1")


Operation = Callable[[redis.asyncio.Redis], Awaitable[object]]

OPERATIONS: dict[str, Operation] = {
    "queues.ensure_group": lambda c: Queues(c).ensure_group("q:{t}:a"),
    "queues.read": lambda c: Queues(c).read("q:{t}:a", "c1", count=1, block_ms=None),
    "queues.reclaim": lambda c: Queues(c).reclaim("q:{t}:a", "c1", min_idle_ms=1, count=1),
    "queues.reclaim_streams": lambda c: Queues(c).reclaim_streams([("q:{t}:a", 1, 1)], "c1"),
    "queues.ack": lambda c: Queues(c).ack("q:{t}:a", b"1-0"),
    "queues.schedule_retry": lambda c: Queues(c).schedule_retry("q:{t}:a", "q:{t}:z", b"1-0", 1.0),
    "queues.replace": lambda c: Queues(c).replace("q:{t}:a", b"1-0", {b"a": b"{}"}),
    "queues.promote": lambda c: Queues(c).promote("q:{t}:z", 1.0),
    "queues.delete": lambda c: Queues(c).delete(["q:{t}:a", "q:{u}:b"]),
    "appender.append": lambda c: Appender(c, max_backlog=10).append("log:{b}", {b"a": b"{}"}),
    "fanout.ensure_group": lambda c: fanout(c)._ensure_group(),
    "fanout.round": lambda c: fanout(c)._round(True),
    "publisher.publish_once": lambda c: Publisher(c).publish_once("queue:{g}", "marker:{g}", EVENT),
    "ping.fire": lambda c: PingScheduler(c).fire(JOB, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
    "reporting.write": lambda c: reporting.write(c, "c1", {("KafkaSource", "ns", "k"): {}}),
    "reporting.read": lambda c: reporting.read(c, [("KafkaSource", "ns", "k")]),
    "tail.follow": lambda c: Tail(c, lambda _ns, _n: None)._follow("log:{b}", _never),
    "resource store": lambda c: RedisResourceStore(c).current_version(),
    "serving invocations.enqueue": lambda c: deferring.Queue(c).enqueue({"id": "i1"}),
    "serving invocations.ensure_group": lambda c: deferring.Queue(c).ensure_group(),
    "serving invocations.read": lambda c: deferring.Queue(c).read("c1", 1, 1),
    "serving invocations.move_due": lambda c: deferring.Queue(c).move_due(1.0),
    "serving invocations.reclaim": lambda c: deferring.Queue(c).reclaim("c1", 1.0),
    "serving invocations.done": lambda c: deferring.Queue(c).done(b"1-0"),
    "serving invocations.retry": lambda c: deferring.Queue(c).retry(b"1-0", {"id": "i1"}, 1.0),
}


async def _never(_message: dict) -> None:
    raise AssertionError("nothing is sent from an unreachable store")


@pytest.fixture
async def unreachable() -> AsyncIterator[redis.asyncio.Redis]:
    client = redisclient.connect("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.mark.parametrize("name", sorted(OPERATIONS))
async def test_an_unreachable_store_is_a_temporary_error(name: str, unreachable) -> None:
    with pytest.raises(errors.StoreUnavailable) as raised:
        await OPERATIONS[name](unreachable)
    assert isinstance(raised.value, errors.TemporaryError)
    assert isinstance(raised.value.__cause__, redisclient.UNAVAILABLE)


async def test_discarding_the_streams_of_an_unreachable_store_is_logged(unreachable, caplog) -> None:
    queue_ops.discard(unreachable, [keys.broker_queue("ns", "b", "t")])
    for task in list(queue_ops._background):
        await task
    assert "could not delete streams" in caplog.text
