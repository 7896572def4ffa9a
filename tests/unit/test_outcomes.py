"""Tables for channels.outcomes: what follows one delivery attempt (Knative's data-plane table)."""

from __future__ import annotations

import base64

import pytest

from channels import outcomes
from channels.policies import DeliveryPolicy
from channels.sending import Response
from ripple import cloudevents as ce

RETRY2 = DeliveryPolicy(retry=2, backoff_policy="exponential", backoff_delay=1.0)
RETRY2_DLS = DeliveryPolicy(retry=2, backoff_policy="exponential", backoff_delay=1.0,
                            dead_letter_uri="http://dls")
REPLY_HEADERS = {"ce-specversion": "1.0", "ce-id": "r1", "ce-source": "/s", "ce-type": "t.reply",
                 "content-type": "text/plain"}


@pytest.mark.parametrize(
    "phase, retries_done, policy, response, action, delay",
    [
        ("subscriber", 0, RETRY2, Response(200), "ack", 0.0),
        ("subscriber", 0, RETRY2, Response(202, REPLY_HEADERS, b"x"), "ack", 0.0),  # 202 is never a reply
        ("subscriber", 0, RETRY2, Response(200, REPLY_HEADERS, b"x"), "reply", 0.0),
        ("subscriber", 0, RETRY2, Response(200, {}, b"ok"), "retry", 1.0),  # malformed reply: 502
        ("subscriber", 0, RETRY2, Response(204), "ack", 0.0),
        ("subscriber", 0, RETRY2, Response(503), "retry", 1.0),
        ("subscriber", 1, RETRY2, Response(None, error="refused"), "retry", 2.0),
        ("subscriber", 2, RETRY2, Response(503), "drop", 0.0),  # attempts exhausted, no DLS
        ("subscriber", 2, RETRY2_DLS, Response(503), "dead-letter", 0.0),
        ("subscriber", 0, RETRY2_DLS, Response(422), "dead-letter", 0.0),  # not retried
        ("subscriber", 0, RETRY2, Response(400), "drop", 0.0),
        ("subscriber", 0, RETRY2, Response(404), "retry", 1.0),
        ("subscriber", 0, RETRY2, Response(302), "drop", 0.0),
        # a Subscription's reply: its own retries, then the dead-letter sink; a 2xx body is no reply
        ("reply", 0, RETRY2, Response(200, REPLY_HEADERS, b"x"), "ack", 0.0),
        ("reply", 0, RETRY2, Response(200, {}, b"not an event"), "ack", 0.0),
        ("reply", 0, RETRY2_DLS, Response(503), "retry", 1.0),
        ("reply", 1, RETRY2_DLS, Response(None, error="refused"), "retry", 2.0),
        ("reply", 2, RETRY2_DLS, Response(503), "dead-letter", 0.0),
        ("reply", 0, RETRY2_DLS, Response(400), "dead-letter", 0.0),
        ("reply", 2, RETRY2, Response(503), "drop", 0.0),
        ("dead-letter", 0, RETRY2_DLS, Response(200, REPLY_HEADERS, b"x"), "ack", 0.0),  # DLS replies ignored
        ("dead-letter", 0, RETRY2_DLS, Response(500), "retry", 1.0),
        ("dead-letter", 2, RETRY2_DLS, Response(500), "drop", 0.0),
    ],
)
def test_decide(phase, retries_done, policy, response, action, delay) -> None:
    outcome = outcomes.decide(phase, retries_done, policy, response, now=0.0)
    assert (outcome.action, outcome.delay) == (action, delay)
    if action == "reply":
        assert outcome.reply is not None and outcome.reply.type == "t.reply"


def test_malformed_reply_is_reported_as_502() -> None:
    outcome = outcomes.decide("subscriber", 2, RETRY2_DLS, Response(200, {}, b"ok"), now=0.0)
    assert (outcome.action, outcome.code) == ("dead-letter", 502)


EVENT = ce.CloudEvent({"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, b"payload")


@pytest.mark.parametrize(
    "code, body, expected",
    [
        (422, b'{ "message": "catastrophic failure" }',
         {"knativeerrordest": "http://sub", "knativeerrorcode": "422",
          "knativeerrordata": base64.b64encode(b'{ "message": "catastrophic failure" }').decode()}),
        (None, b"", {"knativeerrordest": "http://sub", "knativeerrorcode": "500"}),
        (500, b"x" * 2000, {"knativeerrordest": "http://sub", "knativeerrorcode": "500",
                            "knativeerrordata": base64.b64encode(b"x" * 2000).decode()[:1024]}),
    ],
)
def test_error_attributes(code, body, expected) -> None:
    dead = outcomes.with_error_attributes(EVENT, "http://sub", code, body)
    extra = {k: v for k, v in dead.attributes.items() if k.startswith("knativeerror")}
    assert extra == expected
    assert dead.data == EVENT.data and "knativeerrordest" not in EVENT.attributes


def test_error_attributes_keep_existing_ones() -> None:
    first = outcomes.with_error_attributes(EVENT, "http://a", 500, b"")
    again = outcomes.with_error_attributes(first, "http://b", 404, b"")
    assert again.attributes["knativeerrordest"] == "http://a"


@pytest.mark.parametrize(
    "response, expected",
    [
        (Response(422, {}, b"nope"), b"nope"),
        (Response(500), b""),
        # no response: what the Go dispatcher's executeRequest records
        (Response(None, error="timed out after 30s"), b"dispatch error: timed out after 30s"),
        (Response(None, error="ClientConnectorError: Cannot connect to host h:80"),
         b"dispatch error: ClientConnectorError: Cannot connect to host h:80"),
        (Response(None, error="InvalidURL: http://user:secret@h/x"), b"dispatch error: InvalidURL: http://h/x"),
        (Response(None), b"dispatch error: no response"),
    ],
)
def test_error_body(response: Response, expected: bytes) -> None:
    assert outcomes.error_body(response) == expected


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://sub.default.svc/x?y=1", "http://sub.default.svc/x?y=1"),
        ("https://h", "https://h"),
        ("http://user:secret@h:8080/p", "http://h:8080/p"),  # Ripple's addition: no credentials
        ("https://token@h/p", "https://h/p"),
        ("h.example:8080", "http://h.example:8080/"),  # host-only: upstream's sanitizeURL
        ("h.example/some/path", "http://h.example/"),
    ],
)
def test_sanitize_destination(url: str, expected: str) -> None:
    assert outcomes.sanitize_destination(url) == expected


def test_unreachable_subscriber_error_attributes() -> None:
    response = Response(None, error="ClientConnectorError: Cannot connect to host sub:80")
    dead = outcomes.with_error_attributes(EVENT, "http://u:p@sub/", response.status,
                                          outcomes.error_body(response))
    assert dead.attributes["knativeerrordest"] == "http://sub/"
    assert dead.attributes["knativeerrorcode"] == "500"
    assert base64.b64decode(dead.attributes["knativeerrordata"]) == (
        b"dispatch error: ClientConnectorError: Cannot connect to host sub:80")
