"""The kind table (ripple.api.registry): lookups by manifest, by API path and by CLI name."""

from __future__ import annotations

import pytest

import ripple.api  # noqa: F401  (registers the kinds)
from ripple import errors
from ripple.api import registry
from ripple.api.registry import Kind, Registry

SERVED = {
    ("eventing.knative.dev/v1", "Broker"),
    ("eventing.knative.dev/v1", "Trigger"),
    ("v1", "Secret"),
}


def test_importing_ripple_api_registers_the_kinds() -> None:
    assert {(k.api_version, k.kind) for k in registry.kinds()} >= SERVED


@pytest.mark.parametrize(("api_version", "kind", "plural", "namespaced", "addressable"), [
    ("eventing.knative.dev/v1", "Broker", "brokers", True, True),
    ("eventing.knative.dev/v1", "Trigger", "triggers", True, False),
    ("v1", "Secret", "secrets", True, False),
])
def test_lookup(
    api_version: str, kind: str, plural: str, namespaced: bool, addressable: bool
) -> None:
    found = registry.lookup(api_version, kind)
    assert (found.api_version, found.kind, found.plural) == (api_version, kind, plural)
    assert (found.namespaced, found.addressable) == (namespaced, addressable)


@pytest.mark.parametrize(("api_version", "kind", "path", "fragments"), [
    ("sources.knative.dev/v1", "ApiServerSource", "kind",
     ["sources.knative.dev/v1 ApiServerSource is not a kind Ripple serves",
      "eventing.knative.dev/v1 Broker", "v1 Secret"]),
    ("eventing.knative.dev/v1", "EventType", "kind", ["eventing.knative.dev/v1 EventType"]),
    ("v1", "Pod", "kind", ["v1 Pod is not a kind Ripple serves"]),
    ("eventing.knative.dev/v1beta1", "Broker", "apiVersion",
     ["Ripple serves Broker as eventing.knative.dev/v1 Broker"]),
    ("", "Broker", "apiVersion", ["required field is missing"]),
    ("v1", "", "kind", ["required field is missing"]),
    (None, None, "apiVersion", ["required field is missing"]),
])
def test_lookup_refuses_unserved_kinds(
    api_version: str, kind: str, path: str, fragments: list[str]
) -> None:
    with pytest.raises(errors.Invalid) as caught:
        registry.lookup(api_version, kind)
    assert caught.value.status == 422
    assert [e.path for e in caught.value.errors] == [path]
    for fragment in fragments:
        assert fragment in caught.value.errors[0].message


@pytest.mark.parametrize(("group", "version", "plural", "kind"), [
    ("eventing.knative.dev", "v1", "brokers", "Broker"),
    ("eventing.knative.dev", "v1", "triggers", "Trigger"),
    ("", "v1", "secrets", "Secret"),
])
def test_by_resource(group: str, version: str, plural: str, kind: str) -> None:
    assert registry.by_resource(group, version, plural).kind == kind


@pytest.mark.parametrize(("group", "version", "plural"), [
    ("eventing.knative.dev", "v1", "secrets"),
    ("eventing.knative.dev", "v2", "brokers"),
    ("", "v1", "pods"),
])
def test_by_resource_not_found(group: str, version: str, plural: str) -> None:
    with pytest.raises(errors.NotFound, match="brokers.eventing.knative.dev"):
        registry.by_resource(group, version, plural)


@pytest.mark.parametrize(("name", "kind"), [
    ("trigger", "Trigger"),
    ("triggers", "Trigger"),
    ("Trigger", "Trigger"),
    ("TRIGGERS", "Trigger"),
    ("broker", "Broker"),
    ("Brokers", "Broker"),
    ("brokers.eventing.knative.dev", "Broker"),
    ("Broker.eventing.knative.dev", "Broker"),
    ("secret", "Secret"),
    (" secrets ", "Secret"),
])
def test_by_name(name: str, kind: str) -> None:
    assert registry.by_name(name).kind == kind


@pytest.mark.parametrize("name", ["brokerz", "svc", "brokers.serving.knative.dev", ""])
def test_by_name_not_found_lists_the_names(name: str) -> None:
    with pytest.raises(errors.NotFound) as caught:
        registry.by_name(name)
    assert "broker, brokers" in str(caught.value) and "trigger, triggers" in str(caught.value)


def make_kind(**changes: object) -> Kind:
    fields: dict[str, object] = {
        "group": "sources.knative.dev", "version": "v1", "kind": "PingSource",
        "plural": "pingsources", "singular": "pingsource", "short_names": ("ping",),
    }
    fields.update(changes)
    return Kind(**fields)  # type: ignore[arg-type]


def test_a_new_kind_slots_in_with_one_register_call() -> None:
    table = Registry()
    ping = table.register(make_kind())
    assert table.lookup("sources.knative.dev/v1", "PingSource") is ping
    assert table.by_name("ping") is ping
    assert table.by_resource("sources.knative.dev", "v1", "pingsources") is ping
    obj: dict[str, object] = {}
    ping.set_defaults(obj)
    assert obj == {} and ping.validate({}) == []
    assert ping.validate_update({}, {}) == []


def test_registering_twice() -> None:
    table = Registry()
    table.register(make_kind())
    table.register(make_kind())  # the same kind again is harmless
    with pytest.raises(ValueError, match="registered already"):
        table.register(make_kind(plural="pings"))


def test_a_kind_name_another_group_has_is_refused() -> None:
    """Informers and work queues key objects by kind name, so two groups may not share one."""
    table = Registry()
    table.register(make_kind())
    with pytest.raises(ValueError, match="kind name PingSource is taken by"):
        table.register(make_kind(group="example.dev", short_names=()))


def test_the_first_registered_kind_wins_a_shared_name() -> None:
    table = Registry()
    first = table.register(make_kind(short_names=("src",)))
    table.register(make_kind(kind="KafkaSource", plural="kafkasources", singular="kafkasource",
                             short_names=("src",)))
    assert table.by_name("src") is first


@pytest.mark.parametrize(("group", "api_version"), [
    ("eventing.knative.dev", "eventing.knative.dev/v1"),
    ("", "v1"),
])
def test_api_version(group: str, api_version: str) -> None:
    assert make_kind(group=group).api_version == api_version
