"""The local driver of the reconcilers over an in-memory store: what a change reconciles,
children and their collection, effects, waiting for the data plane, and a crashing
reconciler that skips only its object. Each test waits on a condition, never a clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import pytest

import ripple.api  # noqa: F401  (registers the kinds)
from controllers import reconcilers
from controllers.platforms.local import controller as controllers
from controllers.reconcilers import sources as source_reconciler
from controllers.reconciling import DataPlane, ObjectRef
from ripple.api import loading, registry
from ripple.informers import Informer
from ripple.store import MemoryResourceStore

NS = "ns"
EVENTING = "eventing.knative.dev/v1"


def broker(name: str, **annotations: str) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": EVENTING, "kind": "Broker",
                           "metadata": {"name": name, "namespace": NS}}
    if annotations:
        obj["metadata"]["annotations"] = annotations
    return loading.admit(obj)


def trigger(name: str, broker_name: str = "default") -> dict[str, Any]:
    return loading.admit({"apiVersion": EVENTING, "kind": "Trigger",
                          "metadata": {"name": name, "namespace": NS},
                          "spec": {"broker": broker_name, "subscriber": {"uri": "http://sub/"}}})


def sequence(name: str, steps: int) -> dict[str, Any]:
    return loading.admit({"apiVersion": "flows.knative.dev/v1", "kind": "Sequence",
                          "metadata": {"name": name, "namespace": NS},
                          "spec": {"steps": [{"uri": f"http://step{i}/"} for i in range(steps)]}})


def kind(api_version: str, name: str) -> registry.Kind:
    return registry.lookup(api_version, name)


def ready(obj: dict[str, Any] | None) -> str | None:
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition["type"] == "Ready":
            return str(condition["status"])
    return None


class Harness:
    def __init__(self, data_plane: Callable[[], DataPlane] | None = None) -> None:
        self.store = MemoryResourceStore()
        self.informer = Informer(self.store, registry.kinds())
        view = data_plane or (lambda: DataPlane(synced=2**62))

        async def read(_wanted: Iterable[tuple[str, str, str]]) -> DataPlane:
            return view()

        self.controller = controllers.LocalController(
            self.store, self.informer, base_url="http://x", data_plane=read, poll=0.01)
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> "Harness":
        self.tasks = [asyncio.create_task(self.informer.run()),
                      asyncio.create_task(self.controller.run())]
        await asyncio.wait_for(self.informer.synced.wait(), 5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def until(self, check: Callable[[], Any], timeout: float = 5.0) -> Any:
        async with asyncio.timeout(timeout):
            while not (found := check()):
                await asyncio.sleep(0.005)
        return found

    def cached(self, kind_name: str, name: str) -> dict[str, Any] | None:
        return self.informer.get(kind_name, NS, name)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with Harness() as h:
        yield h


async def test_a_crashing_reconciler_skips_only_its_object(monkeypatch: pytest.MonkeyPatch) -> None:
    real = reconcilers.RECONCILERS["Broker"]
    calls: list[str] = []

    def flaky(obj: dict[str, Any], ctx: Any) -> Any:
        calls.append(obj["metadata"]["name"])
        if obj["metadata"]["name"] == "bad":
            raise RuntimeError("a reconciler bug")
        return real(obj, ctx)

    monkeypatch.setitem(reconcilers.RECONCILERS, "Broker", flaky)
    async with Harness() as h:
        for name in ("bad", "good"):
            await h.store.create(broker(name))
        await h.until(lambda: ready(h.cached("Broker", "good")) == "True")
        # the bad one is retried with backoff, and never blocks the good one
        await h.until(lambda: calls.count("bad") >= 3)
        assert not (h.cached("Broker", "bad") or {}).get("status")


async def test_a_resync_lets_the_event_loop_turn_between_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """The data plane shares the controller's event loop: between two turns of the loop,
    each reconciler worker reconciles one object at most, however many a resync queues."""
    real = reconcilers.RECONCILERS["Trigger"]
    turns = 0
    at: list[int] = []

    def recording(obj: dict[str, Any], ctx: Any) -> Any:
        at.append(turns)
        return real(obj, ctx)

    async def turning() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    monkeypatch.setitem(reconcilers.RECONCILERS, "Trigger", recording)
    async with Harness() as h:
        await h.store.create(broker("default"))
        for i in range(60):
            await h.store.create(trigger(f"t{i}"))
        await h.until(lambda: all(ready(h.cached("Trigger", f"t{i}")) == "True" for i in range(60)))
        ticker = asyncio.create_task(turning())
        await h.until(lambda: h.controller.queue is not None and not len(h.controller.queue))
        at.clear()
        h.controller._queue_all()  # what the periodic resync does
        await h.until(lambda: len(at) >= 60)
        ticker.cancel()
        per_turn = max(at.count(turn) for turn in set(at))
        assert per_turn <= h.controller.workers


async def test_a_broker_change_reconciles_its_triggers_not_the_world(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = reconcilers.RECONCILERS["Trigger"]
    seen: list[str] = []

    def recording(obj: dict[str, Any], ctx: Any) -> Any:
        seen.append(obj["metadata"]["name"])
        return real(obj, ctx)

    monkeypatch.setitem(reconcilers.RECONCILERS, "Trigger", recording)
    async with Harness() as h:
        for name in ("t1", "t2"):
            await h.store.create(trigger(name))
        await h.store.create(trigger("elsewhere", "other"))
        await h.until(lambda: all((h.cached("Trigger", n) or {}).get("status")
                                  for n in ("t1", "t2", "elsewhere")))
        assert ready(h.cached("Trigger", "t1")) != "True"  # no Broker yet
        seen.clear()
        await h.store.create(broker("default"))
        await h.until(lambda: ready(h.cached("Trigger", "t1")) == "True"
                      and ready(h.cached("Trigger", "t2")) == "True")
        # the Broker's Triggers, each with its own status write's echo; not the other Broker's
        assert "elsewhere" not in seen and {"t1", "t2"} <= set(seen)
        assert ready(h.cached("Trigger", "elsewhere")) != "True"
        assert ObjectRef("Trigger", NS, "elsewhere") not in h.controller.tracker.readers_of(
            ObjectRef("Broker", NS, "default"))


async def test_a_broker_is_ready_only_once_the_data_plane_serves_it() -> None:
    synced = {"version": 0}
    async with Harness(lambda: DataPlane(synced=synced["version"])) as h:
        created = await h.store.create(broker("default"))
        status = await h.until(lambda: (h.cached("Broker", "default") or {}).get("status"))
        ingress = next(c for c in status["conditions"] if c["type"] == "IngressReady")
        assert (ingress["status"], ingress["reason"]) == ("Unknown", "WaitingForDataPlane")
        assert int(created["metadata"]["resourceVersion"]) > 0
        synced["version"] = 10**6  # every data-plane process applied it
        await h.until(lambda: ready(h.cached("Broker", "default")) == "True")


async def test_a_broker_of_another_class_is_not_ready_and_says_why(harness: Harness) -> None:
    h = harness
    await h.store.create(broker("k", **{"eventing.knative.dev/broker.class": "Kafka"}))
    status = await h.until(lambda: (h.cached("Broker", "k") or {}).get("status"))
    ready_condition = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready_condition["status"] == "False"
    assert ready_condition["reason"] == "BrokerClassNotSupported"
    assert '"Kafka"' in ready_condition["message"]
    assert "address" not in status


async def test_a_sequence_owns_its_children_and_they_follow_its_spec(harness: Harness) -> None:
    h = harness
    seq = await h.store.create(sequence("seq", 3))
    await h.until(lambda: ready(h.cached("Sequence", "seq")) == "True")
    for i in range(3):
        channel = h.cached("InMemoryChannel", f"seq-kn-sequence-{i}")
        assert channel is not None
        owner = channel["metadata"]["ownerReferences"][0]
        assert owner["uid"] == seq["metadata"]["uid"] and owner["controller"] is True
        # the channel lists its Subscription in spec.subscribers, as Knative's does
        assert [s["name"] for s in channel["spec"]["subscribers"]] == [f"seq-kn-sequence-{i}"]
    current = await h.store.get(kind("flows.knative.dev/v1", "Sequence"), NS, "seq")
    current["spec"]["steps"] = current["spec"]["steps"][:1]
    await h.store.update(current)
    await h.until(lambda: h.cached("InMemoryChannel", "seq-kn-sequence-2") is None
                  and h.cached("Subscription", "seq-kn-sequence-1") is None)
    assert h.cached("InMemoryChannel", "seq-kn-sequence-0") is not None


async def test_deleting_an_owner_collects_its_children(harness: Harness) -> None:
    h = harness
    await h.store.create(sequence("gone", 2))
    await h.until(lambda: h.cached("Subscription", "gone-kn-sequence-1") is not None)
    await h.store.delete(kind("flows.knative.dev/v1", "Sequence"), NS, "gone")
    await h.until(lambda: not h.informer.list("InMemoryChannel", NS)
                  and not h.informer.list("Subscription", NS))


async def test_a_channel_owns_its_backing_in_memory_channel(harness: Harness) -> None:
    h = harness
    await h.store.create(loading.admit({"apiVersion": "messaging.knative.dev/v1", "kind": "Channel",
                                        "metadata": {"name": "ch", "namespace": NS}}))
    await h.until(lambda: ready(h.cached("Channel", "ch")) == "True")
    channel = h.cached("Channel", "ch")
    assert channel is not None
    backing = h.cached("InMemoryChannel", "ch")
    assert backing is not None and channel["status"]["channel"]["kind"] == "InMemoryChannel"
    assert channel["status"]["address"]["url"] == "http://x/channels/ns/ch"


async def test_an_effect_outcome_reaches_the_status(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[source_reconciler.RegisterWebhook] = []

    async def register(effect: source_reconciler.RegisterWebhook) -> str:
        attempts.append(effect)
        return "4242"

    monkeypatch.setitem(controllers.webhooks.HANDLERS, source_reconciler.RegisterWebhook, register)
    async with Harness() as h:
        await h.store.create(loading.admit({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gh", "namespace": NS},
            "stringData": {"token": "t0k3n", "secret": "s3cr3t"}}))
        await h.store.create(loading.admit({
            "apiVersion": "sources.knative.dev/v1alpha1", "kind": "GitHubSource",
            "metadata": {"name": "hooks", "namespace": NS,
                         "annotations": {"ripple.dev/register-webhook": "true"}},
            "spec": {"ownerAndRepository": "o/r", "eventTypes": ["push"],
                     "accessToken": {"secretKeyRef": {"name": "gh", "key": "token"}},
                     "secretToken": {"secretKeyRef": {"name": "gh", "key": "secret"}},
                     "sink": {"uri": "http://sink/"}}}))
        await h.until(lambda: ((h.cached("GitHubSource", "hooks") or {}).get("status") or {})
                      .get("webhookIDKey") == "4242")
        assert len(attempts) == 1
        assert attempts[0].token == "t0k3n" and "t0k3n" not in repr(attempts[0])


async def test_an_owner_leaves_the_fields_its_childrens_controllers_manage(harness: Harness) -> None:
    """A Sequence declares its channels without spec.subscribers, which the channels'
    reconciler fills: neither may undo the other (they once did, forever)."""
    h = harness
    await h.store.create(sequence("calm", 2))
    await h.until(lambda: ready(h.cached("Sequence", "calm")) == "True")
    channel = h.cached("InMemoryChannel", "calm-kn-sequence-0")
    assert channel is not None and channel["spec"]["subscribers"]
    settled = int(await h.store.current_version())
    await h.store.create(broker("poke"))  # one more change, and a moment for any loop to show
    await h.until(lambda: ready(h.cached("Broker", "poke")) == "True")
    assert int(await h.store.current_version()) - settled < 5


async def test_a_child_whose_new_version_is_refused_is_kept_not_deleted() -> None:
    """A Sequence step changed into something admission refuses: its Subscription stays as
    it was (deleting it would discard its queue), and the problem is reported."""
    from controllers import applying
    from controllers.reconciling import Result

    store = MemoryResourceStore()
    seq = await store.create(sequence("s", 1))
    child = loading.admit({
        "apiVersion": "messaging.knative.dev/v1", "kind": "Subscription",
        "metadata": {"name": "s-kn-sequence-0", "namespace": NS,
                     "ownerReferences": [applying.owner_reference(seq)]},
        "spec": {"channel": {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel",
                             "name": "s-kn-sequence-0"}, "subscriber": {"uri": "http://step/"}}})
    existing = await store.create(child)
    deleted: list[str] = []

    class Writer:
        create, update, update_status = store.create, store.update, store.update_status

        async def delete(self, kind: registry.Kind, namespace: str | None, name: str, *,
                         uid: str | None = None) -> Any:
            deleted.append(name)
            return await store.delete(kind, namespace, name, uid=uid)

    bad = {**child, "spec": {**child["spec"], "delivery": {"retry": -1}}}
    applier = applying.Applier(Writer(), lambda ref: existing if ref.name == "s-kn-sequence-0" else None,
                               lambda uid: [existing], effects=None)  # type: ignore[arg-type]
    applied = await applier.apply(seq, Result(seq.get("status") or {}, children=(bad,)))
    assert deleted == [] and applied.problems and "retry" in applied.problems[0]


async def test_garbage_collection_spares_a_namesake_created_since_it_saw_the_child() -> None:
    """The collector deletes the child it saw by uid: a user's object of the same name,
    made after the owner's child went, is not the owner's to delete."""
    from controllers import applying

    store = MemoryResourceStore()
    seq = await store.create(sequence("s", 1))
    child = loading.admit({
        "apiVersion": "messaging.knative.dev/v1", "kind": "Subscription",
        "metadata": {"name": "s-kn-sequence-0", "namespace": NS,
                     "ownerReferences": [applying.owner_reference(seq)]},
        "spec": {"channel": {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel",
                             "name": "s-kn-sequence-0"}, "subscriber": {"uri": "http://step/"}}})
    seen = await store.create(child)  # what the collector's informer still shows
    await store.delete(registry.lookup(seen["apiVersion"], seen["kind"]), NS, "s-kn-sequence-0")
    users = {**child, "metadata": {"name": "s-kn-sequence-0", "namespace": NS}}
    namesake = await store.create(users)
    applier = applying.Applier(store, lambda ref: None, lambda uid: [seen], effects=None)  # type: ignore[arg-type]
    assert await applier.collect(seq["metadata"]["uid"]) == 0
    kept = await store.get(registry.lookup(seen["apiVersion"], seen["kind"]), NS, "s-kn-sequence-0")
    assert kept["metadata"]["uid"] == namesake["metadata"]["uid"]


async def test_the_data_plane_is_read_rarely_when_caught_up_and_at_once_after_a_change(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(controllers, "IDLE_POLL", 3600.0)
    reads: list[int] = []

    def view() -> DataPlane:
        reads.append(1)
        return DataPlane(synced=2**62)

    async with Harness(view) as h:
        await h.until(lambda: h.controller._next_poll() == 3600.0)  # caught up, nothing reports
        before = len(reads)
        await h.store.create(broker("default"))  # wakes the poller: no hour's wait
        await h.until(lambda: len(reads) > before)
        await h.until(lambda: ready(h.cached("Broker", "default")) == "True")
        h.controller.view = DataPlane(synced=0)
        assert h.controller._next_poll() == h.controller.poll  # behind: read at `poll`
        h.controller.view = DataPlane(synced=None)
        assert h.controller._next_poll() == h.controller.poll  # nobody reports yet
        h.controller.view = DataPlane(synced=2**62)
        await h.store.create(loading.admit({
            "apiVersion": "sources.knative.dev/v1beta1", "kind": "KafkaSource",
            "metadata": {"name": "k", "namespace": NS},
            "spec": {"bootstrapServers": ["localhost:9092"], "topics": ["t"],
                     "sink": {"uri": "http://sink/"}}}))
        await h.until(lambda: h.cached("KafkaSource", "k"))
        h.controller.view = DataPlane(synced=2**62)
        assert h.controller._next_poll() == controllers.REPORTS_EVERY  # adapters report
