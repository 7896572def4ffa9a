"""Replay's pure parts: the trim point of a retained log, the request's parsing, the
filters a replay matches with, the replayed entry, and the CLI's progress lines."""

from __future__ import annotations

import json

import pytest

from ripple import cloudevents as ce
from ripple import errors
from ripple.api.eventing import broker_validation, replays, retention
from ripple.cli.commands import replay as replay_cli
from ripple.cloudevents import records

from broker import replaying
from channels import retention as trimming

NOW_MS = 1_000_000_000


@pytest.mark.parametrize(
    ("retention_ms", "position", "expected"),
    [
        (0, None, f"{NOW_MS - 5_000}-0"),  # nothing read yet: the tail window only
        (0, f"{NOW_MS - 60_000}-3", f"{NOW_MS - 60_000}-3"),  # a backlog older than the window stays
        (0, f"{NOW_MS - 1_000}-0", f"{NOW_MS - 5_000}-0"),  # fanned out: keep the tail's seconds
        (3_600_000, f"{NOW_MS - 1_000}-0", f"{NOW_MS - 3_600_000}-0"),  # the retention window
        (3_600_000, f"{NOW_MS - 7_200_000}-1", f"{NOW_MS - 7_200_000}-1"),  # backlog beyond it
        (1_000, f"{NOW_MS}-0", f"{NOW_MS - 5_000}-0"),  # never less than the tail's window
    ],
)
def test_trim_point(retention_ms: int, position: str | None, expected: str) -> None:
    assert trimming.trim_point(now_ms=NOW_MS, retention_ms=retention_ms, position=position) == expected


@pytest.mark.parametrize(
    ("unread", "pending", "cap"),
    [(0, 0, 100), (40, 0, 140), (None, 0, None), (0, 3, None)],
)
def test_count_cap(unread: int | None, pending: int, cap: int | None) -> None:
    assert trimming.count_cap(unread=unread, pending=pending, max_retained=100) == cap


@pytest.mark.parametrize(
    ("annotation", "seconds", "valid"),
    [(None, 3600.0, True), ("24h", 86_400.0, True), ("90m", 5_400.0, True), ("0", 0.0, True),
     ("forever", 3600.0, False), ("-1h", 3600.0, False), ("1000h", 3600.0, False)],
)
def test_retention_annotation(annotation: str | None, seconds: float, valid: bool) -> None:
    broker = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
              "metadata": {"name": "b", "namespace": "default", "annotations": {
                  "eventing.knative.dev/broker.class": "MTChannelBasedBroker"}}}
    if annotation is not None:
        broker["metadata"]["annotations"][retention.ANNOTATION] = annotation
    assert retention.of(broker, 3600.0) == seconds
    errs = broker_validation.validate(broker)
    assert (not errs) is valid
    if not valid:
        assert str(errs[0]).startswith("metadata.annotations[ripple.dev/retention]: invalid value")


NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10m", NOW - 600), ("1h30m", NOW - 5400), ("0s", NOW), ("2027-01-15T08:00:00Z", 1_800_000_000.0),
     ("2027-01-15T08:00:00", 1_800_000_000.0), ("2027-01-15T09:00:00+01:00", 1_800_000_000.0)],
)
def test_parse_moment(text: str, expected: float) -> None:
    assert replays.parse_moment(text, NOW, "--since") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"since": "10m"}, "broker: required"),
        ({"broker": "b"}, "since: required"),
        ({"broker": "b", "since": "yesterday"}, "since: invalid value 'yesterday'"),
        ({"broker": "b", "since": "-5m"}, "since: must not be negative"),
        ({"broker": "b", "since": "9" * 400 + "h"}, "since: must be at most 8760h"),
        ({"broker": "b", "since": "1m", "until": "10m"}, "until: must not be before since"),
        ({"broker": "b", "since": "1m", "trigger": 3}, "trigger: must be a string"),
        ({"broker": "b", "since": "1m", "from": "x"}, "from: unknown field"),
        ([], "the body must be a JSON object"),
    ],
)
def test_parse_request_refuses(body: object, message: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        replays.parse_request("default", body, NOW)
    assert str(caught.value).startswith(message)


def test_parse_request() -> None:
    request = replays.parse_request("ns", {"broker": "b", "since": "10m", "trigger": "t", "type": ""}, NOW)
    assert (request.namespace, request.broker, request.since, request.until) == ("ns", "b", NOW - 600, NOW)
    assert request.trigger == "t" and request.type is None and request.id.startswith("replay-")


def _trigger(name: str, broker: str, type_: str | None) -> dict:
    spec: dict = {"broker": broker, "subscriber": {"uri": "http://x/"}}
    if type_:
        spec["filter"] = {"attributes": {"type": type_}}
    return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}


TRIGGERS = [_trigger("orders", "b", "order"), _trigger("all", "b", None), _trigger("other", "c", "order")]


@pytest.mark.parametrize(
    ("trigger", "type_", "matched"),
    [(None, "order", ["all", "orders"]), (None, "audit", ["all"]), ("orders", "order", ["orders"]),
     ("orders", "audit", [])],
)
def test_replay_matches_with_the_triggers_filters(trigger: str | None, type_: str, matched: list[str]) -> None:
    request = replays.ReplayRequest("default", "b", 0.0, 1.0, trigger=trigger)
    index = replaying.index_of(TRIGGERS, request)
    assert sorted(index.match({"type": type_, "source": "/s", "id": "1", "specversion": "1.0"})) == matched


def test_replay_of_an_unknown_trigger_is_not_found() -> None:
    with pytest.raises(errors.NotFound, match="trigger 'other' of broker 'b'"):
        replaying.index_of(TRIGGERS, replays.ReplayRequest("default", "b", 0.0, 1.0, trigger="other"))


def test_replayed_entry_carries_the_replay_id_and_keeps_the_rest() -> None:
    event = ce.CloudEvent({"specversion": "1.0", "id": "1", "type": "t", "source": "/s"}, b"{}")
    fields = ce.to_record(event, {"x-request-id": "r"})
    out = replaying.replayed(fields, "replay-abc")
    assert json.loads(out[records.ATTRIBUTES])["ripplereplay"] == "replay-abc"
    assert out[records.DATA] == b"{}" and records.headers_of(out) == {"x-request-id": "r"}
    assert out[records.TYPE] == b"t" and "ripplereplay" not in json.loads(fields[records.ATTRIBUTES])


@pytest.mark.parametrize(
    ("progress", "line"),
    [
        ({"fraction": 0, "replayed": 0, "scanned": 0}, "[..........]   0%  0 replayed, 0 read"),
        ({"fraction": 0.5, "replayed": 3, "scanned": 8}, "[#####.....]  50%  3 replayed, 8 read"),
        ({"fraction": 1.0, "replayed": 9, "scanned": 9}, "[##########] 100%  9 replayed, 9 read"),
    ],
)
def test_progress_bar(progress: dict, line: str) -> None:
    assert replay_cli.format_bar(progress, width=10) == line


def test_summary_warns_when_the_window_starts_before_the_log() -> None:
    done = {"id": "replay-1", "replayed": 2, "scanned": 5, "oldest": NOW}
    assert replay_cli.format_summary(done, NOW) == "Replay replay-1: 2 event(s) enqueued from 5 read"
    assert "past the Broker's retention" in replay_cli.format_summary(done, NOW - 600)


@pytest.mark.parametrize(
    ("last", "line"),
    [
        ({"id": "replay-1", "replayed": 512, "scanned": 512},
         "Replay replay-1 stopped by Ctrl-C: the 512 event(s) enqueued so far, and those of the "
         "page under way, are delivered; nothing more is enqueued"),
        ({}, "Replay stopped by Ctrl-C before its first progress: the events its first page "
             "enqueued are delivered; nothing more is enqueued"),
    ],
)
def test_the_line_of_a_stopped_replay(last: dict, line: str) -> None:
    assert replay_cli.format_stopped(last) == line


@pytest.mark.parametrize("reached, since, until, oldest, newest, expected", [
    (1_500, 1_000, 2_000, 0, 9_999, 0.5),          # the log covers the window: by the window
    (60_500, 0, 3_600_000, 60_000, 61_000, 0.5),   # a window far wider than the log: by the log
    (61_000, 0, 3_600_000, 60_000, 61_000, 1.0),
    (60_000, 0, 3_600_000, 60_000, 61_000, 0.0),
    (5_000, 0, 10_000, 5_000, 5_000, 1.0),         # every entry in one millisecond
    (1_000, 2_000, 3_000, 0, 9_999, 0.0),          # before the window: never below 0
])
def test_progress_is_over_the_part_of_the_window_the_log_holds(
        reached: int, since: int, until: int, oldest: int, newest: int, expected: float) -> None:
    assert replaying.fraction(reached, since, until, oldest, newest) == expected
