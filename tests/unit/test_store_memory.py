"""The resource store's contract, on the in-memory fake (`ripple.store.memory`).

The same behaviours run against real Valkey in `tests/integration/test_store_redis.py`.
Kinds are local stand-ins for `ripple.api.registry.Kind`, so the store is tested alone.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from ripple import errors
from ripple.store import MemoryResourceStore, objects


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
SECRET = Kind("", "v1", "Secret", "secrets")
KINDS = {(k.api_version, k.kind): k for k in (BROKER, TRIGGER, SECRET)}


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


NOW = datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=UTC)


@pytest.fixture
def store() -> MemoryResourceStore:
    return MemoryResourceStore(resolve=resolve, clock=lambda: NOW)


async def test_create_stamps_system_metadata(store: MemoryResourceStore) -> None:
    created = await store.create(broker(config={"x": 1}))
    meta = created["metadata"]
    assert re.fullmatch(r"[0-9a-f-]{36}", meta["uid"])
    assert meta["creationTimestamp"] == "2024-05-01T12:30:45Z"
    assert (meta["generation"], meta["resourceVersion"]) == (1, "1")
    assert await store.get(BROKER, "ns", "default") == created
    assert await store.current_version() == "1"


@pytest.mark.parametrize(
    "obj, error, message",
    [
        (broker(), errors.Conflict, 'brokers.eventing.knative.dev "default" already exists'),
        (
            {**broker(), "metadata": {"namespace": "ns"}},
            errors.Invalid,
            "metadata.name: Required value",
        ),
        (
            {**broker(), "metadata": {"name": "b"}},
            errors.Invalid,
            "metadata.namespace: Required value",
        ),
        ({**broker(), "kind": "Nope"}, errors.NotFound, 'no kind "Nope"'),
        ({**broker(name="when"), "spec": {"at": datetime.now()}}, errors.Invalid, "not JSON"),
    ],
)
async def test_create_rejects(
    store: MemoryResourceStore, obj: dict, error: type, message: str
) -> None:
    await store.create(broker())
    with pytest.raises(error, match=re.escape(message)):
        await store.create(obj)
    assert await store.current_version() == "1"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.get(BROKER, "ns", "x"), 'brokers.eventing.knative.dev "x" not found'),
        (lambda s: s.get(SECRET, "ns", "x"), 'secrets "x" not found'),
        (lambda s: s.delete(BROKER, "ns", "x"), 'brokers.eventing.knative.dev "x" not found'),
        (lambda s: s.update(broker("x")), 'brokers.eventing.knative.dev "x" not found'),
        (lambda s: s.update_status({**broker("x"), "status": {}}), '"x" not found'),
    ],
)
async def test_not_found(store: MemoryResourceStore, call: Any, message: str) -> None:
    with pytest.raises(errors.NotFound, match=re.escape(message)):
        await call(store)


def placed(objs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objs]


async def test_list_is_sorted_and_filtered_by_namespace(store: MemoryResourceStore) -> None:
    for ns, name in [("b", "z"), ("a", "y"), ("b", "a"), ("a", "x")]:
        await store.create(broker(name, ns))
    await store.create({**broker("t", "a"), "kind": "Trigger"})
    assert placed(await store.list(BROKER)) == [("a", "x"), ("a", "y"), ("b", "a"), ("b", "z")]
    assert placed(await store.list(BROKER, "b")) == [("b", "a"), ("b", "z")]
    assert await store.list(BROKER, "c") == []


# (what the update changes, generation after, whether anything was written)
UPDATES = [
    ({"spec": {"config": {"x": 2}}}, 2, True),
    ({"metadata": {"name": "default", "namespace": "ns", "labels": {"a": "b"}}}, 1, True),
    ({"status": {"hacked": True}}, 1, False),  # an update cannot touch status: a no-op
]


@pytest.mark.parametrize("change, generation, written", UPDATES)
async def test_update_keeps_status_and_bumps_generation_on_spec(
    store: MemoryResourceStore, change: dict, generation: int, written: bool
) -> None:
    created = await store.create({**broker(config={"x": 1}), "status": {"ready": True}})
    updated = await store.update({**broker(config={"x": 1}), **change})
    assert updated["metadata"]["generation"] == generation
    assert updated["status"] == {"ready": True}
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    versions = (
        int(created["metadata"]["resourceVersion"]),
        int(updated["metadata"]["resourceVersion"]),
    )
    assert (versions[1] > versions[0]) is written


async def test_update_status_replaces_only_status(store: MemoryResourceStore) -> None:
    await store.create(broker(config={"x": 1}))
    done = await store.update_status(
        {**broker(config={"x": 9}), "status": {"observedGeneration": 1}}
    )
    assert done["spec"] == {"config": {"x": 1}}
    assert done["status"] == {"observedGeneration": 1}
    assert done["metadata"]["generation"] == 1


@pytest.mark.parametrize("method", ["update", "update_status"])
async def test_stale_resource_version_conflicts(store: MemoryResourceStore, method: str) -> None:
    created = await store.create(broker())
    await store.update(broker(config={"changed": True}))
    stale = {**created, "spec": {"mine": True}, "status": {"mine": True}}
    with pytest.raises(errors.Conflict, match="the object has been modified"):
        await getattr(store, method)(stale)


async def test_current_resource_version_passes(store: MemoryResourceStore) -> None:
    created = await store.create(broker())
    updated = await store.update({**created, "spec": {"x": 1}})
    assert updated["spec"] == {"x": 1}


async def test_noop_write_is_skipped(store: MemoryResourceStore) -> None:
    created = await store.create({**broker(), "status": {"ready": True}})
    assert await store.update(created) == created
    assert await store.update_status(created) == created
    assert await store.current_version() == created["metadata"]["resourceVersion"]


async def test_delete_returns_object_at_its_deletion_version(store: MemoryResourceStore) -> None:
    await store.create(broker())
    gone = await store.delete(BROKER, "ns", "default")
    assert gone["metadata"]["resourceVersion"] == "2"
    assert await store.list(BROKER) == []


async def test_delete_with_a_uid_spares_a_namesake_created_since(store: MemoryResourceStore) -> None:
    first = await store.create(broker())
    await store.delete(BROKER, "ns", "default")
    second = await store.create(broker())
    with pytest.raises(errors.Conflict, match="Precondition failed: UID in precondition"):
        await store.delete(BROKER, "ns", "default", uid=first["metadata"]["uid"])
    assert (await store.get(BROKER, "ns", "default"))["metadata"]["uid"] == second["metadata"]["uid"]
    await store.delete(BROKER, "ns", "default", uid=second["metadata"]["uid"])
    assert await store.list(BROKER) == []


async def test_returned_objects_are_copies(store: MemoryResourceStore) -> None:
    created = await store.create(broker(config={"x": 1}))
    created["spec"]["config"]["x"] = 99
    (await store.get(BROKER, "ns", "default"))["spec"]["config"]["x"] = 98
    assert (await store.get(BROKER, "ns", "default"))["spec"] == {"config": {"x": 1}}


async def collect(store: MemoryResourceStore, n: int, **watch: Any) -> list[tuple[str, str, str]]:
    seen: list[tuple[str, str, str]] = []
    async for event in store.watch(**watch):
        meta = event["object"]["metadata"]
        seen.append((event["type"], meta["name"], meta["resourceVersion"]))
        if len(seen) == n:
            break
    return seen


async def test_watch_from_now_sees_later_changes_of_its_kinds(store: MemoryResourceStore) -> None:
    await store.create(broker("before"))
    since = await store.current_version()
    task = asyncio.create_task(collect(store, 3, kinds=[BROKER], since=since))  # from `since`,
    # whether it starts before or after the writes below
    await store.create(broker("b"))
    await store.create({**broker("t"), "kind": "Trigger"})
    await store.update(broker("b", config={"x": 1}))
    await store.delete(BROKER, "ns", "b")
    assert await asyncio.wait_for(task, 1) == [
        ("ADDED", "b", "2"),
        ("MODIFIED", "b", "4"),
        ("DELETED", "b", "5"),
    ]


async def test_watch_resumes_exactly_after_since(store: MemoryResourceStore) -> None:
    for name in "abcd":
        await store.create(broker(name))
    assert await collect(store, 2, since="2") == [("ADDED", "c", "3"), ("ADDED", "d", "4")]


async def test_watch_since_older_than_history_is_too_old() -> None:
    store = MemoryResourceStore(resolve=resolve, history=2)
    for name in "abcd":
        await store.create(broker(name))
    assert await collect(store, 1, since="2") == [("ADDED", "c", "3")]
    with pytest.raises(errors.Conflict, match="too old resource version: 1"):
        await collect(store, 1, since="1")


@pytest.mark.parametrize("value", ["x", "-1", ""])
def test_bad_resource_version_is_invalid(value: str) -> None:
    with pytest.raises(errors.Invalid, match="metadata.resourceVersion"):
        objects.parse_version(value)
