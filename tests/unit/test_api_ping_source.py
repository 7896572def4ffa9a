"""PingSource: registration, defaults, validation, lifecycle and the event it sends
(ripple.api.sources.ping_source_*)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import ripple.api  # noqa: F401  (registers the kinds)
from ripple import errors
from ripple.api import loading, registry
from ripple.api.sources import ping_source, ping_source_lifecycle, ping_source_types

NOW = datetime(2026, 5, 1, tzinfo=UTC)
SINK = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "display"}}
JSON = "application/json"


def make(spec: Any = None, **metadata: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "sources.knative.dev/v1", "kind": "PingSource",
        "metadata": {"name": "ping", **metadata},
    }
    if spec is not None:
        obj["spec"] = spec
    return obj


def with_sink(**spec: Any) -> dict[str, Any]:
    return make({"sink": copy.deepcopy(SINK), **spec})


# -- registration ----------------------------------------------------------------------------

def test_the_kind_is_served_under_knatives_names() -> None:
    kind = registry.lookup("sources.knative.dev/v1", "PingSource")
    assert kind is ping_source.KIND
    assert (kind.plural, kind.singular, kind.short_names) == ("pingsources", "pingsource", ())
    assert registry.by_resource("sources.knative.dev", "v1", "pingsources") is kind
    for name in ("PingSource", "pingsource", "pingsources", "pingsources.sources.knative.dev"):
        assert registry.by_name(name) is kind


# -- defaults --------------------------------------------------------------------------------

def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    ping_source.KIND.set_defaults(obj)
    return obj


@pytest.mark.parametrize(("given", "expected"), [
    pytest.param(make(), {"metadata": {"name": "ping", "namespace": "default"},
                          "spec": {"schedule": "* * * * *"}}, id="no-spec"),
    pytest.param(make({}), {"metadata": {"name": "ping", "namespace": "default"},
                            "spec": {"schedule": "* * * * *"}}, id="empty-spec"),
    pytest.param(make({"schedule": ""}), {"metadata": {"name": "ping", "namespace": "default"},
                                          "spec": {"schedule": "* * * * *"}},
                 id="empty-schedule"),
    pytest.param(make({"schedule": "*/2 * * * *", "timezone": "Europe/Berlin"}, namespace="t"),
                 {"metadata": {"name": "ping", "namespace": "t"},
                  "spec": {"schedule": "*/2 * * * *", "timezone": "Europe/Berlin"}},
                 id="schedule-and-zone-kept"),
    pytest.param(with_sink(), {"metadata": {"name": "ping", "namespace": "default"},
                               "spec": {"schedule": "* * * * *",
                                        "sink": {"ref": {**SINK["ref"], "namespace": "default"}}}},
                 id="sink-ref-namespace"),
    pytest.param(make({"sink": {"ref": {**SINK["ref"], "namespace": "other"}}}, namespace="t"),
                 {"metadata": {"name": "ping", "namespace": "t"},
                  "spec": {"schedule": "* * * * *",
                           "sink": {"ref": {**SINK["ref"], "namespace": "other"}}}},
                 id="sink-ref-namespace-kept"),
    pytest.param(make({"schedule": 5}), {"metadata": {"name": "ping", "namespace": "default"},
                                         "spec": {"schedule": 5}},
                 id="malformed-schedule-left-to-validation"),
])
def test_defaults(given: dict[str, Any], expected: dict[str, Any]) -> None:
    got = defaulted(given)
    assert {"metadata": got["metadata"], "spec": got["spec"]} == expected


def test_defaults_survive_a_malformed_spec() -> None:
    assert defaulted(make([1, 2]))["spec"] == [1, 2]


# -- validation ------------------------------------------------------------------------------

def refusal(obj: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj)
    assert caught.value.status == 422
    return [(e.path, e.message) for e in caught.value.errors]


@pytest.mark.parametrize("obj", [
    pytest.param(with_sink(), id="defaults"),
    pytest.param(with_sink(schedule="10 0/1 * * * ?"), id="knative-seconds-test"),
    pytest.param(with_sink(schedule="@hourly"), id="descriptor"),
    pytest.param(with_sink(schedule="0 9 * * mon-fri", timezone="Europe/Berlin"), id="zone"),
    pytest.param(with_sink(schedule="CRON_TZ=Asia/Tokyo 0 9 * * *"), id="cron-tz-prefix"),
    pytest.param(with_sink(schedule="CRON_TZ=Asia/Tokyo 0 9 * * *", timezone="Asia/Tokyo"),
                 id="the-same-zone-twice"),
    pytest.param(with_sink(contentType="text/plain", dataBase64="aGVsbG8sIHdvcmxkIQ=="),
                 id="knative-cloudevent-data-test"),
    pytest.param(with_sink(contentType=JSON, data='{"message": "Hello world!"}'), id="json"),
    pytest.param(with_sink(contentType=JSON, dataBase64="eyJhIjogMX0="), id="json-base64"),
    pytest.param(with_sink(contentType=JSON, data="null"), id="json-null-as-go-reads-it"),
    pytest.param(with_sink(contentType="text/plain", data="[1, 2"), id="not-json-not-checked"),
    pytest.param(with_sink(contentType="application/json; charset=utf-8", data="x"),
                 id="only-exactly-application-json-is-checked"),
    pytest.param(with_sink(dataBase64="aGVs\nbG8="), id="base64-line-breaks-ignored-as-go"),
    pytest.param(with_sink(data="", dataBase64="aGk="), id="empty-data-is-absent"),
    pytest.param(make({"sink": {"uri": "http://display.default.svc"},
                       "ceOverrides": {"extensions": {"team": "blue"}}}), id="uri-and-overrides"),
])
def test_valid(obj: dict[str, Any]) -> None:
    assert loading.admit(obj)["kind"] == "PingSource"


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    # spec.schedule: ripple.cron's rules, each named
    (with_sink(schedule="* * *"), "spec.schedule",
     'invalid value "* * *": expected 5 fields (or 6 with seconds first), got 3'),
    (with_sink(schedule="@every 1m"), "spec.schedule", "@every is not supported"),
    (with_sink(schedule="@weekdays"), "spec.schedule", 'unrecognized descriptor "@weekdays"'),
    (with_sink(schedule="61 * * * *"), "spec.schedule",
     'minute field "61": 61 is above the maximum 59'),
    (with_sink(schedule="0 0 * * 7"), "spec.schedule", "7 is above the maximum 6"),
    (with_sink(schedule="0 0 31 2 *"), "spec.schedule", "never fires"),
    (with_sink(schedule="CRON_TZ=Nowhere/Land * * * * *"), "spec.schedule",
     'unknown time zone "Nowhere/Land"'),
    (with_sink(schedule=5), "spec.schedule", "must be a string, got an integer"),
    # spec.timezone
    (with_sink(timezone="Nowhere/Land"), "spec.timezone", 'unknown time zone "Nowhere/Land"'),
    (with_sink(timezone="CET DST"), "spec.timezone", 'unknown time zone "CET DST"'),
    (with_sink(schedule="CRON_TZ=Asia/Tokyo 0 9 * * *", timezone="Europe/Berlin"),
     "spec.timezone", "give the zone once"),
    (with_sink(timezone=["Europe/Berlin"]), "spec.timezone", "must be a string, got a list"),
    # data XOR dataBase64
    (with_sink(data="hi", dataBase64="aGk="), "spec",
     "expected exactly one of data or dataBase64, got both"),
    (with_sink(dataBase64="not base64!"), "spec.dataBase64", "not base64"),
    (with_sink(dataBase64="aGk"), "spec.dataBase64", "not base64"),  # unpadded
    (with_sink(dataBase64=7), "spec.dataBase64", "must be a string"),
    (with_sink(data={"message": "hi"}), "spec.data", "must be a string, got a mapping"),
    # JSON data when contentType is application/json
    (with_sink(contentType=JSON, data="{not json"), "spec.data", "data is not JSON"),
    (with_sink(contentType=JSON, data="[1, 2]"), "spec.data",
     "data must be a JSON object, got a list"),
    (with_sink(contentType=JSON, data='"hello"'), "spec.data",
     "data must be a JSON object, got a string"),
    (with_sink(contentType=JSON, data='{"n": NaN}'), "spec.data", "NaN is not JSON"),
    (with_sink(contentType=JSON, dataBase64="aGVsbG8="), "spec.dataBase64",
     "decoded dataBase64 is not JSON"),
    (with_sink(contentType=JSON, dataBase64="WzFd"), "spec.dataBase64",  # [1]
     "decoded dataBase64 must be a JSON object, got a list"),
    (with_sink(contentType=5), "spec.contentType", "must be a string"),
    # sink and ceOverrides (source_spec)
    (make({}), "spec.sink", "required field is missing"),
    (make({"sink": {}}), "spec.sink", "expected at least one of ref or uri"),
    (make({"sink": {"ref": {"kind": "Service", "name": "s"}}}), "spec.sink.ref.apiVersion",
     "required field is missing"),
    (with_sink(ceOverrides={"extensions": {"Team": "blue"}}),
     "spec.ceOverrides.extensions[Team]", "invalid extension name"),
    (with_sink(ceOverrides={"extensions": {"type": "x"}}), "spec.ceOverrides.extensions[type]",
     "core CloudEvent attribute"),
    (with_sink(ceOverrides={"extension": {}}), "spec.ceOverrides.extension", "unknown field"),
    # the spec's shape and metadata
    (with_sink(scheduel="* * * * *"), "spec.scheduel",
     ('unknown field "scheduel"; the fields here are: schedule, timezone, contentType, data, '
      "dataBase64, sink, ceOverrides")),
    (make("every minute"), "spec", "must be a mapping, got a string"),
    (make({"sink": SINK}, name="Ping"), "metadata.name", "RFC 1123 subdomain"),
])
def test_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path], found
    assert fragment in found[0][1]


def test_every_broken_rule_is_reported_at_once() -> None:
    obj = make({"schedule": "* *", "timezone": "Nowhere/Land", "data": "a", "dataBase64": "YQ==",
                "extra": True})
    assert [p for p, _ in refusal(obj)] == [
        "spec.extra", "spec.timezone", "spec.schedule", "spec", "spec.sink"]


def test_admission_keeps_what_was_written() -> None:
    written = with_sink(schedule="CRON_TZ=Europe/Berlin 10 0/1 * * * ?", contentType=JSON,
                        data='{"a": 1}')
    admitted = loading.admit(copy.deepcopy(written))
    assert admitted["spec"]["schedule"] == written["spec"]["schedule"]
    assert admitted["spec"]["data"] == '{"a": 1}'
    assert "timezone" not in admitted["spec"]


# -- lifecycle -------------------------------------------------------------------------------

def condition(status: dict[str, Any], type_: str) -> tuple[str, str, str] | None:
    found = ping_source_lifecycle.CONDITIONS.get(status, type_)
    return None if found is None else (found["status"], found["reason"], found["message"])


def states(status: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in status["conditions"]}


def ready_status() -> dict[str, Any]:
    status: dict[str, Any] = {}
    ping_source_lifecycle.initialize(status, now=NOW)
    ping_source_lifecycle.mark_sink(status, "http://display.default.svc", now=NOW)
    ping_source_lifecycle.mark_deployed(status, now=NOW)
    return status


def test_initialize_sets_every_condition_unknown() -> None:
    status: dict[str, Any] = {}
    ping_source_lifecycle.initialize(status, now=NOW)
    assert states(status) == {"Deployed": "Unknown", "Ready": "Unknown",
                              "SinkProvided": "Unknown"}


@pytest.mark.parametrize(("marks", "wanted", "ready"), [
    pytest.param([], {"SinkProvided": "Unknown", "Deployed": "Unknown"}, ("Unknown", "", ""),
                 id="initialized"),
    pytest.param([("mark_sink", ("http://s",))], {"SinkProvided": "True", "Deployed": "Unknown"},
                 ("Unknown", "", ""), id="sink-only"),
    pytest.param([("mark_deployed", ())], {"SinkProvided": "Unknown", "Deployed": "True"},
                 ("Unknown", "", ""), id="deployed-only"),
    pytest.param([("mark_sink", ("http://s",)), ("mark_deployed", ())],
                 {"SinkProvided": "True", "Deployed": "True"}, ("True", "", ""), id="ready"),
    pytest.param([("mark_sink", ("http://s",)), ("mark_deployed", ()),
                  ("mark_no_sink", ("NotFound", "sink: service display not found"))],
                 {"SinkProvided": "False", "Deployed": "True"},
                 ("False", "NotFound", "sink: service display not found"), id="sink-lost"),
    pytest.param([("mark_sink", ("http://s",)), ("mark_deployed", ()),
                  ("mark_not_deployed", ("SchedulerDown", "no process runs the scheduler"))],
                 {"SinkProvided": "True", "Deployed": "False"},
                 ("False", "SchedulerDown", "no process runs the scheduler"), id="not-deployed"),
    pytest.param([("mark_no_sink", ("NotFound", "gone")), ("mark_deployed", ()),
                  ("mark_sink", ("http://s",))],
                 {"SinkProvided": "True", "Deployed": "True"}, ("True", "", ""),
                 id="sink-found-again"),
])
def test_lifecycle_transitions(marks: list[tuple[str, tuple[str, ...]]],
                               wanted: dict[str, str], ready: tuple[str, str, str]) -> None:
    status: dict[str, Any] = {}
    ping_source_lifecycle.initialize(status, now=NOW)
    for name, args in marks:
        getattr(ping_source_lifecycle, name)(status, *args, now=NOW)
    assert {t: condition(status, t)[0] for t in wanted} == wanted  # type: ignore[index]
    assert condition(status, "Ready") == ready


def test_sink_uri_follows_the_sink_marks() -> None:
    status = ready_status()
    assert status["sinkUri"] == "http://display.default.svc"
    ping_source_lifecycle.mark_no_sink(status, "NotFound", "gone", now=NOW)
    assert "sinkUri" not in status


def test_ready_keeps_its_transition_time() -> None:
    status = ready_status()
    ping_source_lifecycle.mark_deployed(status, now=NOW + timedelta(hours=1))
    found = ping_source_lifecycle.CONDITIONS.get(status, "Ready")
    assert found is not None and found["lastTransitionTime"] == "2026-05-01T00:00:00Z"


@pytest.mark.parametrize(("status", "generation", "ready"), [
    (None, 1, False),
    ("ready", 1, True),
    ("ready", 2, False),  # the status is for an older spec
    ("not-deployed", 1, False),
])
def test_is_ready(status: str | None, generation: int, ready: bool) -> None:
    obj = make({"sink": SINK}, generation=generation)
    if status is not None:
        obj["status"] = ready_status()
        obj["status"]["observedGeneration"] = 1
        if status == "not-deployed":
            ping_source_lifecycle.mark_not_deployed(obj["status"], "Down", "down", now=NOW)
    assert ping_source_lifecycle.is_ready(obj) is ready


# -- the event -------------------------------------------------------------------------------

def test_event_type_and_source() -> None:
    assert ping_source_types.EVENT_TYPE == "dev.knative.sources.ping"
    assert ping_source_types.event_source("team", "hourly") == (
        "/apis/v1/namespaces/team/pingsources/hourly")


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, (None, None)),
    ({"contentType": JSON}, (None, None)),  # no data: no datacontenttype either, as upstream
    ({"data": '{"a": 1}'}, (None, b'{"a": 1}')),
    ({"contentType": JSON, "data": '{"a": 1}'}, (JSON, b'{"a": 1}')),
    ({"contentType": "text/plain", "data": "héllo"}, ("text/plain", "héllo".encode())),
    ({"contentType": "text/plain", "dataBase64": "aGVsbG8sIHdvcmxkIQ=="},
     ("text/plain", b"hello, world!")),
    ({"dataBase64": "AAH/"}, (None, b"\x00\x01\xff")),
    ({"dataBase64": "aGVs\r\nbG8="}, (None, b"hello")),
    ({"data": "", "dataBase64": ""}, (None, None)),
    ({"contentType": "", "data": "x"}, (None, b"x")),
    ({"data": "text", "dataBase64": "YjY0"}, (None, b"b64")),  # refused at admission
    ({"contentType": "text/plain", "dataBase64": "not base64!"}, (None, None)),  # refused too
])
def test_payload(spec: dict[str, Any], expected: tuple[str | None, bytes | None]) -> None:
    assert ping_source_types.payload(make(spec)) == expected


def test_payload_of_a_malformed_object() -> None:
    assert ping_source_types.payload(make("spec")) == (None, None)
    assert ping_source_types.payload({}) == (None, None)
