"""The pure parts of Ripple's dead-letter store and failure reporting: the bounds'
annotations, the store entry and its view, the log throttle, where a target's keys are."""

from __future__ import annotations

import pytest

from channels import deadletters, failures, locations, outcomes
from channels.identities import Kind, TargetKey
from ripple import cloudevents as ce
from ripple import keys
from ripple.api import dead_letter_bounds
from ripple.api.dead_letter_bounds import Bounds
from ripple.api.eventing import trigger_validation
from ripple.api.messaging import subscription_validation

DEFAULT = Bounds(max_entries=10_000, retention=7 * 86_400.0)


def annotated(**annotations: str) -> dict:
    return {"metadata": {"name": "t", "namespace": "ns", "annotations": annotations}}


@pytest.mark.parametrize("annotations, bounds", [
    ({}, DEFAULT),
    ({dead_letter_bounds.MAX_ENTRIES: "50"}, Bounds(50, DEFAULT.retention)),
    ({dead_letter_bounds.MAX_ENTRIES: "0"}, Bounds(0, DEFAULT.retention)),
    ({dead_letter_bounds.RETENTION: "7d"}, Bounds(DEFAULT.max_entries, 7 * 86_400.0)),
    ({dead_letter_bounds.RETENTION: "36h"}, Bounds(DEFAULT.max_entries, 36 * 3600.0)),
    ({dead_letter_bounds.RETENTION: "1h30m"}, Bounds(DEFAULT.max_entries, 5400.0)),
    ({dead_letter_bounds.RETENTION: "soon"}, DEFAULT),  # refused at admission; default if stored
    ({dead_letter_bounds.MAX_ENTRIES: "-1"}, DEFAULT),
])
def test_bounds_of_a_resource(annotations: dict, bounds: Bounds) -> None:
    assert dead_letter_bounds.of(annotated(**annotations), DEFAULT) == bounds


@pytest.mark.parametrize("name, value, ok", [
    (dead_letter_bounds.MAX_ENTRIES, "10000", True),
    (dead_letter_bounds.MAX_ENTRIES, "0", True),
    (dead_letter_bounds.MAX_ENTRIES, "-5", False),
    (dead_letter_bounds.MAX_ENTRIES, "many", False),
    (dead_letter_bounds.MAX_ENTRIES, "1e3", False),
    (dead_letter_bounds.RETENTION, "7d", True),
    (dead_letter_bounds.RETENTION, "90m", True),
    (dead_letter_bounds.RETENTION, "0s", False),
    (dead_letter_bounds.RETENTION, "7 days", False),
    (dead_letter_bounds.RETENTION, "P7D", False),
])
def test_the_annotations_are_validated(name: str, value: str, ok: bool) -> None:
    errs = dead_letter_bounds.validate(annotated(**{name: value}))
    assert (errs == []) is ok
    if not ok:
        assert errs[0].path == f"metadata.annotations[{name}]" and value in errs[0].message


def test_admission_refuses_a_bad_bound_on_triggers_and_subscriptions() -> None:
    trigger = {**annotated(**{dead_letter_bounds.RETENTION: "forever"}),
               "spec": {"broker": "default", "subscriber": {"uri": "http://x"}}}
    subscription = {**annotated(**{dead_letter_bounds.MAX_ENTRIES: "lots"}),
                    "spec": {"channel": {"apiVersion": "messaging.knative.dev/v1", "kind": "Channel",
                                         "name": "c"}, "subscriber": {"uri": "http://x"}}}
    assert any(dead_letter_bounds.RETENTION in e.path for e in trigger_validation.validate(trigger))
    assert any(dead_letter_bounds.MAX_ENTRIES in e.path
               for e in subscription_validation.validate(subscription))


@pytest.mark.parametrize("kind, spec", [
    ("PingSource", {"schedule": "* * * * *"}),
    ("KafkaSource", {"bootstrapServers": ["k:9092"], "topics": ["t"]}),
    ("GitHubSource", {"ownerAndRepository": "o/r", "eventTypes": ["push"]}),
    ("GitLabSource", {"projectUrl": "https://gitlab.example/g/p", "eventTypes": ["push_events"]}),
])
def test_admission_refuses_a_bad_bound_on_sources(kind: str, spec: dict) -> None:
    from ripple.api import registry

    source = {**annotated(**{dead_letter_bounds.RETENTION: "forever",
                             dead_letter_bounds.MAX_ENTRIES: "-1"}),
              "kind": kind, "spec": {**spec, "sink": {"uri": "http://x"}}}
    found = {e.path: e.message for e in registry.by_name(kind).validate(source)
             if e.path.startswith("metadata.annotations")}  # (not the webhooks' secretToken)
    assert found == {
        f"metadata.annotations[{dead_letter_bounds.RETENTION}]":
            'invalid value "forever": must be a duration such as 7d, 36h or 90m',
        f"metadata.annotations[{dead_letter_bounds.MAX_ENTRIES}]":
            'invalid value "-1": must be a whole number such as 10000'}, kind


@pytest.mark.parametrize("obj, where", [
    ({"kind": "Trigger", "metadata": {"name": "t", "namespace": "ns"}, "spec": {"broker": "b"}},
     locations.of_trigger("ns", "b", "t")),
    ({"kind": "Subscription", "metadata": {"name": "s", "namespace": "ns"},
      "spec": {"channel": {"name": "c"}}}, locations.of_subscription("ns", "ns", "c", "s")),
    ({"kind": "Subscription", "metadata": {"name": "s", "namespace": "ns"},
      "spec": {"channel": {"name": "c", "namespace": "other"}}},
     locations.of_subscription("ns", "other", "c", "s")),
    ({"kind": "PingSource", "metadata": {"name": "p", "namespace": "ns"}},
     locations.of_source(Kind.PING_SOURCE, "ns", "p")),
    ({"kind": "KafkaSource", "metadata": {"name": "k", "namespace": "ns"}},
     locations.of_source(Kind.KAFKA_SOURCE, "ns", "k")),
    ({"kind": "Broker", "metadata": {"name": "b", "namespace": "ns"}}, None),
])
def test_locations_of_resources(obj: dict, where: locations.Location | None) -> None:
    assert locations.of_resource(obj) == where


def test_a_location_keeps_its_keys_in_one_slot() -> None:
    for where in (locations.of_trigger("ns", "b", "t"), locations.of_subscription("ns", "x", "c", "s"),
                  locations.of_source(Kind.GITHUB_SOURCE, "ns", "g")):
        assert len({keys.hash_tag(k) for k in (where.stream, where.schedule, where.dead_letters,
                                               where.failures)}) == 1


@pytest.mark.parametrize("calls, admitted", [
    ([0.0], [0]),
    ([0.0, 1.0, 2.0, 10.0], [0, None, None, 2]),        # the first, then one per window
    ([0.0, 10.0, 20.0], [0, 0, 0]),                     # a window apart: each one
    ([0.0, 9.9, 10.0, 10.1, 25.0], [0, None, 1, None, 1]),
])
def test_throttle(calls: list[float], admitted: list[int | None]) -> None:
    throttle = failures.Throttle(10.0)
    assert [throttle.admit(t) for t in calls] == admitted


@pytest.mark.parametrize("outcome, where", [
    (outcomes.Outcome("retry", delay=2.5), "1970-01-01T00:01:42.500Z"),
    (outcomes.Outcome("dead-letter"), "dead-letter sink"),
    (outcomes.Outcome("drop"), "dead-letter store"),
])
def test_where_next(outcome: outcomes.Outcome, where: str) -> None:
    assert failures.where_next(outcome, 100.0, store=True) == where


def test_an_entry_and_its_view() -> None:
    event = ce.CloudEvent({"specversion": "1.0", "id": "e1", "source": "/s", "type": "t",
                           "datacontenttype": "application/json"}, b'{"a": 1}')
    original = ce.to_record(event, {"x-request-id": "r"})
    original[b"n"] = b"3"  # retries done: not part of the event
    errors = outcomes.error_attributes("http://user:pw@sub/x", 503, b"busy")
    entry = deadletters.entry(original, errors=errors, reason="HTTP 503", attempts=4,
                              target=TargetKey(Kind.TRIGGER, "ns", "t"))
    assert b"n" not in entry and entry[b"h"] == original[b"h"]
    view = deadletters.view(b"1700000000123-0", entry, "trigger:t")
    assert view == {
        "id": "1700000000123-0", "target": "trigger:t",
        "event": {"specversion": "1.0", "id": "e1", "source": "/s", "type": "t",
                  "datacontenttype": "application/json", "data": {"a": 1},
                  "knativeerrorcode": "503", "knativeerrordest": "http://sub/x",
                  "knativeerrordata": "YnVzeQ=="},
        "code": 503, "destination": "http://sub/x", "reason": "HTTP 503", "attempts": 4,
        "time": "2023-11-14T22:13:20.123Z",
    }


def test_a_transport_error_is_500_without_data() -> None:
    entry = deadletters.entry(ce.to_record(ce.CloudEvent(
        {"specversion": "1.0", "id": "e", "source": "/s", "type": "t"}, None)),
        errors=outcomes.error_attributes("http://x/", None, b""), reason="timed out",
        attempts=1, target=TargetKey(Kind.PING_SOURCE, "ns", "p"))
    view = deadletters.view(b"1-0", entry, deadletters.label(TargetKey(Kind.PING_SOURCE, "ns", "p")))
    assert view["code"] == 500 and "knativeerrordata" not in view["event"]
    assert view["target"] == "pingsource:p"


@pytest.mark.parametrize("bounds, now, wanted", [
    (Bounds(10, 60.0), 1000.0, "940000-0"),
    (Bounds(10, 60.0), 60.0, "0-0"),
    (Bounds(10, 100 * 365 * 86_400.0), 1_764_000_000.0, "0-0"),  # before 1970: no age bound
])
def test_min_id(bounds: Bounds, now: float, wanted: str) -> None:
    assert deadletters.min_id(bounds, now) == wanted


def test_every_queued_plane_gives_its_targets_a_bounded_store() -> None:
    """The broker, channel and sources' planes each build Targets with their dead-letter
    store, in the location the operations API finds from the resource, with its bounds."""
    from broker.plane import BrokerPlane
    from channels.plane import ChannelPlane
    from ripple.settings import DeadLetterSettings, Settings
    from sources.plane import SourcePlane

    settings = Settings(dead_letters=DeadLetterSettings(max_entries=5, retention=60.0))
    annotations = {dead_letter_bounds.RETENTION: "2h"}
    meta = {"namespace": "ns", "annotations": annotations}
    trigger = {"kind": "Trigger", "metadata": {"name": "t", **meta},
               "spec": {"broker": "b", "subscriber": {"uri": "http://x"}}}
    subscription = {"kind": "Subscription", "metadata": {"name": "s", **meta},
                    "spec": {"channel": {"name": "c"}}}
    ping = {"kind": "PingSource", "metadata": {"name": "p", **meta}, "spec": {}}
    kafka = {"kind": "KafkaSource", "metadata": {"name": "k", **meta}, "spec": {}}

    class NoObjects:  # what the builders read from the informer: ingress-auth's Secrets (#15)
        def get(self, *_: object) -> None:
            return None

        def list(self, *_: object) -> list[dict]:
            return []

    broker_plane = BrokerPlane.__new__(BrokerPlane)  # only the pure target builders are used
    broker_plane.informer = NoObjects()  # type: ignore[assignment]
    broker_plane.settings = settings
    broker_plane._bounds = Bounds(5, 60.0)
    broker_plane.appender = None  # type: ignore[assignment]
    channel_plane = ChannelPlane.__new__(ChannelPlane)
    channel_plane.settings = settings
    channel_plane.informer = NoObjects()  # type: ignore[assignment]
    source_plane = SourcePlane.__new__(SourcePlane)
    source_plane.settings = settings
    source_plane.informer = NoObjects()  # type: ignore[assignment]

    targets = [
        (broker_plane._target({"metadata": {"name": "b", "namespace": "ns"}}, trigger), trigger),
        (channel_plane._target({"metadata": {"name": "c", "namespace": "ns"}}, subscription), subscription),
        (source_plane._queued_target(Kind.PING_SOURCE, ping), ping),
        (source_plane._kafka_target(kafka), kafka),
    ]
    for target, obj in targets:
        where = locations.of_resource(obj)
        assert where is not None and target.stream == where.stream
        assert target.dead_letters == deadletters.of(where, Bounds(5, 7200.0))


@pytest.mark.parametrize("body, ids", [
    ({"ids": ["1-0", "e2"]}, ["1-0", "e2"]),
    ({"all": True}, None),
    ({"all": True, "ids": []}, None),
])
def test_redrive_and_purge_bodies(body: dict, ids: list[str] | None) -> None:
    from controllers.platforms.local import operations

    assert operations._ids(body) == ids


@pytest.mark.parametrize("body, message", [
    ({}, 'must be a non-empty list of ids, or set "all": true'),
    ({"ids": []}, "must be a non-empty list"),
    ({"ids": "1-0"}, "must be a non-empty list"),
    ({"ids": [1]}, "must be a non-empty list"),
    ({"all": "yes"}, "must be a non-empty list"),  # only true is all
    ({"all": True, "ids": ["1-0"]}, "give ids or all, not both"),
])
def test_a_redrive_or_purge_of_everything_is_never_the_default(body: dict, message: str) -> None:
    from controllers.platforms.local import operations
    from ripple import errors

    with pytest.raises(errors.Invalid, match=message) as raised:
        operations._ids(body)
    assert raised.value.errors[0].path == "ids"


@pytest.mark.parametrize("length, group, scanned, dead, total, want", [
    # no group yet: everything is backlog
    (5, None, None, 0, None, (5, 0, 0, 0, 0)),
    # lag known: what is neither unread nor pending waits for a retry
    (10, {"pending": 2, "lag": 3}, None, 1, 4, (3, 2, 5, 1, 4)),
    # lag unknown (a deletion Redis cannot account for): retries counted on the schedule
    (10, {"pending": 2, "lag": None}, 5, 0, None, (3, 2, 5, 0, 0)),
    # a total below what is stored (a counter lost with an older store) is at least that
    (0, {"pending": 0, "lag": 0}, None, 3, 1, (0, 0, 0, 3, 3)),
])
def test_stats_from_what_redis_answered(length, group, scanned, dead, total, want) -> None:
    from channels import stats

    figures = stats.combine(length, group, scanned, dead, total, b'{"code": 500}')
    assert (figures.backlog, figures.in_flight, figures.retries, figures.dead_letters,
            figures.dead_lettered_total) == want
    assert figures.last_error == {"code": 500}
