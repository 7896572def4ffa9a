"""KReference, Destination and DeliverySpec (ripple.api.duck)."""

from __future__ import annotations

from typing import Any

import pytest

from ripple.api import duck

REF = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "display"}


def errors_of(errs: list[Any]) -> list[tuple[str, str]]:
    return [(e.path, e.message) for e in errs]


@pytest.mark.parametrize("destination", [
    {"ref": REF},
    {"uri": "http://sink.example.com/path"},
    {"uri": "https://10.0.0.1:8443"},
    {"ref": REF, "uri": "/my-custom-path"},
    {"ref": REF, "uri": "example-uri"},
    {"ref": {**REF, "namespace": "other"}},
    {"ref": REF, "audience": "display"},
])
def test_destination_accepted(destination: dict[str, Any]) -> None:
    assert duck.validate_destination(destination, "spec.subscriber") == []


@pytest.mark.parametrize(("destination", "path", "fragment"), [
    ({}, "spec.subscriber", "expected at least one of ref or uri, got neither"),
    ({"uri": ""}, "spec.subscriber", "expected at least one of ref or uri"),
    ("http://x", "spec.subscriber", "must be a mapping, got a string"),
    ({"uri": "/relative"}, "spec.subscriber.uri", "without a ref the uri must be absolute"),
    ({"uri": "sink.example.com"}, "spec.subscriber.uri", "without a ref the uri must be absolute"),
    ({"uri": "http://"}, "spec.subscriber.uri", "with a scheme and a host"),
    ({"uri": "http://[::1"}, "spec.subscriber.uri", "invalid value"),
    ({"uri": 5}, "spec.subscriber.uri", "must be a string, got an integer"),
    ({"ref": REF, "uri": "http://x/y"}, "spec.subscriber.uri",
     "an absolute URI is not allowed beside a ref"),
    ({"ref": {"kind": "Service", "name": "x"}}, "spec.subscriber.ref.apiVersion",
     "required field is missing"),
    ({"ref": {"apiVersion": "v1", "name": "x"}}, "spec.subscriber.ref.kind",
     "required field is missing"),
    ({"ref": {"apiVersion": "v1", "kind": "Service"}}, "spec.subscriber.ref.name",
     "required field is missing"),
    ({"ref": {**REF, "name": 3}}, "spec.subscriber.ref.name", "must be a string"),
    ({"ref": {**REF, "group": "serving.knative.dev"}}, "spec.subscriber.ref.group",
     "must not be set"),
    ({"ref": {**REF, "nmae": "x"}}, "spec.subscriber.ref.nmae", 'unknown field "nmae"'),
    ({"ref": REF, "url": "/x"}, "spec.subscriber.url", 'unknown field "url"'),
    ({"ref": "display"}, "spec.subscriber.ref", "must be a mapping"),
    ({"ref": REF, "CACerts": "not a pem"}, "spec.subscriber.CACerts", "not a PEM-encoded"),
])
def test_destination_refused(destination: object, path: str, fragment: str) -> None:
    found = errors_of(duck.validate_destination(destination, "spec.subscriber"))
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


@pytest.mark.parametrize("delivery", [
    {},
    {"retry": 0},
    {"retry": 10, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S"},
    {"retry": 3, "backoffPolicy": "linear", "backoffDelay": "PT1S", "timeout": "PT10S"},
    {"retryAfterMax": "PT0S", "format": "json"},
    {"format": "binary", "backoffDelay": "PT0S"},
    {"deadLetterSink": {"uri": "http://dls.example.com"}},
])
def test_delivery_accepted(delivery: dict[str, Any]) -> None:
    assert duck.validate_delivery(delivery, "spec.delivery") == []


@pytest.mark.parametrize(("delivery", "path", "fragment"), [
    ({"retry": -1}, "spec.delivery.retry", "invalid value -1"),
    ({"retry": 2**31}, "spec.delivery.retry", "0 to 2147483647"),
    ({"retry": "3"}, "spec.delivery.retry", "must be an integer, got a string"),
    ({"retry": True}, "spec.delivery.retry", "must be an integer, got a boolean"),
    ({"retry": 1.5}, "spec.delivery.retry", "must be an integer, got a number"),
    ({"backoffPolicy": "fast"}, "spec.delivery.backoffPolicy",
     'invalid value "fast": must be one of exponential, linear'),
    ({"backoffPolicy": "Exponential"}, "spec.delivery.backoffPolicy", "must be one of"),
    ({"backoffPolicy": 1}, "spec.delivery.backoffPolicy", "invalid value an integer"),
    ({"backoffDelay": "1s"}, "spec.delivery.backoffDelay", "is not an ISO-8601 duration"),
    ({"backoffDelay": "-PT1S"}, "spec.delivery.backoffDelay", "must be zero or more"),
    ({"backoffDelay": 2}, "spec.delivery.backoffDelay", "must be a string"),
    ({"timeout": "PT0S"}, "spec.delivery.timeout", "must be more than zero"),
    ({"timeout": "ten seconds"}, "spec.delivery.timeout", "is not an ISO-8601 duration"),
    ({"retryAfterMax": "-PT1S"}, "spec.delivery.retryAfterMax", "must be zero or more"),
    ({"retryAfterMax": "P"}, "spec.delivery.retryAfterMax", "names no unit"),
    ({"format": "xml"}, "spec.delivery.format", "must be one of json, binary"),
    ({"deadLetterSink": {}}, "spec.delivery.deadLetterSink", "expected at least one of ref or uri"),
    ({"deadLetterSink": {"uri": "/dls"}}, "spec.delivery.deadLetterSink.uri", "must be absolute"),
    ({"retries": 3}, "spec.delivery.retries", 'unknown field "retries"'),
    ([], "spec.delivery", "must be a mapping, got a list"),
])
def test_delivery_refused(delivery: object, path: str, fragment: str) -> None:
    found = errors_of(duck.validate_delivery(delivery, "spec.delivery"))
    assert [p for p, _ in found] == [path]
    assert fragment in found[0][1]


def test_delivery_reports_every_error() -> None:
    found = errors_of(duck.validate_delivery(
        {"retry": -1, "backoffPolicy": "x", "timeout": "PT0S", "format": "xml"}, "d"
    ))
    assert [p for p, _ in found] == ["d.retry", "d.backoffPolicy", "d.format", "d.timeout"]


@pytest.mark.parametrize(("function", "given", "expected"), [
    (duck.default_destination, {"ref": {"name": "x"}}, {"ref": {"name": "x", "namespace": "ns"}}),
    (duck.default_destination, {"ref": {"name": "x", "namespace": "other"}},
     {"ref": {"name": "x", "namespace": "other"}}),
    (duck.default_destination, {"uri": "http://x"}, {"uri": "http://x"}),
    (duck.default_destination, {"ref": "junk"}, {"ref": "junk"}),
    (duck.default_destination, None, None),
    (duck.default_kreference, {"name": "cm"}, {"name": "cm", "namespace": "ns"}),
    (duck.default_kreference, {"name": "cm", "namespace": ""}, {"name": "cm", "namespace": "ns"}),
    (duck.default_delivery, {"deadLetterSink": {"ref": {"name": "d"}}},
     {"deadLetterSink": {"ref": {"name": "d", "namespace": "ns"}}}),
    (duck.default_delivery, {"retry": 1}, {"retry": 1}),
    (duck.default_delivery, "junk", "junk"),
])
def test_ref_namespace_defaults_to_the_parent(function: Any, given: Any, expected: Any) -> None:
    function(given, "ns")
    assert given == expected
