"""The CLI's sinks through the controller's resolver (`common.resolve_sink`, `resolve_url`):
a table of sink text and served kinds in, a Destination, a URL or a one-line refusal out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ripple import errors
from ripple.cli.client import ApiError, Client, ResourceType
from ripple.cli.commands import common


def rtype(group: str, kind: str, plural: str, version: str = "v1") -> ResourceType:
    return ResourceType(group, version, kind, plural, kind.lower())


BROKER = rtype("eventing.knative.dev", "Broker", "brokers")
CHANNEL = rtype("messaging.knative.dev", "Channel", "channels")
KSVC = rtype("serving.knative.dev", "Service", "services")
RIPPLE_TODAY = [BROKER, CHANNEL]  # what the server serves now: no Knative Service
WITH_SERVING = [*RIPPLE_TODAY, KSVC]

READY = [{"type": "Ready", "status": "True"}]


def broker(name: str, url: str | None, conditions: list[dict[str, str]] | None = READY) -> Any:
    status: dict[str, Any] = {"conditions": conditions}
    if url:
        status["address"] = {"url": url}
    return {"metadata": {"name": name, "namespace": "default"}, "status": status}


OBJECTS = {
    BROKER.path("default", "b"): broker("b", "http://h/default/b"),
    BROKER.path("default", "new"): broker("new", None, None),
    BROKER.path("default", "down"): broker("down", "http://h/default/down", [
        {"type": "Ready", "status": "False", "reason": "NoStore", "message": "store down"}]),
    BROKER.path("other", "b"): broker("b", "http://h/other/b"),
    KSVC.path("default", "fn"): {"metadata": {"name": "fn", "namespace": "default"}, "status": {
        "url": "http://fn.default.example.com", "address": {"url": "http://fn.local"},
        "conditions": READY}},
}


@dataclass
class Fake(Client):
    """Discovery and GETs from tables; nothing leaves the process."""

    served_types: list[ResourceType] = field(default_factory=list)

    def resource_types(self) -> list[ResourceType]:
        return self.served_types

    def call(self, method: str, path: str, obj: dict[str, Any] | None = None) -> dict[str, Any]:
        assert method == "GET"
        if path not in OBJECTS:
            raise ApiError(404, f"{path} not found")
        return OBJECTS[path]


URLS = [
    ("broker:b", RIPPLE_TODAY, "http://h/default/b"),
    ("broker:b:other", RIPPLE_TODAY, "http://h/other/b"),
    ("https://example.com/x", RIPPLE_TODAY, "https://example.com/x"),
    ("eventing.knative.dev/v1/brokers:b", RIPPLE_TODAY, "http://h/default/b"),
    # A Knative Service resolves as the controller resolves it: status.address.url.
    ("ksvc:fn", WITH_SERVING, "http://fn.local"),
    ("fn", WITH_SERVING, "http://fn.local"),
    # On one machine a core Service is the Knative Service of that name.
    ("svc:fn", WITH_SERVING, "http://fn.local"),
]


@pytest.mark.parametrize("text, served, url", URLS, ids=[u[0] for u in URLS])
def test_resolve_url(text: str, served: list[ResourceType], url: str) -> None:
    assert common.resolve_url(Fake(served_types=served), text, "default", "--to") == url


REFUSED = [
    ("broker:nope", RIPPLE_TODAY,
     "--to 'broker:nope': Broker default/nope (eventing.knative.dev/v1) not found"),
    ("broker:down", RIPPLE_TODAY,
     ("--to 'broker:down': Broker default/down (eventing.knative.dev/v1) is not Ready: "
     "NoStore: store down")),
    ("broker:new", RIPPLE_TODAY,
     "--to 'broker:new': Broker default/new (eventing.knative.dev/v1) has no address yet"),
    # issue #16: `--sink ksvc:x` was taken while the server does not serve Services.
    ("ksvc:x", RIPPLE_TODAY,
     ("sink 'ksvc:x': Service default/x (serving.knative.dev/v1): Ripple does not serve "
     "the kind Service of serving.knative.dev/v1 yet")),
    ("x", RIPPLE_TODAY, "sink 'x': Service default/x (serving.knative.dev/v1): Ripple does not"),
    ("svc:x", RIPPLE_TODAY,
     ("sink 'svc:x': Service default/x (v1): on one machine a core Service resolves through "
     "the Knative Service of its name, and Ripple does not serve the kind Service of "
     "serving.knative.dev/v1 yet")),
    ("ksvc:gone", WITH_SERVING,
     "--to 'ksvc:gone': Service default/gone (serving.knative.dev/v1) not found"),
    ("svc:gone", WITH_SERVING,
     ("--to 'svc:gone': Service default/gone (v1) not found (no Service default/gone of "
     "serving.knative.dev/v1)")),
    ("example.dev/v1/widgets:w", RIPPLE_TODAY,
     "sink 'example.dev/v1/widgets:w': the API serves no resource 'widgets' in example.dev/v1"),
]


@pytest.mark.parametrize("text, served, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_resolve_url_refuses_in_one_line(
    text: str, served: list[ResourceType], message: str
) -> None:
    with pytest.raises(errors.Invalid) as caught:
        common.resolve_url(Fake(served_types=served), text, "default", "--to")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text, served, wanted", [
    ("broker:b", RIPPLE_TODAY, {"ref": {"apiVersion": "eventing.knative.dev/v1",
                                        "kind": "Broker", "name": "b", "namespace": "default"}}),
    # A sink for a Trigger need not exist yet: the Trigger's condition reports it.
    ("broker:later", RIPPLE_TODAY, {"ref": {"apiVersion": "eventing.knative.dev/v1",
                                            "kind": "Broker", "name": "later",
                                            "namespace": "default"}}),
    ("ksvc:x", WITH_SERVING, {"ref": {"apiVersion": "serving.knative.dev/v1",
                                      "kind": "Service", "name": "x", "namespace": "default"}}),
    ("http://x", RIPPLE_TODAY, {"uri": "http://x"}),
])
def test_destination_for_a_served_kind(
    text: str, served: list[ResourceType], wanted: dict[str, Any]
) -> None:
    assert common.destination(Fake(served_types=served), text, "default") == wanted


def test_destination_refuses_a_kind_the_server_does_not_serve() -> None:
    with pytest.raises(errors.Invalid, match="sink 'ksvc:x': .*does not serve the kind Service"):
        common.destination(Fake(served_types=RIPPLE_TODAY), "ksvc:x", "default")
