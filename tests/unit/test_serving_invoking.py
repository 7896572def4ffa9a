"""serving.invoking: a request into the handler's argument, its return into an answer."""

from __future__ import annotations

import json

import pytest
from cloudevents.v1.http import CloudEvent

from serving import functions, invoking, wire

EVENT = functions.make_function("event", lambda e: e)
HTTP = functions.make_function("web", functions.http(lambda r: r))
BINARY = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t",
          "content-type": "application/json"}


def message(headers: dict[str, str], body: bytes = b"", target: str = "/") -> wire.Message:
    return wire.Message("POST", target, "HTTP/1.1", headers, body)


@pytest.mark.parametrize("headers, body, attributes, data", [
    (BINARY, b'{"a": 1}', {"id": "1", "type": "t", "source": "/s"}, {"a": 1}),
    ({**BINARY, "ce-myext": "v", "content-type": "text/plain"}, b"hi",
     {"myext": "v", "datacontenttype": "text/plain"}, b"hi"),
    ({"content-type": "application/cloudevents+json"},
     json.dumps({"specversion": "1.0", "id": "2", "source": "/s", "type": "t2",
                 "data": {"b": 2}}).encode(), {"id": "2", "type": "t2"}, {"b": 2}),
])
def test_event_argument(headers, body, attributes, data) -> None:
    event = invoking.argument_of(EVENT, message(headers, body))
    assert isinstance(event, CloudEvent)
    assert {k: event[k] for k in attributes} == attributes
    assert event.data == data


@pytest.mark.parametrize("headers, body", [
    ({"content-type": "application/json"}, b"{}"),                     # no ce- headers
    ({"ce-specversion": "1.0", "ce-id": "1"}, b""),                    # type and source missing
    ({"content-type": "application/cloudevents+json"}, b"not json"),
])
def test_not_an_event_is_400(headers, body) -> None:
    with pytest.raises(wire.BadRequest) as refused:
        invoking.argument_of(EVENT, message(headers, body))
    assert refused.value.status == 400
    assert str(refused.value).startswith("not a CloudEvent")


def test_http_argument() -> None:
    request = invoking.argument_of(HTTP, message({"x-a": "1"}, b'{"k": 1}', "/p/q?x=1&y="))
    assert isinstance(request, functions.Request)
    assert (request.method, request.path, request.query, request.headers) == (
        "POST", "/p/q", {"x": "1", "y": ""}, {"x-a": "1"})
    assert request.json() == {"k": 1} and request.text == '{"k": 1}'


@pytest.mark.parametrize("result, is_http, status, headers, body", [
    (None, False, 202, {}, b""),
    (None, True, 204, {}, b""),
    ({"a": 1}, False, 200, {"content-type": "application/json"}, b'{"a": 1}'),
    ([1, 2], True, 200, {"content-type": "application/json"}, b"[1, 2]"),
    (b"\x00raw", False, 200, {"content-type": "application/octet-stream"}, b"\x00raw"),
    (bytearray(b"ba"), True, 200, {"content-type": "application/octet-stream"}, b"ba"),
    ("caf\u00e9", True, 200, {"content-type": "text/plain; charset=utf-8"}, "caf\u00e9".encode()),
    (functions.Response("x", status=418, headers={"x-a": "b"}), True, 418,
     {"content-type": "text/plain; charset=utf-8", "x-a": "b"}, b"x"),
    (functions.Response(status=201), True, 201, {}, b""),
])
def test_answers(result, is_http, status, headers, body) -> None:
    assert invoking.answer_of(result, is_http=is_http) == (status, headers, body)


@pytest.mark.parametrize("attributes, data, content_type, body", [
    ({}, {"got": 1}, "application/json", b'{"got": 1}'),
    ({"datacontenttype": "text/plain"}, "caf\u00e9", "text/plain", "caf\u00e9".encode()),
    ({"datacontenttype": "application/octet-stream"}, b"\x00", "application/octet-stream", b"\x00"),
    ({}, None, None, b""),
])
def test_a_cloudevent_goes_back_in_binary_mode(attributes, data, content_type, body) -> None:
    event = CloudEvent({"type": "r", "source": "/f", "id": "9", "subject": "a b%\u00e9",
                        **attributes}, data)
    status, headers, sent = invoking.answer_of(event, is_http=False)
    assert status == 200 and sent == body
    assert headers.get("content-type") == content_type
    assert (headers["ce-type"], headers["ce-source"], headers["ce-id"]) == ("r", "/f", "9")
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-subject"] == "a%20b%25%C3%A9"    # the HTTP binding's percent-encoding


def test_an_unanswerable_return_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not int"):
        invoking.answer_of(42, is_http=False)


def test_error_answers_are_short_json() -> None:
    assert invoking.error_answer(504, "late") == (
        504, {"content-type": "application/json"}, b'{"error": "late"}')
