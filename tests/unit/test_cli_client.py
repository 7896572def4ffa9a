"""Tables over `ripple.cli.client`'s pure parts: Status messages, discovery, URL paths."""

from __future__ import annotations

import json
import socket

import pytest

from ripple import errors
from ripple.cli import client
from ripple.cli.client import ResourceType

BROKER = ResourceType("eventing.knative.dev", "v1", "Broker", "brokers", "broker", ("bk",))
KSVC = ResourceType(
    "serving.knative.dev", "v1", "Service", "services", "service", ("ksvc", "kservice")
)
SECRET = ResourceType("", "v1", "Secret", "secrets", "secret")
CLUSTERED = ResourceType("x.dev", "v1alpha1", "Thing", "things", "thing", namespaced=False)
TYPES = [BROKER, KSVC, SECRET, CLUSTERED]


def status(message: str = "", causes: list[dict] | None = None, **more: object) -> dict:
    found = {"kind": "Status", "message": message, **more}
    if causes is not None:
        found["details"] = {"causes": causes}
    return found


@pytest.mark.parametrize(
    "body, code, expected",
    [
        (status('brokers "x" not found', reason="NotFound"), 404, 'brokers "x" not found'),
        (
            status(
                "Broker is invalid", [{"field": "spec.delivery.retry", "message": "must be >= 0"}]
            ),
            422,
            "Broker is invalid; spec.delivery.retry: must be >= 0",
        ),
        (
            status(
                "Trigger is invalid",
                [
                    {"field": "spec.broker", "message": "required"},
                    {"field": "", "message": "something else"},
                ],
            ),
            422,
            "Trigger is invalid; spec.broker: required; something else",
        ),
        (  # a cause the message already spells out is not repeated
            status("x is invalid: spec.a: bad", [{"field": "spec.a", "message": "bad"}]),
            422,
            "x is invalid: spec.a: bad",
        ),
        ({"kind": "Status", "reason": "Conflict"}, 409, "Conflict"),
        ({"code": 404, "message": "broker default/x not found"}, 404, "broker default/x not found"),
        ({"details": "odd", "message": "m"}, 500, "m"),
        ({"details": {"causes": ["odd"]}, "message": "m"}, 500, "m"),
        (None, 502, "bad gateway text"),
        (None, 500, "the server answered HTTP 500"),
    ],
)
def test_format_status(body: object, code: int, expected: str) -> None:
    fallback = "bad gateway text" if code == 502 else ""
    assert client.format_status(body, code, fallback) == expected


def test_error_from_keeps_code_reason_and_retry_after() -> None:
    body = json.dumps(status("store is over its bound", reason="ServiceUnavailable")).encode()
    failure = client.error_from(503, body, {"retry-after": "2"})
    assert (failure.code, failure.reason, failure.retry_after) == (503, "ServiceUnavailable", "2")
    assert str(failure) == "store is over its bound (retry after 2s)"
    assert isinstance(failure, errors.RippleError) and errors.http_status(failure) == 503


def test_error_from_plain_text() -> None:
    assert str(client.error_from(500, b"boom\n", {})) == "boom"


@pytest.mark.parametrize(
    "rtype, ns, name, expected",
    [
        (BROKER, "default", None, "/apis/eventing.knative.dev/v1/namespaces/default/brokers"),
        (BROKER, "a", "b", "/apis/eventing.knative.dev/v1/namespaces/a/brokers/b"),
        (BROKER, None, None, "/apis/eventing.knative.dev/v1/brokers"),
        (SECRET, "default", "s", "/api/v1/namespaces/default/secrets/s"),
        (SECRET, None, None, "/api/v1/secrets"),
        (CLUSTERED, "default", "t", "/apis/x.dev/v1alpha1/things/t"),
    ],
)
def test_paths(rtype: ResourceType, ns: str | None, name: str | None, expected: str) -> None:
    assert rtype.path(ns, name) == expected


@pytest.mark.parametrize(
    "word, expected",
    [
        ("broker", BROKER),
        ("brokers", BROKER),
        ("Broker", BROKER),
        ("BROKERS", BROKER),
        ("bk", BROKER),
        ("brokers.eventing.knative.dev", BROKER),
        ("broker.eventing.knative.dev", BROKER),
        ("ksvc", KSVC),
        ("service", KSVC),
        ("secrets", SECRET),
        ("thing", CLUSTERED),
    ],
)
def test_find_type(word: str, expected: ResourceType) -> None:
    assert client.find_type(TYPES, word) == expected


@pytest.mark.parametrize("word", ["brokerz", "brokers.other.dev", ""])
def test_find_type_unknown_lists_known(word: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        client.find_type(TYPES, word)
    assert (
        str(caught.value) == f'unknown kind "{word}"; known kinds: broker, secret, service, thing'
    )


@pytest.mark.parametrize(
    "api_version, kind, expected",
    [("eventing.knative.dev/v1", "Broker", BROKER), ("v1", "Secret", SECRET)],
)
def test_type_of(api_version: str, kind: str, expected: ResourceType) -> None:
    assert client.type_of(TYPES, api_version, kind) == expected


@pytest.mark.parametrize(
    "api_version, kind",
    [
        ("eventing.knative.dev/v1beta1", "Broker"),
        ("eventing.knative.dev/v1", "broker"),
        ("v1", "Pod"),
    ],
)
def test_type_of_rejects(api_version: str, kind: str) -> None:
    with pytest.raises(
        errors.Invalid, match=f'no matches for kind "{kind}" in version "{api_version}"'
    ):
        client.type_of(TYPES, api_version, kind)


@pytest.mark.parametrize(
    "rtype, qualified, api_version",
    [(BROKER, "broker.eventing.knative.dev", "eventing.knative.dev/v1"), (SECRET, "secret", "v1")],
)
def test_names(rtype: ResourceType, qualified: str, api_version: str) -> None:
    assert (rtype.qualified, rtype.api_version) == (qualified, api_version)


def test_from_discovery_fills_gaps() -> None:
    entry = {"group": "", "version": "v1", "kind": "Secret", "plural": "secrets"}
    assert ResourceType.from_discovery(entry) == SECRET


def test_unreachable_server_is_one_friendly_line() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = client.Client(f"http://127.0.0.1:{port}")
    with pytest.raises(client.Unreachable) as caught:
        api.call("GET", "/apis")
    assert str(caught.value) == (
        f"cannot reach the Ripple API at http://127.0.0.1:{port} (is 'ripple up' running?); "
        f"if it runs elsewhere, point the CLI at it with --server URL or RIPPLE_SERVER=URL"
    )
