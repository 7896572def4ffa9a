"""The webhook receiver (sources/webhooks/receiver.py) as an ASGI app on a real Valkey:
its answers, in the order the receiver checks them, and what reaches the source's queue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ripple import cloudevents as ce
from ripple import keys
from ripple.settings import IngressSettings
from sources.publishing import Publisher
from sources.webhooks import signatures
from sources.webhooks.receiver import Hook, WebhookReceiver

pytestmark = pytest.mark.integration

STREAM = keys.source_queue("GitHubSource", "ns", "repo")
BODY = b'{"zen": "hi", "hook_id": 7, "repository": {"full_name": "o/r"}, "sender": {"login": "me"}}'


def hook(**changes: Any) -> Hook:
    fields: dict[str, Any] = dict(kind="GitHubSource", namespace="ns", name="repo", origin="o/r",
                                  event_types=frozenset({"push", "issues"}), secret=b"s3cret",
                                  stream=STREAM, extensions={"team": "a"})
    return Hook(**{**fields, **changes})


async def call(app: WebhookReceiver, path: str, body: bytes, headers: dict[str, str],
               method: str = "POST") -> tuple[int, dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path,
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"] or b"{}")


def github_headers(event: str, delivery: str, body: bytes = BODY, secret: bytes = b"s3cret") -> dict[str, str]:
    return {"x-github-event": event, "x-github-delivery": delivery, "content-type": "application/json",
            "x-hub-signature-256": signatures.sign_github(secret, body)}


@pytest.fixture
def receiver(redis_client) -> WebhookReceiver:
    sources = {("GitHubSource", "ns", "repo"): hook(),
               ("GitHubSource", "ns", "nosecret"): hook(name="nosecret", secret=None)}
    return WebhookReceiver(lambda kind, ns, name: sources.get((kind, ns, name)), Publisher(redis_client),
                           IngressSettings(max_event_bytes=1024))


CASES = [
    ("GET", "/webhooks/github/ns/repo", BODY, github_headers("issues", "d"), 405, "POST"),
    ("POST", "/webhooks/github/ns/other", BODY, github_headers("issues", "d"), 404, "GitHubSource ns/other"),
    ("POST", "/webhooks/bitbucket/ns/repo", BODY, {}, 404, "github|gitlab"),
    ("POST", "/webhooks/github/ns/repo", b"x" * 2000, github_headers("issues", "d"), 413, "limit"),
    ("POST", "/webhooks/github/ns/nosecret", BODY, github_headers("issues", "d"), 503, "secretToken"),
    ("POST", "/webhooks/github/ns/repo", BODY, github_headers("issues", "d", secret=b"x"), 401, "match"),
    ("POST", "/webhooks/github/ns/repo", BODY,
     {k: v for k, v in github_headers("issues", "d").items() if k != "x-hub-signature-256"}, 401,
     "X-Hub-Signature-256"),
    ("POST", "/webhooks/github/ns/repo", BODY, github_headers("ping", "d"), 200, "pong"),
    ("POST", "/webhooks/github/ns/repo", BODY, github_headers("release", "d"), 200, "not in spec.eventTypes"),
    ("POST", "/webhooks/github/ns/repo", b"[1]", github_headers("issues", "d", b"[1]"), 400, "JSON object"),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "status", "mentions"), CASES)
async def test_answers_and_nothing_published(redis_client, receiver, method, path, body, headers,
                                             status, mentions) -> None:
    got, answer = await call(receiver, path, body, headers, method)
    assert got == status, answer
    assert mentions in answer["message"]
    assert await redis_client.xlen(STREAM) == 0


async def test_a_delivery_is_published_once(redis_client, receiver) -> None:
    headers = github_headers("issues", "delivery-1")
    assert (await call(receiver, "/webhooks/github/ns/repo", BODY, headers))[0] == 202
    status, answer = await call(receiver, "/webhooks/github/ns/repo", BODY, headers)
    assert status == 200 and "published before" in answer["message"]
    (entry,) = await redis_client.xrange(STREAM)
    event = ce.from_record(entry[1])
    assert event.id == "delivery-1" and event.type == "dev.knative.source.github.issues"
    assert event.attributes["team"] == "a" and "time" in event.attributes
    assert event.data == BODY
    assert await redis_client.ttl(keys.webhook_delivery("GitHubSource", "ns", "repo", "delivery-1")) > 0
