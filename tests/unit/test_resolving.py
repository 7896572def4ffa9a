"""Destination resolution table: a Destination and the observed world in, (uri, reason) out."""

from __future__ import annotations

from typing import Any

import pytest

from controllers import resolving
from controllers.reconciling import ObservedList
from tests.unit.reconciler_tables import BASE, NS, broker, broker_ref, ksvc_ref, ready_broker, ref

WORLD = ObservedList([
    ready_broker("b"), ready_broker("b", "team-a"), broker("unaddressed"),
    broker("slash", status={"address": {"url": f"{BASE}/{NS}/slash/"}}),
])

# (name, destination, uri wanted, reason wanted, fragment the message must hold)
CASES: list[tuple[str, Any, str | None, str, str]] = [
    ("nothing", None, None, "DestinationMissing", "no destination"),
    ("empty", {}, None, "DestinationMissing", "no destination"),
    ("neither ref nor uri", {"CACerts": "x"}, None, "DestinationMissing", "ref or a uri"),
    ("uri alone, as given", {"uri": "https://sink.example/a?b=1"}, "https://sink.example/a?b=1", "", ""),
    ("ref: the target's status.address.url", broker_ref("b"), f"{BASE}/{NS}/b", "", ""),
    ("ref namespace defaults to the referrer's", broker_ref("b", NS), f"{BASE}/{NS}/b", "", ""),
    ("ref to another namespace", broker_ref("b", "team-a"), f"{BASE}/team-a/b", "", ""),
    ("ref + /path replaces the path", broker_ref("b", uri="/update"), f"{BASE}/update", "", ""),
    ("ref + relative path replaces the last segment", broker_ref("b", uri="sub/x"),
     f"{BASE}/{NS}/sub/x", "", ""),
    ("ref with a trailing slash + relative path appends", broker_ref("slash", uri="sub"),
     f"{BASE}/{NS}/slash/sub", "", ""),
    ("ref + dot segments", broker_ref("b", uri="../up"), f"{BASE}/up", "", ""),
    ("ref + query keeps the path", broker_ref("b", uri="?x=1"), f"{BASE}/{NS}/b?x=1", "", ""),
    ("ref not found", broker_ref("gone"), None, "NotFound", "Broker ns/gone (eventing.knative.dev/v1) not found"),
    ("ref not found in its own namespace", broker_ref("b", "team-b"), None, "NotFound", "Broker team-b/b"),
    ("ref + uri not found", broker_ref("gone", uri="/x"), None, "NotFound", "Broker ns/gone"),
    ("ref found but without an address", broker_ref("unaddressed"), None, "NotAddressable",
     "Broker ns/unaddressed (eventing.knative.dev/v1) has no address"),
    ("ref to a Knative Service that does not exist", ksvc_ref("display"), None, "NotFound",
     "Service ns/display (serving.knative.dev/v1) not found"),
    ("ref to a core v1 Service: through the Knative Service of its name",
     {"ref": ref("Service", "svc", "v1")}, None, "NotFound",
     "Service ns/svc (v1) not found (no Service ns/svc of serving.knative.dev/v1)"),
    ("ref to a served kind at an unserved version", {"ref": ref("Broker", "b", "eventing.knative.dev/v1beta1")},
     None, "KindNotServed", "Broker ns/b (eventing.knative.dev/v1beta1)"),
    ("ref to a kind unknown in a served group", {"ref": ref("KafkaSink", "k", "eventing.knative.dev/v1")},
     None, "KindNotServed", "KafkaSink ns/k"),
]


@pytest.mark.parametrize("name, destination, uri, reason, fragment", CASES, ids=[c[0] for c in CASES])
def test_resolve_destination(name: str, destination: Any, uri: str | None, reason: str,
                             fragment: str) -> None:
    found = resolving.resolve_destination(destination, NS, WORLD.get)
    assert (found.uri, found.reason) == (uri, reason)
    assert found.ok is (uri is not None)
    assert fragment in found.message
    if found.ok:
        assert found.message == ""


def test_the_lookup_is_asked_for_the_ref_exactly() -> None:
    asked: list[tuple[str, str, str, str]] = []

    def lookup(api_version: str, kind: str, namespace: str, name: str) -> dict | None:
        asked.append((api_version, kind, namespace, name))
        return None

    resolving.resolve_destination(broker_ref("b", "team-a"), NS, lookup)
    resolving.resolve_destination(broker_ref("b"), NS, lookup)
    resolving.resolve_destination(ksvc_ref("display"), NS, lookup)
    unserved = {"ref": ref("KafkaSink", "k", "eventing.knative.dev/v1alpha1")}
    resolving.resolve_destination(unserved, NS, lookup)  # unserved: never looked up
    assert asked == [("eventing.knative.dev/v1", "Broker", "team-a", "b"),
                     ("eventing.knative.dev/v1", "Broker", NS, "b"),
                     ("serving.knative.dev/v1", "Service", NS, "display")]


@pytest.mark.parametrize("status, wanted", [
    ({"address": {"url": "http://a/"}}, "http://a/"),
    ({"url": "http://ksvc/"}, "http://ksvc/"),  # a Knative Service publishes status.url
    ({"address": {"url": "http://a/"}, "url": "http://ksvc/"}, "http://a/"),
    ({"address": {}}, None),
    ({}, None),
    (None, None),
])
def test_address_of(status: dict | None, wanted: str | None) -> None:
    assert resolving.address_of({"status": status}) == wanted


# --- The addressing hook: a platform that serves more kinds, and kinds that register. ---

SERVING = "serving.knative.dev/v1"
EVENTING_V1 = "eventing.knative.dev/v1"


def ksvc(name: str, status: dict[str, Any], namespace: str = NS) -> dict[str, Any]:
    return {"apiVersion": SERVING, "kind": "Service",
            "metadata": {"name": name, "namespace": namespace}, "status": status}


def core_svc(name: str, namespace: str = NS) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}}


SERVED_WORLD = ObservedList([
    ready_broker("b"),
    ksvc("fn", {"url": "http://fn.ns.example.com", "address": {"url": "http://fn.ns.local"},
                "conditions": [{"type": "Ready", "status": "True"}]}),
    ksvc("outside", {"url": "http://outside.example.com"}),
    ksvc("failing", {"address": {"url": "http://failing.local"},
                     "conditions": [{"type": "Ready", "status": "False", "reason": "RevisionFailed",
                                     "message": "exit 1"}]}),
    core_svc("db"),
])


def serves(*kinds: tuple[str, str]) -> resolving.Served:
    return lambda api_version, kind: (api_version, kind) in kinds


WITH_SERVING = serves((EVENTING_V1, "Broker"), (SERVING, "Service"))

# (name, destination, served, uri wanted, reason wanted, fragment the message must hold)
SERVED_CASES: list[tuple[str, Any, resolving.Served, str | None, str, str]] = [
    ("a Knative Service: status.address.url, as Knative's resolver", ksvc_ref("fn"), WITH_SERVING,
     "http://fn.ns.local", "", ""),
    ("a Knative Service with only status.url", ksvc_ref("outside"), WITH_SERVING,
     "http://outside.example.com", "", ""),
    ("a Knative Service not Ready", ksvc_ref("failing"), WITH_SERVING, None, "NotReady",
     "RevisionFailed: exit 1"),
    ("a core Service on one machine: the Knative Service of its name",
     {"ref": ref("Service", "fn", "v1")}, WITH_SERVING, "http://fn.ns.local", "", ""),
    ("a core Service with no Knative Service of its name", {"ref": ref("Service", "db", "v1")},
     WITH_SERVING, None, "NotFound", "Service ns/db (v1) not found (no Service ns/db of serving"),
    ("a core Service while Knative Services are not served", {"ref": ref("Service", "fn", "v1")},
     serves((EVENTING_V1, "Broker")), None, "KindNotServed",
     "Service ns/fn (v1): on one machine a core Service resolves through the Knative Service"),
    ("the platform's served kinds decide, not the registry", broker_ref("b"), serves(),
     None, "KindNotServed", "Broker ns/b (eventing.knative.dev/v1): Ripple does not serve"),
]


@pytest.mark.parametrize("name, destination, served, uri, reason, fragment", SERVED_CASES,
                         ids=[c[0] for c in SERVED_CASES])
def test_resolve_with_the_platforms_served_kinds(
    name: str, destination: Any, served: resolving.Served, uri: str | None, reason: str,
    fragment: str,
) -> None:
    found = resolving.resolve_destination(destination, NS, SERVED_WORLD.get, served=served)
    assert (found.uri, found.reason) == (uri, reason)
    assert fragment in found.message


def test_a_new_kind_registers_its_address_instead_of_editing_the_resolver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(resolving, "ADDRESSING", dict(resolving.ADDRESSING))
    # The Kubernetes platform: a core Service is its cluster DNS name.
    resolving.register_addressing("", "Service", resolving.CORE_SERVICE_ON_KUBERNETES)
    # A kind a later issue adds, whose address lives elsewhere in its status.
    resolving.register_addressing("example.dev", "Widget", resolving.Addressing(
        address_of=lambda obj: (obj.get("status") or {}).get("endpoint")))
    world = ObservedList([
        core_svc("db"),
        {"apiVersion": "example.dev/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": NS},
         "status": {"endpoint": "http://w.example/"}},
    ])
    served = serves(("v1", "Service"), ("example.dev/v1", "Widget"))
    core = resolving.resolve_destination({"ref": ref("Service", "db", "v1")}, NS, world.get,
                                         served=served)
    assert core.uri == "http://db.ns.svc.cluster.local"
    widget = resolving.resolve_destination(
        {"ref": ref("Widget", "w", "example.dev/v1"), "uri": "in"}, NS, world.get, served=served)
    assert widget.uri == "http://w.example/in"


@pytest.mark.parametrize("obj, wanted", [
    (core_svc("db", "team-a"), "http://db.team-a.svc.cluster.local"),
    ({"metadata": {"name": "db"}}, None),
])
def test_cluster_local_url(obj: dict[str, Any], wanted: str | None) -> None:
    assert resolving.cluster_local_url(obj) == wanted
