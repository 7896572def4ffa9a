"""The tracker: a change reaches exactly the objects whose last reconcile read it."""

from __future__ import annotations

from controllers.reconciling import ObjectRef
from controllers.tracking import Recording, Tracker

BROKER = ObjectRef("Broker", "ns", "default")
T1, T2 = ObjectRef("Trigger", "ns", "t1"), ObjectRef("Trigger", "ns", "t2")
CHANNEL = ObjectRef("InMemoryChannel", "ns", "ch")
SUB = ObjectRef("Subscription", "ns", "s")


def test_readers_of_an_object_are_those_that_read_it() -> None:
    tracker = Tracker()
    tracker.track(T1, {BROKER}, set())
    tracker.track(T2, {BROKER, ObjectRef("Broker", "ns", "other")}, set())
    assert tracker.readers_of(BROKER) == {T1, T2}
    assert tracker.readers_of(ObjectRef("Broker", "ns", "other")) == {T2}
    assert tracker.readers_of(ObjectRef("Broker", "other-ns", "default")) == set()


def test_a_new_reconcile_replaces_what_was_read_before() -> None:
    tracker = Tracker()
    tracker.track(T1, {BROKER}, set())
    tracker.track(T1, {ObjectRef("Broker", "ns", "renamed")}, set())
    assert tracker.readers_of(BROKER) == set()
    tracker.forget(T1)
    assert tracker.readers_of(ObjectRef("Broker", "ns", "renamed")) == set() and len(tracker) == 0


def test_a_list_makes_every_object_of_that_kind_and_namespace_a_dependency() -> None:
    tracker = Tracker()
    tracker.track(CHANNEL, set(), {("Subscription", "ns")})
    assert tracker.readers_of(SUB) == {CHANNEL}
    assert tracker.readers_of(ObjectRef("Subscription", "elsewhere", "s")) == set()


def test_an_object_is_not_its_own_reader() -> None:
    tracker = Tracker()
    tracker.track(SUB, {SUB}, {("Subscription", "ns")})
    assert tracker.readers_of(SUB) == set()


def test_recording_notes_lookups_that_found_nothing() -> None:
    recording = Recording(lambda *_: None, lambda *_: [])
    assert recording.get("eventing.knative.dev/v1", "Broker", "ns", "missing") is None
    recording.list("Subscription", "ns")
    assert recording.read == {ObjectRef("Broker", "ns", "missing")}
    assert recording.listed == {("Subscription", "ns")}
