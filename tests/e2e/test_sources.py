"""The sources end to end: `ripple up` as a process, real HTTP sinks, real Valkey.

- PingSource: one event per tick across two worker processes and across a SIGKILL;
- GitHubSource: a signed push through a Broker to a Trigger on the push type, the
  redelivery published once, a bad signature refused with nothing published;
- GitLabSource: the token check and Knative's type, source and extension;
- the CLI's `source` commands.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.support.mesh import Mesh
from tests.support.sinks import Answer, RecordingSink
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

SOURCES = "/apis/sources.knative.dev"
PUSH = (b'{"ref": "refs/heads/main", "compare": "https://github.com/o/r/compare/abc123",'
        b' "repository": {"full_name": "o/r"}, "pusher": {"name": "me"}, "sender": {"login": "me"}}')


@pytest.fixture(scope="module")
def mesh2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    m = Mesh(tmp_path_factory.mktemp("mesh2"), workers=2).start()
    try:
        yield m
    finally:
        m.stop()


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def test_ping_fires_once_per_tick_across_workers_and_a_kill(mesh2: Mesh, tmp_path: Path) -> None:
    with RecordingSink() as sink:
        mesh2.cli("source", "ping", "create", "every-second", "--schedule", "* * * * * *",
                  "--data", '{"hello": "ping"}', "--sink", sink.url, "--ce-override", "team=a")
        mesh2.wait_ready(f"{SOURCES}/v1/namespaces/default/pingsources/every-second")
        sink.wait_for(4, timeout=15)
        mesh2.kill()
        mesh2.start()
        count = len(sink.received)
        got = sink.wait_for(count + 3, timeout=15)
        mesh2.cli("delete", "pingsource", "every-second")
    # A tick fires once: one event id per tick. The same event may arrive twice, since
    # delivery is at least once and the kill can land between the sink's answer and the ack.
    ids_by_tick: dict[str, set[str]] = {}
    for r in got:
        ids_by_tick.setdefault(r.ce["time"], set()).add(r.ce["id"])
    fired_twice = {tick: ids for tick, ids in ids_by_tick.items() if len(ids) > 1}
    assert not fired_twice, f"a tick fired twice: {fired_twice}"
    assert len(got) - len(ids_by_tick) <= 1, "only the delivery the kill cut short may repeat"
    first = got[0]
    assert first.ce["type"] == "dev.knative.sources.ping"
    assert first.ce["source"] == "/apis/v1/namespaces/default/pingsources/every-second"
    assert first.ce["team"] == "a" and first.body == b'{"hello": "ping"}'
    assert first.headers["kn-namespace"] == "default"


GITHUB_SETUP = """
apiVersion: v1
kind: Secret
metadata: {{name: gh, namespace: default}}
stringData: {{token: s3cret}}
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {{name: ci, namespace: default}}
---
apiVersion: sources.knative.dev/v1alpha1
kind: GitHubSource
metadata: {{name: repo, namespace: default}}
spec:
  ownerAndRepository: o/r
  eventTypes: [push]
  secretToken: {{secretKeyRef: {{name: gh, key: token}}}}
  sink: {{ref: {{apiVersion: eventing.knative.dev/v1, kind: Broker, name: ci}}}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: on-push, namespace: default}}
spec:
  broker: ci
  filter: {{attributes: {{type: dev.knative.source.github.push}}}}
  subscriber: {{uri: "{sink}"}}
"""


def test_github_push_through_a_broker_once(mesh: Mesh) -> None:
    with RecordingSink() as sink:
        mesh.apply(GITHUB_SETUP.format(sink=sink.url))
        source = mesh.wait_ready(f"{SOURCES}/v1alpha1/namespaces/default/githubsources/repo")
        mesh.wait_ready("/apis/eventing.knative.dev/v1/namespaces/default/triggers/on-push")
        url = source["status"]["webhookUrl"]
        assert url == f"{mesh.url}/webhooks/github/default/repo"
        path = url[len(mesh.url):]
        headers = {"content-type": "application/json", "x-github-event": "push",
                   "x-github-delivery": "d-1", "x-hub-signature-256": sign(b"s3cret", PUSH)}
        bad = dict(headers, **{"x-hub-signature-256": sign(b"wrong", PUSH)})
        status, _, body = mesh.post(path, PUSH, bad)
        assert status == 401 and b"signature" in body.lower()
        assert mesh.post(path, PUSH, headers)[0] == 202
        assert mesh.post(path, PUSH, headers)[0] == 200  # GitHub's redelivery: published once
        ping = dict(headers, **{"x-github-event": "ping", "x-github-delivery": "d-2"})
        assert mesh.post(path, b'{"zen": "hi", "hook_id": 1}',
                         dict(ping, **{"x-hub-signature-256": sign(b"s3cret", b'{"zen": "hi", "hook_id": 1}')}))[0] == 200
        # answered: what the receiver published is counted before it answers 202
        assert mesh.sample("kn_eventing_source_events_total", kn_source_kind="GitHubSource",
                           kn_source_name="repo") == 1
        [got] = sink.wait_for(1)
    assert got.ce["type"] == "dev.knative.source.github.push"
    assert got.ce["source"] == "https://github.com/o/r" and got.ce["id"] == "d-1"
    assert got.ce["subject"] == "abc123"
    assert json.loads(got.body)["ref"] == "refs/heads/main"


def test_gitlab_token_and_knative_attributes(mesh: Mesh) -> None:
    with RecordingSink() as sink:
        mesh.apply(f"""
apiVersion: v1
kind: Secret
metadata: {{name: gl, namespace: default}}
stringData: {{token: t0ken}}
---
apiVersion: sources.knative.dev/v1alpha1
kind: GitLabSource
metadata: {{name: project, namespace: default}}
spec:
  projectUrl: https://gitlab.example/group/project
  eventTypes: [push_events]
  secretToken: {{secretKeyRef: {{name: gl, key: token}}}}
  sink: {{uri: "{sink.url}"}}
""")
        source = mesh.wait_ready(f"{SOURCES}/v1alpha1/namespaces/default/gitlabsources/project")
        path = source["status"]["webhookUrl"][len(mesh.url):]
        body = b'{"object_kind": "push", "ref": "refs/heads/main"}'
        headers = {"content-type": "application/json", "x-gitlab-event": "Push Hook",
                   "x-gitlab-event-uuid": "u-1"}
        assert mesh.post(path, body, dict(headers, **{"x-gitlab-token": "nope"}))[0] == 401
        assert mesh.post(path, body, dict(headers, **{"x-gitlab-token": "t0ken"}))[0] == 202
        issue = dict(headers, **{"x-gitlab-event": "Issue Hook", "x-gitlab-token": "t0ken"})
        assert mesh.post(path, body, issue)[0] == 200  # not in eventTypes: not published
        assert mesh.sample("kn_eventing_source_events_total", kn_source_kind="GitLabSource",
                           kn_source_name="project") == 1  # the issue hook was not published
        [got] = sink.wait_for(1)
    assert got.ce["type"] == "dev.knative.sources.gitlab.push"
    assert got.ce["source"] == "https://gitlab.example/group/project"
    assert unquote(got.ce["comgitlabevent"]) == "Push Hook" and got.ce["id"] == "u-1"


def test_source_commands(mesh: Mesh) -> None:
    mesh.cli("source", "ping", "create", "cli-ping", "--schedule", "0 0 1 1 *",
             "--data", "hi", "--sink", "http://127.0.0.1:9/")
    mesh.cli("source", "kafka", "create", "cli-kafka", "--servers", "127.0.0.1:1",
             "--topics", "a,b", "--sink", "http://127.0.0.1:9/")
    listed = mesh.cli("source", "list").stdout
    assert "cli-ping" in listed and "PingSource" in listed and "cli-kafka" in listed
    assert "0 0 1 1 *" in mesh.cli("source", "ping", "list").stdout
    described = json.loads(mesh.cli("source", "kafka", "describe", "cli-kafka", "-o", "json").stdout)
    assert described["spec"]["topics"] == ["a", "b"]
    assert "cli-ping" in mesh.cli("get", "pingsources").stdout
    mesh.cli("source", "ping", "delete", "cli-ping")
    mesh.cli("delete", "kafkasource", "cli-kafka")
    assert "cli-ping" not in mesh.cli("source", "list").stdout


REGISTERED = """
apiVersion: v1
kind: Secret
metadata: {{name: gh-reg, namespace: default}}
stringData: {{token: s3cret, access: ghp_t0k3n}}
---
apiVersion: sources.knative.dev/v1alpha1
kind: GitHubSource
metadata:
  name: {name}
  namespace: default
  annotations: {{ripple.dev/register-webhook: "true"}}
spec:
  ownerAndRepository: o/r
  eventTypes: [push, pull_request]
  githubAPIURL: "{api}"
  accessToken: {{secretKeyRef: {{name: gh-reg, key: access}}}}
  secretToken: {{secretKeyRef: {{name: gh-reg, key: token}}}}
  sink: {{uri: "http://127.0.0.1:9/"}}
"""


def test_github_webhook_is_registered_through_the_api(mesh: Mesh) -> None:
    hook = Answer(201, json.dumps({"id": 42}).encode(), {"content-type": "application/json"})
    with RecordingSink(lambda r, n: hook) as api:
        mesh.apply(REGISTERED.format(name="registered", api=api.url))
        source = mesh.wait_ready(f"{SOURCES}/v1alpha1/namespaces/default/githubsources/registered")
        request = api.wait_for(1)[0]
    assert source["status"]["webhookIDKey"] == "42"
    assert request.path == "/repos/o/r/hooks"
    assert request.headers["authorization"] == "Bearer ghp_t0k3n"
    body = json.loads(request.body)
    assert body["events"] == ["push", "pull_request"]
    assert body["config"]["url"] == source["status"]["webhookUrl"]
    assert body["config"]["secret"] == "s3cret"


def test_a_refused_registration_is_reported(mesh: Mesh) -> None:
    refused = Answer(403, b'{"message": "Resource not accessible by integration"}',
                     {"content-type": "application/json"})
    with RecordingSink(lambda r, n: refused) as api:
        mesh.apply(REGISTERED.format(name="refused", api=api.url))
        path = f"{SOURCES}/v1alpha1/namespaces/default/githubsources/refused"
        webhook: dict = {}

        def reported() -> bool:  # (not `refused`: the sink's lambda answers with that name)
            conditions = (mesh.get(path).get("status") or {}).get("conditions") or []
            webhook.update(next((c for c in conditions if c["type"] == "WebhookConfigured"), {}))
            return webhook.get("reason") == "RegistrationFailed"
        wait_until(reported, what="WebhookConfigured is RegistrationFailed")
    assert webhook["status"] == "False" and webhook["reason"] == "RegistrationFailed"
    assert "403" in webhook["message"] and "not accessible" in webhook["message"]
