"""Source reconciler tables: PingSource, GitHubSource, GitLabSource and KafkaSource, each
with the observed world (sinks, Secrets) and adapter reports in, the whole status out."""

from __future__ import annotations

from typing import Any

import pytest

from controllers.reconcilers import sources as reconciler
from tests.unit.reconciler_tables import (
    ABSENT,
    BASE,
    NS,
    Case,
    Object,
    broker_ref,
    check,
    check_idempotent,
    ready_broker,
)

SINK = {"uri": "http://sink.example/"}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gh", "namespace": NS},
          "data": {"token": "czNjcmV0"}}


def source(kind: str, api_version: str, spec: dict[str, Any], *, status: Object | None = None,
           annotations: dict[str, str] | None = None) -> Object:
    obj: Object = {"apiVersion": f"sources.knative.dev/{api_version}", "kind": kind,
                   "metadata": {"name": "src", "namespace": NS, "generation": 1,
                                "annotations": annotations or {}},
                   "spec": spec}
    if status is not None:
        obj["status"] = status
    return obj


def ping(sink: Object = SINK, **kw: Any) -> Object:
    return source("PingSource", "v1", {"schedule": "* * * * *", "sink": sink}, **kw)


def token(name: str = "gh", key: str = "token") -> Object:
    return {"secretKeyRef": {"name": name, "key": key}}


def github(sink: Object = SINK, secret: Object | None = None, **kw: Any) -> Object:
    spec = {"ownerAndRepository": "o/r", "eventTypes": ["push", "pull_request"],
            "secretToken": secret or token(), "sink": sink}
    if kw.get("annotations"):  # registering needs a token that may manage hooks
        spec["accessToken"] = token()
    return source("GitHubSource", "v1alpha1", spec, **kw)


def gitlab(sink: Object = SINK, secret: Object | None = None, **kw: Any) -> Object:
    return source("GitLabSource", "v1alpha1", {
        "projectUrl": "https://gitlab.example/g/p", "eventTypes": ["push_events", "merge_requests_events"],
        "secretToken": secret or token(), "sink": sink}, **kw)


def kafka(sink: Object = SINK, delivery: Object | None = None) -> Object:
    spec = {"bootstrapServers": ["k:9092"], "topics": ["a", "b"], "sink": sink}
    if delivery:
        spec["delivery"] = delivery
    return source("KafkaSource", "v1", spec)


NO_SINK = {"Ready": ("False", "NotFound"), "SinkProvided": ("False", "NotFound")}

PING_HAPPY = {"Ready": ("True", ""), "SinkProvided": ("True", ""), "Deployed": ("True", "")}
PING_FIELDS = {"sinkUri": "http://sink.example/", "observedGeneration": 1,
               "ceAttributes": [{"type": "dev.knative.sources.ping",
                                 "source": f"/apis/v1/namespaces/{NS}/pingsources/src"}]}
PING_CASES = [
    Case("sink by uri", ping()),
    Case("sink by Broker ref", ping(broker_ref("b")), [ready_broker("b")],
         fields={"sinkUri": f"{BASE}/{NS}/b"}),
    Case("sink Broker missing", ping(broker_ref("gone")), conditions=NO_SINK,
         messages={"SinkProvided": "Broker ns/gone"}, fields={"sinkUri": ABSENT}),
    Case("stale sinkUri cleared", ping(broker_ref("gone"), status={"sinkUri": "http://old/"}),
         conditions=NO_SINK, fields={"sinkUri": ABSENT}),
]


@pytest.mark.parametrize("case", PING_CASES, ids=str)
def test_ping_source(case: Case) -> None:
    check(reconciler.reconcile_ping_source, case, PING_HAPPY, PING_FIELDS)
    check_idempotent(reconciler.reconcile_ping_source, case)


GITHUB_HAPPY = {"Ready": ("True", ""), "SecretsProvided": ("True", ""), "SinkProvided": ("True", ""),
                "WebhookConfigured": ("True", "")}
GITHUB_FIELDS = {"sinkUri": "http://sink.example/", "webhookUrl": f"{BASE}/webhooks/github/{NS}/src",
                 "ceAttributes": [{"type": "dev.knative.source.github.push", "source": "https://github.com/o/r"},
                                  {"type": "dev.knative.source.github.pull_request",
                                   "source": "https://github.com/o/r"}]}
REGISTER = {"ripple.dev/register-webhook": "true"}
NO_SECRET = {"Ready": ("False", "SecretNotFound"), "SecretsProvided": ("False", "SecretNotFound")}
GITHUB_CASES = [
    Case("secret and sink: Ready, receiver URL published", github(), [SECRET]),
    Case("secret missing", github(), conditions=NO_SECRET, messages={"SecretsProvided": 'secret "ns/gh" not found'}),
    Case("secret key missing", github(secret=token(key="other")), [SECRET], conditions=NO_SECRET,
         messages={"SecretsProvided": 'no key "other"'}),
    Case("registration wanted, not done yet", github(annotations=REGISTER), [SECRET],
         conditions={"Ready": ("False", "WebhookNotRegistered"),
                     "WebhookConfigured": ("False", "WebhookNotRegistered")}),
    Case("registration done: the hook id is kept", github(annotations=REGISTER, status={"webhookIDKey": "42"}),
         [SECRET], fields={"webhookIDKey": "42"}),
    Case("public URL is the receiver's base", github(), [SECRET], base_url="https://mesh.example",
         fields={"webhookUrl": "https://mesh.example/webhooks/github/ns/src"}),
]


@pytest.mark.parametrize("case", GITHUB_CASES, ids=str)
def test_github_source(case: Case) -> None:
    check(reconciler.reconcile_github_source, case, GITHUB_HAPPY, GITHUB_FIELDS)
    check_idempotent(reconciler.reconcile_github_source, case)


def test_a_failed_registration_stays_failed_until_the_registrar_succeeds() -> None:
    failed = {"conditions": [{"type": "WebhookConfigured", "status": "False",
                              "reason": reconciler.REGISTRATION_FAILED, "message": "403 Forbidden",
                              "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
    case = Case("failed", github(annotations=REGISTER, status=failed), [SECRET],
                conditions={"Ready": ("False", "RegistrationFailed"),
                            "WebhookConfigured": ("False", "RegistrationFailed")},
                messages={"WebhookConfigured": "403"})
    check(reconciler.reconcile_github_source, case, GITHUB_HAPPY, GITHUB_FIELDS)


GITLAB_HAPPY = {"Ready": ("True", ""), "SinkProvided": ("True", ""), "Deployed": ("True", ""),
                "WebhookConfigured": ("True", "")}
GITLAB_FIELDS = {"webhookUrl": f"{BASE}/webhooks/gitlab/{NS}/src",
                 "ceAttributes": [{"type": "dev.knative.sources.gitlab.push", "source": "https://gitlab.example/g/p"},
                                  {"type": "dev.knative.sources.gitlab.merge_request",
                                   "source": "https://gitlab.example/g/p"}]}
GITLAB_CASES = [
    Case("secret and sink", gitlab(), [SECRET]),
    Case("secret missing: not deployed", gitlab(),
         conditions={"Ready": ("False", "SecretNotFound"), "Deployed": ("False", "SecretNotFound")}),
    Case("no sink", gitlab(broker_ref("gone")), [SECRET], conditions=NO_SINK),
    Case("registration done", gitlab(annotations=REGISTER, status={"webhookID": 7}), [SECRET],
         fields={"webhookID": 7}),
]


@pytest.mark.parametrize("case", GITLAB_CASES, ids=str)
def test_gitlab_source(case: Case) -> None:
    check(reconciler.reconcile_gitlab_source, case, GITLAB_HAPPY, GITLAB_FIELDS)
    check_idempotent(reconciler.reconcile_gitlab_source, case)


KEY = ("KafkaSource", NS, "src")
CONNECTED = {KEY: [{"connected": True, "offsetsCommitted": True}]}
KAFKA_HAPPY = {"Ready": ("True", ""), "SinkProvided": ("True", ""), "Deployed": ("True", ""),
               "ConnectionEstablished": ("True", ""), "InitialOffsetsCommitted": ("True", "")}
KAFKA_FIELDS = {"deadLetterSinkUri": ABSENT,
                "ceAttributes": [{"type": "dev.knative.kafka.event",
                                  "source": f"/apis/v1/namespaces/{NS}/kafkasources/src#a"},
                                 {"type": "dev.knative.kafka.event",
                                  "source": f"/apis/v1/namespaces/{NS}/kafkasources/src#b"}]}
WAITING = {"Ready": ("Unknown", "NoConsumerReport"), "ConnectionEstablished": ("Unknown", "NoConsumerReport"),
           "InitialOffsetsCommitted": ("Unknown", "NoConsumerReport")}
KAFKA_CASES = [
    Case("a connected consumer with offsets", kafka(), reports=CONNECTED),
    Case("no report yet", kafka(), conditions=WAITING),
    Case("every process failing to connect", kafka(),
         reports={KEY: [{"connected": False, "error": "KafkaConnectionError: refused"},
                        {"connected": False, "error": None}]},
         conditions={"Ready": ("False", "ConnectionFailed"), "ConnectionEstablished": ("False", "ConnectionFailed"),
                     "InitialOffsetsCommitted": ("Unknown", "NotConnected")},
         messages={"ConnectionEstablished": "refused"}),
    Case("one of two connected is enough", kafka(),
         reports={KEY: [{"connected": False, "error": "x"}, {"connected": True, "offsetsCommitted": True}]}),
    Case("connected, offsets not committed yet", kafka(),
         reports={KEY: [{"connected": True, "offsetsCommitted": False}]},
         conditions={"Ready": ("Unknown", "OffsetsNotCommitted"),
                     "InitialOffsetsCommitted": ("Unknown", "OffsetsNotCommitted")}),
    Case("dead-letter sink resolved", kafka(delivery={"deadLetterSink": {"uri": "http://dls/"}}),
         reports=CONNECTED, fields={"deadLetterSinkUri": "http://dls/"}),
    Case("dead-letter sink unresolved", kafka(delivery={"deadLetterSink": broker_ref("gone")}),
         reports=CONNECTED,
         conditions={"Ready": ("False", "DeadLetterSinkNotResolved"),
                     "Deployed": ("False", "DeadLetterSinkNotResolved")}),
]


@pytest.mark.parametrize("case", KAFKA_CASES, ids=str)
def test_kafka_source(case: Case) -> None:
    check(reconciler.reconcile_kafka_source, case, KAFKA_HAPPY, KAFKA_FIELDS)
    check_idempotent(reconciler.reconcile_kafka_source, case)
