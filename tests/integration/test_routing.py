"""The broker ingress's routed appends on a real Valkey (issue #14, "one hop less"): one
script appends an event to the broker's log and to the queue of every Trigger it matches,
moves the fan-out's group past it, and records the "accepted" trace hop; the fan-out still
copies what was appended unrouted (before an upgrade), and each event reaches each queue
once whichever way it went."""

from __future__ import annotations

import asyncio

import pytest

from broker import filters
from channels import tracing
from channels.appending import Appender, Route
from channels.fanout import GROUP, Fanout
from ripple import cloudevents as ce
from ripple import errors, keys
from ripple.cloudevents import records
from ripple.settings import TraceSettings
from tests.support.waiting import until

pytestmark = pytest.mark.integration

LOG = keys.broker_log("ns", "b")


def queue_of(name: str) -> str:
    return keys.broker_queue("ns", "b", name)


def event(i: int, type_: str = "order.created", source: str = "/shop") -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": f"e{i}", "source": source, "type": type_},
                         b'{"i": %d}' % i)


def index(**specs: dict) -> filters.FilterIndex:
    found = filters.FilterIndex()
    for name, spec in specs.items():
        found.put(name, spec)
    return found


INDEX = index(orders={"filter": {"attributes": {"type": "order.created"}}},
              shop={"filters": [{"prefix": {"source": "/sh"}}]},
              payments={"filter": {"attributes": {"type": "payment.made"}}})


def routed_appender(client, match=INDEX.match, **options) -> Appender:
    appender = Appender(client, max_backlog=options.pop("max_backlog", 10_000), **options)
    appender.route({LOG: Route(match, queue_of)}, owner=keys.BROKERS)
    return appender


async def ids_of(client, stream: str) -> list[str]:
    return [ce.from_record(f).attributes["id"] for _, f in await client.xrange(stream)]


async def group_of(client) -> dict:
    [group] = [g for g in await client.xinfo_groups(LOG) if g["name"] == GROUP.encode()]
    return group


async def test_one_script_appends_to_the_log_and_every_matching_queue(redis_client) -> None:
    appender = routed_appender(redis_client)
    await asyncio.gather(*(appender.append(LOG, ce.to_record(event(i))) for i in range(5)))
    await appender.append(LOG, ce.to_record(event(5, "payment.made")))
    assert await ids_of(redis_client, LOG) == ["e0", "e1", "e2", "e3", "e4", "e5"]
    assert await ids_of(redis_client, queue_of("orders")) == ["e0", "e1", "e2", "e3", "e4"]
    assert await ids_of(redis_client, queue_of("shop")) == ["e0", "e1", "e2", "e3", "e4", "e5"]
    assert await ids_of(redis_client, queue_of("payments")) == ["e5"]
    [(_, logged)] = await redis_client.xrange(LOG, count=1)
    [(_, queued)] = await redis_client.xrange(queue_of("orders"), count=1)
    assert logged[records.ROUTED] == b"1" and records.ROUTED not in queued
    assert queued == ce.to_record(event(0))  # the queue entry is the event's record, whole
    assert appender.backlog(LOG) == 6


async def test_an_event_no_trigger_matches_is_only_logged(redis_client) -> None:
    appender = routed_appender(redis_client)
    await appender.append(LOG, ce.to_record(event(1, "nobody.cares", "/elsewhere")))
    assert await redis_client.xlen(LOG) == 1
    assert await redis_client.keys(queue_of("*")) == []


async def test_a_caught_up_fanout_group_is_moved_past_routed_appends(redis_client) -> None:
    fanout = Fanout(redis_client, LOG, INDEX.match, queue_of, consumer="c1")
    await fanout._ensure_group()
    appender = routed_appender(redis_client)
    last = (await asyncio.gather(*(appender.append(LOG, ce.to_record(event(i))) for i in range(4))))[-1]
    group = await group_of(redis_client)
    assert group["last-delivered-id"] == last and group["lag"] == 0 and group["pending"] == 0
    await fanout._round(chores=False)  # its own pending entries: none
    assert await fanout._next() == []  # and nothing new to read: the hop is gone
    assert await redis_client.xlen(queue_of("orders")) == 4


async def test_entries_left_unrouted_are_still_fanned_out_once(redis_client) -> None:
    """An upgrade: the log holds entries an older ingress appended unrouted, the fan-out has
    not read them yet, and the new ingress routes while they wait. Every event reaches each
    matching queue exactly once, and once the fan-out caught up, the group moves again."""
    fanout = Fanout(redis_client, LOG, INDEX.match, queue_of, consumer="c1", batch=2)
    await fanout._ensure_group()
    for i in range(3):
        await redis_client.xadd(LOG, ce.to_record(event(i)))  # what the old ingress wrote
    appender = routed_appender(redis_client)
    for i in range(3, 6):
        await appender.append(LOG, ce.to_record(event(i)))
    assert (await group_of(redis_client))["last-delivered-id"] == b"0-0"  # not moved: unread left
    task = asyncio.create_task(fanout.run())
    try:
        await until(lambda: _caught_up(redis_client), what="the fan-out read the log")
    finally:
        fanout.stopped = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sorted(await ids_of(redis_client, queue_of("orders"))) == [f"e{i}" for i in range(6)]
    assert sorted(await ids_of(redis_client, queue_of("shop"))) == [f"e{i}" for i in range(6)]
    last = await appender.append(LOG, ce.to_record(event(6)))
    assert (await group_of(redis_client))["last-delivered-id"] == last


async def _caught_up(client) -> bool:
    group = await group_of(client)
    return group["lag"] == 0 and group["pending"] == 0


async def test_without_a_route_the_append_is_left_to_the_fanout(redis_client) -> None:
    fanout = Fanout(redis_client, LOG, INDEX.match, queue_of, consumer="c1")
    await fanout._ensure_group()
    appender = routed_appender(redis_client)
    appender.route({}, owner=keys.BROKERS)  # the broker is gone from this process's view
    await appender.append(LOG, ce.to_record(event(1)))
    [(_, logged)] = await redis_client.xrange(LOG)
    assert records.ROUTED not in logged
    assert await redis_client.xlen(queue_of("orders")) == 0
    assert (await group_of(redis_client))["lag"] == 1  # the fan-out will copy it


async def test_a_copy_that_fails_fails_the_append_and_leaves_no_log_entry(redis_client) -> None:
    await redis_client.set(queue_of("payments"), "not a stream")  # XADD to it: WRONGTYPE
    appender = routed_appender(redis_client)
    good, bad = await asyncio.gather(appender.append(LOG, ce.to_record(event(1))),
                                     appender.append(LOG, ce.to_record(event(2, "payment.made"))),
                                     return_exceptions=True)
    assert isinstance(good, bytes) and isinstance(bad, errors.StoreUnavailable)
    assert await ids_of(redis_client, LOG) == ["e1"]  # a 503 answer, no event in the log
    assert await ids_of(redis_client, queue_of("orders")) == ["e1"]


async def test_the_ingress_records_the_accepted_hop_with_the_triggers_matched(redis_client) -> None:
    appender = routed_appender(redis_client)
    appender.tracer = tracer = tracing.Tracer(redis_client, TraceSettings(sample=1.0), worker="w0")
    entry = await appender.append(LOG, ce.to_record(event(7)))
    await tracer.flush()
    [hop] = await tracing.read(redis_client, "e7")
    assert hop["hop"] == "accepted" and hop["entry"] == entry.decode() and hop["log"] == "broker:ns/b"
    assert sorted(hop["matched"]) == ["orders", "shop"]


async def test_the_fanout_records_no_second_accepted_hop_for_a_routed_entry(redis_client) -> None:
    tracer = tracing.Tracer(redis_client, TraceSettings(sample=1.0), worker="w0")
    fanout = Fanout(redis_client, LOG, INDEX.match, queue_of, consumer="c1", tracer=tracer)
    await fanout._ensure_group()
    await redis_client.xadd(LOG, ce.to_record(event(0)))  # unread: keeps the group behind
    appender = routed_appender(redis_client)
    appender.tracer = tracer
    await appender.append(LOG, ce.to_record(event(1)))
    await fanout._round(chores=False)
    await fanout._round(chores=False)  # reads both: copies e0, acknowledges e1 uncopied
    await tracer.flush()
    assert [h["hop"] for h in await tracing.read(redis_client, "e1")] == ["accepted"]
    assert [h["hop"] for h in await tracing.read(redis_client, "e0")] == ["accepted"]
    assert await ids_of(redis_client, queue_of("orders")) == ["e1", "e0"]


class Objects:
    """What `BrokerPlane.sync` reads of the informer: the resources, by kind."""

    def __init__(self, *objects: dict) -> None:
        self.objects = list(objects)
        self.version = 1

    def list(self, kind: str, namespace: str | None = None) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, *_: object) -> None:
        return None


def broker() -> dict:
    return {"kind": "Broker", "metadata": {"name": "b", "namespace": "ns", "resourceVersion": "1"}, "spec": {}}


def trigger(name: str, type_: str) -> dict:
    return {"kind": "Trigger", "metadata": {"name": name, "namespace": "ns", "resourceVersion": "1"},
            "spec": {"broker": "b", "filter": {"attributes": {"type": type_}},
                     "subscriber": {"uri": "http://127.0.0.1:9/"}}}


@pytest.fixture
async def plane_of(redis_client):
    from broker.plane import BrokerPlane
    from channels.deliveries import Deliveries
    from channels.queues import Queues
    from channels.sending import HttpSender
    from ripple.settings import DeliverySettings, IngressSettings, Settings

    made = []

    def make(informer: Objects, *, route_brokers: bool = True):
        sender = HttpSender()
        deliveries = Deliveries(Queues(redis_client), sender, consumer="c1", settings=DeliverySettings())
        appender = Appender(redis_client, max_backlog=10_000)
        settings = Settings(ingress=IngressSettings(route_brokers=route_brokers))
        plane = BrokerPlane(redis_client, informer, appender, deliveries, settings, consumer="c1")  # type: ignore[arg-type]
        made.append((plane, deliveries, sender))
        return plane, appender

    yield make
    for plane, deliveries, sender in made:
        await plane.close()
        await deliveries.close(drain_timeout=1)
        await sender.close()


async def test_the_plane_routes_to_the_triggers_that_exist_when_an_event_is_appended(
        redis_client, plane_of) -> None:
    """Knative's semantics: an event goes to the Triggers that exist when it is routed. A
    Trigger added while events flow gets the events after it; a deleted one none more."""
    informer = Objects(broker(), trigger("t1", "order.created"))
    plane, appender = plane_of(informer)
    plane.sync()
    await appender.append(LOG, ce.to_record(event(1)))
    informer.objects.append(trigger("t2", "order.created"))
    plane.sync()
    await appender.append(LOG, ce.to_record(event(2)))
    informer.objects = [o for o in informer.objects if o["metadata"]["name"] != "t1"]
    plane.sync()
    await appender.append(LOG, ce.to_record(event(3)))
    assert await ids_of(redis_client, queue_of("t2")) == ["e2", "e3"]
    await until(lambda: _gone(redis_client, queue_of("t1")), what="t1's queue discarded")
    assert await ids_of(redis_client, LOG) == ["e1", "e2", "e3"]


async def _gone(client, key: str) -> bool:
    return not await client.exists(key)


async def test_with_routing_off_the_plane_leaves_the_copies_to_the_fanout(redis_client, plane_of) -> None:
    plane, appender = plane_of(Objects(broker(), trigger("t1", "order.created")), route_brokers=False)
    plane.sync()
    await appender.append(LOG, ce.to_record(event(1)))
    await until(lambda: _length_is(redis_client, queue_of("t1"), 1), what="the fan-out copied e1")
    [(_, logged)] = await redis_client.xrange(LOG)
    assert records.ROUTED not in logged


async def _length_is(client, key: str, length: int) -> bool:
    return await client.xlen(key) == length
