"""KafkaSource: names, helpers, defaults, validation, consumerGroup's immutability and the
lifecycle (ripple.api.sources.kafka_source*)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ripple import errors
from ripple.api import loading, registry
from ripple.api.sources import kafka_source, kafka_source_types
from ripple.api.sources import kafka_source_lifecycle as lifecycle

NOW = datetime(2024, 5, 1, tzinfo=UTC)
KEY_TYPE = "kafkasources.sources.knative.dev/key-type"
SINK = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "display"}}
SPEC: dict[str, Any] = {
    "bootstrapServers": ["my-cluster-kafka-bootstrap.kafka:9092"],
    "topics": ["knative-demo-topic"], "sink": SINK,
}
REF = {"secretKeyRef": {"name": "kafka-secret", "key": "tls.crt"}}
DOCS = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "knative-docs"


def make(spec: Any = None, **metadata: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "sources.knative.dev/v1", "kind": "KafkaSource",
        "metadata": {"name": "ks", **metadata},
    }
    if spec is not None:
        obj["spec"] = copy.deepcopy(spec)
    return obj


def ks(**changes: Any) -> dict[str, Any]:
    """The minimal valid source with `changes`; a None value drops the field."""
    spec = {**copy.deepcopy(SPEC), **changes}
    return make({k: v for k, v in spec.items() if v is not None})


@pytest.mark.parametrize("name", [
    "kafkasource", "kafkasources", "KafkaSource", "kafkasources.sources.knative.dev",
])
def test_names(name: str) -> None:
    found = registry.by_name(name)
    assert found is kafka_source.KIND
    assert (found.api_version, found.plural) == ("sources.knative.dev/v1", "kafkasources")
    assert registry.by_resource("sources.knative.dev", "v1beta1", "kafkasources") is found
    assert registry.lookup("sources.knative.dev/v1beta1", "KafkaSource") is found


def test_constants_and_event_source() -> None:
    assert kafka_source_types.EVENT_TYPE == "dev.knative.kafka.event"
    assert kafka_source_types.event_source("ns", "ks", "orders") == (
        "/apis/v1/namespaces/ns/kafkasources/ks#orders")
    assert (kafka_source_types.ORDERED, kafka_source_types.UNORDERED) == ("ordered", "unordered")
    assert kafka_source_types.KEY_TYPE_LABEL == KEY_TYPE


@pytest.mark.parametrize(("labels", "expected"), [
    (None, "string"), ({KEY_TYPE: "int"}, "int"), ({KEY_TYPE: "byte-array"}, "byte-array"),
    ({KEY_TYPE: "long"}, "string"), ({"other": "int"}, "string"),
])
def test_key_type(labels: dict[str, str] | None, expected: str) -> None:
    obj = make(SPEC) if labels is None else make(SPEC, labels=labels)
    assert kafka_source_types.key_type(obj) == expected


@pytest.mark.parametrize(("servers", "expected"), [
    (["a:9092"], ["a:9092"]),
    (["a:9092, b:9093", "c:9094"], ["a:9092", "b:9093", "c:9094"]),
    ("a:9092", []),
    ([7, "a:1"], ["a:1"]),
])
def test_bootstrap_servers(servers: Any, expected: list[str]) -> None:
    assert kafka_source_types.bootstrap_servers(ks(bootstrapServers=servers)) == expected


def test_consumer_group() -> None:
    assert kafka_source_types.consumer_group(ks(consumerGroup="g")) == "g"
    assert kafka_source_types.consumer_group(make(SPEC, namespace="ns")) == (
        "knative-kafka-source-ns-ks")
    assert kafka_source_types.consumer_group(make(SPEC)) == "knative-kafka-source-default-ks"


def defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    kafka_source.KIND.set_defaults(obj)
    return obj


DEFAULTS = {"consumerGroup": "knative-kafka-source-ns-ks", "consumers": 1,
            "initialOffset": "latest", "ordering": "ordered"}


@pytest.mark.parametrize(("given", "expected"), [
    pytest.param(make(namespace="ns"), DEFAULTS, id="no-spec"),
    pytest.param(make(SPEC, namespace="ns"),
                 {**SPEC, **DEFAULTS, "sink": {"ref": {**SINK["ref"], "namespace": "ns"}}},
                 id="everything-defaulted"),
    pytest.param(make({"consumerGroup": "", "initialOffset": ""}, namespace="ns"), DEFAULTS,
                 id="empty-strings-defaulted"),
    pytest.param(make({"consumerGroup": "g", "consumers": 3, "initialOffset": "earliest",
                       "ordering": "unordered"}, namespace="ns"),
                 {"consumerGroup": "g", "consumers": 3, "initialOffset": "earliest",
                  "ordering": "unordered"}, id="kept"),
    pytest.param(make({"consumers": 0, "ordering": ""}, namespace="ns"),
                 {**DEFAULTS, "consumers": 0, "ordering": ""}, id="invalid-kept-for-validation"),
    pytest.param(make({"delivery": {"deadLetterSink": {"ref": {"kind": "Service", "name": "d"}}}},
                      namespace="ns"),
                 {**DEFAULTS, "delivery": {"deadLetterSink": {"ref": {
                     "kind": "Service", "name": "d", "namespace": "ns"}}}},
                 id="dead-letter-sink-namespace"),
])
def test_defaults(given: dict[str, Any], expected: dict[str, Any]) -> None:
    assert defaulted(given)["spec"] == expected


def test_defaults_survive_a_malformed_spec() -> None:
    assert defaulted(make("spec"))["spec"] == "spec"


@pytest.mark.parametrize("obj", [
    ks(),
    ks(bootstrapServers=["a:9092,b:9092", "10.0.0.1:9093", "[::1]:9094", "KAFKA:1"],
       topics=["orders", "a.b_c-D"], consumerGroup="knative-group", initialOffset="earliest",
       consumers=12, ordering="unordered",
       delivery={"retry": 3, "backoffPolicy": "linear", "backoffDelay": "PT1S",
                 "deadLetterSink": {"uri": "http://dls"}},
       ceOverrides={"extensions": {"team": "a"}}),
    ks(net={"tls": {"enable": True, "cert": REF, "key": REF, "caCert": REF}}),
    ks(net={"sasl": {"enable": True, "user": REF, "password": REF, "type": REF}, "tls": {}}),
    ks(net={"sasl": {"enable": False, "user": {}}}),  # Go's zero value
    make(SPEC, labels={KEY_TYPE: "float"}),
])
def test_admitted(obj: dict[str, Any]) -> None:
    admitted = loading.admit(obj)
    assert {k: admitted["spec"][k] for k in obj["spec"] if k != "sink"} == {
        k: v for k, v in obj["spec"].items() if k != "sink"}


def refusal(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(errors.Invalid) as caught:
        loading.admit(obj, old)
    assert caught.value.status == 422
    return [(e.path, e.message) for e in caught.value.errors]


BS = "spec.bootstrapServers"
TLS = "spec.net.tls"


@pytest.mark.parametrize(("obj", "path", "fragment"), [
    (make(["x"]), "spec", "must be a mapping, got a list"),
    (ks(resources={"limits": {}}), "spec.resources",
     'unknown field "resources"; the fields here are: bootstrapServers, topics, consumerGroup'),
    # bootstrapServers
    (ks(bootstrapServers=None), BS, "required field is missing"),
    (ks(bootstrapServers=[]), BS, "must not be empty: give at least one Kafka bootstrap server"),
    (ks(bootstrapServers="a:9092"), BS, "must be a list of Kafka bootstrap servers, got a string"),
    (ks(bootstrapServers=[""]), f"{BS}[0]", "must not be empty"),
    (ks(bootstrapServers=[9092]), f"{BS}[0]", "must be a string, got an integer"),
    (ks(bootstrapServers=["a:9092", "kafka"]), f"{BS}[1]",
     'invalid value "kafka": expected host:port (e.g. my-cluster-kafka-bootstrap.kafka:9092)'),
    (ks(bootstrapServers=["kafka:port"]), f"{BS}[0]",
     'invalid value "kafka:port": the port "port" is not a number from 1 to 65535'),
    (ks(bootstrapServers=["kafka:70000"]), f"{BS}[0]", "not a number from 1 to 65535"),
    (ks(bootstrapServers=[":9092"]), f"{BS}[0]", "expected host:port"),
    (ks(bootstrapServers=["PLAINTEXT://kafka:9092"]), f"{BS}[0]",
     "give host:port, without a scheme"),
    (ks(bootstrapServers=["a:9092,b"]), f"{BS}[0]", 'invalid value "a:9092,b" ("b")'),
    (ks(bootstrapServers=["a:9092,"]), f"{BS}[0]", 'invalid value "a:9092," ("")'),
    # topics
    (ks(topics=None), "spec.topics", "required field is missing"),
    (ks(topics=[]), "spec.topics", "must not be empty: give at least one topic"),
    (ks(topics=["orders", "my topic"]), "spec.topics[1]",
     'invalid value "my topic": a Kafka topic name is 1 to 249 ASCII letters'),
    (ks(topics=[".."]), "spec.topics[0]", 'invalid value ".."'),
    (ks(topics=["t" * 250]), "spec.topics[0]", "a Kafka topic name is 1 to 249"),
    # the scalars
    (ks(consumerGroup=5), "spec.consumerGroup", "must be a string, got an integer"),
    (ks(initialOffset="newest"), "spec.initialOffset",
     'invalid value "newest": expected one of earliest, latest'),
    (ks(initialOffset="Earliest"), "spec.initialOffset", 'invalid value "Earliest"'),
    (ks(ordering="fifo"), "spec.ordering",
     'invalid value "fifo": expected one of ordered, unordered'),
    (ks(ordering=""), "spec.ordering", 'invalid value ""'),
    (ks(ordering=True), "spec.ordering", "invalid value a boolean"),
    (ks(consumers=0), "spec.consumers", ("invalid value 0: must be a whole number of consumers, "
                                         "1 to 2147483647")),
    (ks(consumers=2**31), "spec.consumers", "invalid value 2147483648"),
    (ks(consumers="3"), "spec.consumers", "must be an integer, got a string"),
    # delivery
    (ks(delivery={"retry": -1}), "spec.delivery.retry", "invalid value -1"),
    (ks(delivery={"backoffDelay": "<duration>"}), "spec.delivery.backoffDelay", "invalid value"),
    (ks(delivery={"deadLetterSink": {"uri": "dls"}}), "spec.delivery.deadLetterSink.uri",
     "must be absolute"),
    (ks(delivery={"retries": 3}), "spec.delivery.retries", 'unknown field "retries"'),
    # net
    (ks(net="tls"), "spec.net", "must be a mapping, got a string"),
    (ks(net={"ssl": {}}), "spec.net.ssl", 'unknown field "ssl"; the fields here are: sasl, tls'),
    (ks(net={"tls": {"enable": "true"}}), f"{TLS}.enable", "must be a boolean"),
    (ks(net={"tls": {"enabled": True}}), f"{TLS}.enabled",
     'unknown field "enabled"; the fields here are: enable, cert, key, caCert'),
    (ks(net={"tls": {"cert": {"secretKeyRef": {"key": "tls.crt"}}}}),
     f"{TLS}.cert.secretKeyRef.name", "required field is missing"),
    (ks(net={"tls": {"caCert": "pem"}}), f"{TLS}.caCert", "must be a mapping, got a string"),
    (ks(net={"sasl": {"mechanism": "PLAIN"}}), "spec.net.sasl.mechanism",
     'unknown field "mechanism"; the fields here are: enable, user, password, type'),
    (ks(net={"sasl": {"user": {"secretKeyRef": {"name": "s", "key": "user name"}}}}),
     "spec.net.sasl.user.secretKeyRef.key", 'invalid value "user name"'),
    # sink, overrides, labels
    (ks(sink=None), "spec.sink", "required field is missing"),
    (ks(ceOverrides={"extensions": {"type": "x"}}), "spec.ceOverrides.extensions[type]",
     "core CloudEvent attribute"),
    (make(SPEC, labels={KEY_TYPE: "long"}), f"metadata.labels[{KEY_TYPE}]",
     'invalid value "long": must be one of string, int, float, byte-array'),
])
def test_validation(obj: dict[str, Any], path: str, fragment: str) -> None:
    found = refusal(obj)
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


def test_every_error_is_reported_at_once() -> None:
    assert [p for p, _ in refusal(make({}))] == [BS, "spec.topics", "spec.sink"]


# consumerGroup is immutable

def admitted(obj: dict[str, Any]) -> dict[str, Any]:
    return loading.admit(obj)


@pytest.mark.parametrize(("old", "new"), [
    pytest.param(admitted(ks()), ks(), id="defaulted-then-reapplied-without"),
    pytest.param(admitted(ks()), ks(consumerGroup="knative-kafka-source-default-ks"),
                 id="defaulted-then-written-out"),
    pytest.param(make(SPEC, namespace="default"), ks(), id="stored-without-one"),
    pytest.param(admitted(ks(consumerGroup="g")), ks(consumerGroup="g"), id="kept"),
    pytest.param(admitted(ks(consumerGroup="g")),
                 ks(consumerGroup="g", topics=["other"], consumers=3, initialOffset="earliest",
                    ordering="unordered", bootstrapServers=["b:9092"]),
                 id="everything-else-may-change"),
])
def test_updates_admitted(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert loading.admit(new, old)["spec"]["consumerGroup"] == kafka_source_types.consumer_group(
        old)


@pytest.mark.parametrize(("old", "new", "message"), [
    (admitted(ks(consumerGroup="g")), ks(consumerGroup="h"),
     'field is immutable: was "g", now "h"'),
    (admitted(ks(consumerGroup="g")), ks(),
     'field is immutable: was "g", now "knative-kafka-source-default-ks"'),
    (admitted(ks()), ks(consumerGroup="g"),
     'field is immutable: was "knative-kafka-source-default-ks", now "g"'),
    (admitted(ks(consumerGroup="knative-kafka-source-0b9f2c44-uuid")), ks(),
     'was "knative-kafka-source-0b9f2c44-uuid"'),
])
def test_consumer_group_is_immutable(old: dict[str, Any], new: dict[str, Any],
                                     message: str) -> None:
    found = refusal(new, old)
    assert [p for p, _ in found] == ["spec.consumerGroup"]
    assert message in found[0][1]
    assert "delete and recreate the KafkaSource" in found[0][1]


def test_v1beta1_is_served_and_stored_as_v1() -> None:
    admitted = loading.admit({**ks(), "apiVersion": "sources.knative.dev/v1beta1"})
    assert admitted["apiVersion"] == "sources.knative.dev/v1"
    assert admitted["spec"] == loading.admit(ks())["spec"]


# Lifecycle

def condition(status: dict[str, Any], type_: str) -> tuple[str, str, str] | None:
    found = lifecycle.CONDITIONS.get(status, type_)
    return None if found is None else (found["status"], found["reason"], found["message"])


def ready_status() -> dict[str, Any]:
    status: dict[str, Any] = {}
    lifecycle.initialize(status, now=NOW)
    lifecycle.mark_sink(status, "http://display.default.svc", now=NOW)
    lifecycle.mark_deployed(status, now=NOW)
    lifecycle.mark_connection_established(status, now=NOW)
    lifecycle.mark_initial_offsets_committed(status, now=NOW)
    return status


def test_initialize_then_ready() -> None:
    status: dict[str, Any] = {}
    lifecycle.initialize(status, now=NOW)
    assert [c["type"] for c in status["conditions"]] == [
        "ConnectionEstablished", "Deployed", "InitialOffsetsCommitted", "Ready", "SinkProvided"]
    assert condition(status, "Ready") == ("Unknown", "", "")
    lifecycle.mark_sink(status, "http://display.default.svc", now=NOW)
    lifecycle.mark_deployed(status, now=NOW)
    assert condition(status, "Ready")[0] == "Unknown"  # type: ignore[index]
    status = ready_status()
    assert condition(status, "Ready") == ("True", "", "")
    assert status["sinkUri"] == "http://display.default.svc"


@pytest.mark.parametrize(("mark", "args", "type_", "expected", "ready"), [
    (lifecycle.mark_no_sink, ("NotFound", "m"), "SinkProvided", ("False", "NotFound", "m"),
     "False"),
    (lifecycle.mark_not_deployed, ("DeadLetterSinkNotResolved", "m"), "Deployed",
     ("False", "DeadLetterSinkNotResolved", "m"), "False"),
    (lifecycle.mark_deploying, ("Starting", "m"), "Deployed", ("Unknown", "Starting", "m"),
     "Unknown"),
    (lifecycle.mark_connection_established_failed, ("NoBrokers", "m"), "ConnectionEstablished",
     ("False", "NoBrokers", "m"), "False"),
    (lifecycle.mark_initial_offsets_committed_failed, ("TopicNotFound", "m"),
     "InitialOffsetsCommitted", ("False", "TopicNotFound", "m"), "False"),
])
def test_transitions(mark: Any, args: tuple[Any, ...], type_: str,
                     expected: tuple[str, str, str], ready: str) -> None:
    status = ready_status()
    mark(status, *args, now=NOW + timedelta(seconds=1))
    assert condition(status, type_) == expected
    assert condition(status, "Ready") == (ready, *expected[1:])
    later = NOW + timedelta(seconds=2)
    if type_ == "SinkProvided":
        lifecycle.mark_sink(status, "http://x", now=later)
    else:
        {"Deployed": lifecycle.mark_deployed,
         "ConnectionEstablished": lifecycle.mark_connection_established,
         "InitialOffsetsCommitted": lifecycle.mark_initial_offsets_committed}[type_](
            status, now=later)
    assert condition(status, "Ready") == ("True", "", "")


def test_left_out_conditions() -> None:
    assert set(lifecycle.CONDITIONS.dependents) == {
        "SinkProvided", "Deployed", "ConnectionEstablished", "InitialOffsetsCommitted"}


def test_is_ready() -> None:
    obj = {**ks(), "status": {**ready_status(), "observedGeneration": 1}}
    obj["metadata"]["generation"] = 1
    assert lifecycle.is_ready(obj) is True
    obj["metadata"]["generation"] = 2
    assert lifecycle.is_ready(obj) is False
    assert lifecycle.is_ready(ks()) is False
