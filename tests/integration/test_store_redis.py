"""The resource store's contract on real Valkey (`ripple.store.redis`).

Mirrors `tests/unit/test_store_memory.py`, and adds what only a real server shows:
resuming a watch from a resourceVersion across store objects, trimmed history, the
atomicity of concurrent writers, the keys written, an unreachable server, and the one-time
renaming of a store an earlier Ripple wrote before its keys had the `{res}` hash tag.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio

from ripple import errors, keys, rediscluster, redisclient
from ripple.store import RedisResourceStore, migrate
from tests.support.waiting import until

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


BROKER = Kind("eventing.knative.dev", "v1", "Broker", "brokers")
TRIGGER = Kind("eventing.knative.dev", "v1", "Trigger", "triggers")
KINDS = {(k.api_version, k.kind): k for k in (BROKER, TRIGGER)}


def resolve(api_version: str, kind: str) -> Any:
    try:
        return KINDS[(api_version, kind)]
    except KeyError:
        raise errors.NotFound(f'no kind "{kind}" in "{api_version}"') from None


def broker(name: str = "default", namespace: str = "ns", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


@pytest.fixture
def store(redis_client: redis.asyncio.Redis) -> RedisResourceStore:
    return RedisResourceStore(redis_client, resolve=resolve, block_ms=100)


async def collect(store: RedisResourceStore, n: int, **watch: Any) -> list[tuple[str, str, str]]:
    seen: list[tuple[str, str, str]] = []
    async with contextlib.aclosing(store.watch(**watch)) as events:  # type: ignore[type-var]
        async for event in events:
            meta = event["object"]["metadata"]
            seen.append((event["type"], meta["name"], meta["resourceVersion"]))
            if len(seen) == n:
                break
    return seen


async def test_create_get_and_the_keys_written(
    store: RedisResourceStore, redis_client: Any
) -> None:
    created = await store.create({**broker(config={"x": []}), "status": {"ready": True}})
    assert (created["metadata"]["generation"], created["metadata"]["resourceVersion"]) == (1, "1")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created["metadata"]["creationTimestamp"]
    )
    assert await store.get(BROKER, "ns", "default") == created
    raw = await redis_client.hget(
        keys.resources("eventing.knative.dev/v1", "brokers"), "ns/default"
    )
    assert json.loads(raw) == created  # an empty list stays a list: no Lua re-encoding
    assert await redis_client.get(keys.RESOURCE_VERSION) == b"1"
    [(entry_id, fields)] = await redis_client.xrange(keys.RESOURCE_CHANGES)
    assert (entry_id, fields[b"type"]) == (b"1-0", b"ADDED")
    with pytest.raises(
        errors.Conflict, match='brokers.eventing.knative.dev "default" already exists'
    ):
        await store.create(broker())


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get(BROKER, "ns", "x"),
        lambda s: s.delete(BROKER, "ns", "x"),
        lambda s: s.update(broker("x")),
        lambda s: s.update_status({**broker("x"), "status": {}}),
    ],
)
async def test_not_found(store: RedisResourceStore, call: Any) -> None:
    with pytest.raises(errors.NotFound, match='brokers.eventing.knative.dev "x" not found'):
        await call(store)


def placed(objs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objs]


async def test_list_is_sorted_and_filtered_by_namespace(store: RedisResourceStore) -> None:
    for ns, name in [("b", "z"), ("a", "y"), ("b", "a"), ("a", "x")]:
        await store.create(broker(name, ns))
    assert placed(await store.list(BROKER)) == [("a", "x"), ("a", "y"), ("b", "a"), ("b", "z")]
    assert placed(await store.list(BROKER, "a")) == [("a", "x"), ("a", "y")]
    assert await store.list(TRIGGER) == []
    # The API's list answer splices the stored JSON in: the same objects, in the same order.
    assert [json.loads(raw) for raw in await store.list_json(BROKER, "a")] == await store.list(BROKER, "a")


async def test_update_status_and_generation(store: RedisResourceStore) -> None:
    created = await store.create(broker(config={"x": 1}))
    labelled = await store.update(
        {
            **broker(config={"x": 1}),
            "metadata": {"name": "default", "namespace": "ns", "labels": {"a": "b"}},
        }
    )
    assert (labelled["metadata"]["generation"], labelled["metadata"]["labels"]) == (1, {"a": "b"})
    changed = await store.update(broker(config={"x": 2}))
    assert changed["metadata"]["generation"] == 2
    status = await store.update_status({**broker(config={"ignored": 1}), "status": {"ok": 1}})
    assert (status["spec"], status["status"], status["metadata"]["generation"]) == (
        {"config": {"x": 2}},
        {"ok": 1},
        2,
    )
    assert status["metadata"]["uid"] == created["metadata"]["uid"]
    assert (await store.update(broker(config={"x": 2})))["status"] == {"ok": 1}
    assert await store.current_version() == "4"  # the last update was a no-op


async def test_delete(store: RedisResourceStore) -> None:
    await store.create(broker())
    gone = await store.delete(BROKER, "ns", "default")
    assert gone["metadata"]["resourceVersion"] == "2"
    assert await store.list(BROKER) == []


async def test_delete_with_a_uid_spares_a_namesake_created_since(store: RedisResourceStore) -> None:
    first = await store.create(broker())
    await store.delete(BROKER, "ns", "default")
    second = await store.create(broker())
    with pytest.raises(errors.Conflict, match="Precondition failed: UID in precondition"):
        await store.delete(BROKER, "ns", "default", uid=first["metadata"]["uid"])
    assert (await store.get(BROKER, "ns", "default"))["metadata"]["uid"] == second["metadata"]["uid"]
    await store.delete(BROKER, "ns", "default", uid=second["metadata"]["uid"])
    assert await store.list(BROKER) == []


@pytest.mark.parametrize("method", ["update", "update_status"])
async def test_concurrent_stale_writers_exactly_one_wins(
    store: RedisResourceStore, method: str
) -> None:
    created = await store.create(broker())
    writes = [
        getattr(store, method)({**created, "spec": {"writer": i}, "status": {"writer": i}})
        for i in range(10)
    ]
    outcomes = await asyncio.gather(*writes, return_exceptions=True)
    winners = [o for o in outcomes if isinstance(o, dict)]
    assert len(winners) == 1
    assert all(isinstance(o, errors.Conflict) for o in outcomes if o not in winners)
    assert await store.get(BROKER, "ns", "default") == winners[0]


async def test_concurrent_unconditional_writers_lose_nothing(store: RedisResourceStore) -> None:
    await store.create(broker())
    await asyncio.gather(
        *(store.update(broker(n=i)) for i in range(5)),
        store.update_status({**broker(), "status": {"ready": True}}),
    )
    final = await store.get(BROKER, "ns", "default")
    assert final["status"] == {"ready": True}
    assert final["metadata"]["resourceVersion"] == await store.current_version()


async def test_watch_sees_later_changes_of_its_kinds(
    store: RedisResourceStore, redis_client: Any
) -> None:
    await store.create(broker("before"))
    task = asyncio.create_task(collect(store, 3, kinds=[BROKER]))

    async def reading() -> bool:  # "from now" is fixed once its first read blocks
        return int((await redis_client.info("clients"))["blocked_clients"]) >= 1
    await until(reading)
    await store.create(broker("b"))
    await store.create({**broker("t"), "kind": "Trigger"})
    await store.update(broker("b", x=1))
    await store.delete(BROKER, "ns", "b")
    assert await asyncio.wait_for(task, 5) == [
        ("ADDED", "b", "2"),
        ("MODIFIED", "b", "4"),
        ("DELETED", "b", "5"),
    ]


async def test_watch_resumes_from_a_resource_version(
    store: RedisResourceStore, redis_client: Any
) -> None:
    for name in "ab":
        await store.create(broker(name))
    first = await collect(store, 2, since="0")
    # A new store object (a restarted process) resumes after the last version it saw.
    again = RedisResourceStore(redis_client, resolve=resolve, block_ms=100)
    task = asyncio.create_task(collect(again, 2, since=first[-1][2]))
    await store.update(broker("a", x=1))
    await store.create(broker("c"))
    assert await asyncio.wait_for(task, 5) == [("MODIFIED", "a", "3"), ("ADDED", "c", "4")]


async def test_watch_since_trimmed_history_is_too_old(
    store: RedisResourceStore, redis_client: Any
) -> None:
    for name in "abcd":
        await store.create(broker(name))
    await redis_client.xtrim(keys.RESOURCE_CHANGES, maxlen=2, approximate=False)
    assert await collect(store, 1, since="2") == [("ADDED", "c", "3")]
    with pytest.raises(errors.Conflict, match="too old resource version: 1"):
        await collect(store, 1, since="1")


async def test_unreachable_server_is_store_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = redis.asyncio.Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
    store = RedisResourceStore(client, resolve=resolve)
    try:
        for call in (store.get(BROKER, "ns", "x"), store.create(broker()), store.current_version()):
            with pytest.raises(errors.StoreUnavailable):
                await call
    finally:
        await client.aclose()


async def test_watch_on_a_resp3_client(valkey_url: str, redis_client: Any) -> None:
    client = redis.asyncio.Redis.from_url(valkey_url, protocol=3, decode_responses=True)
    try:
        store = RedisResourceStore(client, resolve=resolve, block_ms=100)
        await store.create(broker("a"))
        assert await collect(store, 1, since="0") == [("ADDED", "a", "1")]
        assert [o["metadata"]["name"] for o in await store.list(BROKER)] == ["a"]
    finally:
        await client.aclose()


async def test_a_status_write_against_the_callers_copy_skips_the_read_and_a_stale_one_is_refused(
    store: RedisResourceStore, redis_client: redis.asyncio.Redis
) -> None:
    current = await store.create(broker())
    calls = {"HGET": 0}
    original = redis_client.hget

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls["HGET"] += 1
        return await original(*args, **kwargs)

    redis_client.hget = counted  # type: ignore[method-assign]
    fresh = await store.update_status({**current, "status": {"n": 1}}, current=current)
    assert fresh["status"] == {"n": 1} and calls["HGET"] == 0  # one round trip: the script
    # A stale copy is only a guess: the script refuses it, the store reads, and the
    # resourceVersion precondition of the write still decides.
    with pytest.raises(errors.Conflict):
        await store.update_status({**current, "status": {"n": 2}}, current=current)
    unconditional = {**current, "metadata": {k: v for k, v in current["metadata"].items()
                                             if k != "resourceVersion"}, "status": {"n": 3}}
    stored = await store.update_status(unconditional, current=current)
    assert stored["status"] == {"n": 3} and calls["HGET"] == 2


async def write_untagged(store: RedisResourceStore, client: redis.asyncio.Redis) -> None:
    """A store as a Ripple before the `{res}` hash tag left it: the same objects, versions and
    changes, under `ripple:res:...` (one server only: no earlier Ripple ran on a cluster)."""
    if rediscluster.is_cluster(client):
        pytest.skip("the migration is of one server's keys (RIPPLE_TEST_STORE=cluster)")
    await store.create(broker("a"))
    await store.create({**broker("t"), "kind": "Trigger"})
    await store.update(broker("a", x=1))
    for key in (keys.RESOURCE_VERSION, keys.RESOURCE_CHANGES,
                keys.resources("eventing.knative.dev/v1", "brokers"),
                keys.resources("eventing.knative.dev/v1", "triggers")):
        await client.rename(key, keys.untagged(key))


async def test_an_earlier_ripples_store_is_renamed_once_and_read_as_before(
    store: RedisResourceStore, redis_client: redis.asyncio.Redis
) -> None:
    await write_untagged(store, redis_client)
    await redis_client.set("ripple:dataplane:other", "kept")  # not the store's: not touched
    assert await migrate(redis_client) == 4
    assert sorted(k.decode() for k in await redis_client.keys("ripple:res:*")) == []
    assert [o["metadata"]["name"] for o in await store.list(BROKER)] == ["a"]
    assert (await store.get(BROKER, "ns", "a"))["spec"] == {"x": 1}
    assert await store.current_version() == "3"
    assert await collect(store, 3, since="0") == [("ADDED", "a", "1"), ("ADDED", "t", "2"),
                                                  ("MODIFIED", "a", "3")]
    assert (await store.create(broker("b")))["metadata"]["resourceVersion"] == "4"
    assert await migrate(redis_client) == 0  # nothing left to rename
    assert await redis_client.get("ripple:dataplane:other") == b"kept"


async def test_workers_migrating_together_rename_each_key_once(
    store: RedisResourceStore, redis_client: redis.asyncio.Redis, valkey_url: str
) -> None:
    await write_untagged(store, redis_client)
    others = [redisclient.connect(valkey_url) for _ in range(3)]
    try:
        moved = await asyncio.gather(*(migrate(c) for c in others))
    finally:
        await asyncio.gather(*(c.aclose() for c in others))
    assert sorted(moved)[-1] == 4 and sum(m for m in moved if m > 0) == 4
    assert await store.current_version() == "3"


async def test_a_store_with_todays_keys_is_left_alone_even_beside_old_ones(
    store: RedisResourceStore, redis_client: redis.asyncio.Redis
) -> None:
    """An earlier Ripple started again on a migrated store writes the old keys anew: they
    are not renamed over today's (which would lose every write since)."""
    if rediscluster.is_cluster(redis_client):
        pytest.skip("the migration is of one server's keys (RIPPLE_TEST_STORE=cluster)")
    await store.create(broker("today"))
    await redis_client.set(keys.untagged(keys.RESOURCE_VERSION), "7")
    assert await migrate(redis_client) == -1
    assert await store.current_version() == "1"
