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
    ("ref to a Knative Service", ksvc_ref("display"), None, "KindNotServed",
     "Service ns/display (serving.knative.dev/v1): Ripple does not serve the kind Service"),
    ("ref to a core v1 Service", {"ref": ref("Service", "svc", "v1")}, None, "KindNotServed",
     "Service ns/svc (v1)"),
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
    resolving.resolve_destination(ksvc_ref("display"), NS, lookup)  # unserved: never looked up
    assert asked == [("eventing.knative.dev/v1", "Broker", "team-a", "b"),
                     ("eventing.knative.dev/v1", "Broker", NS, "b")]


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
