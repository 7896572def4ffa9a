"""The structural schema of status (`ripple.api.statuses`): what a /status write may hold.

Found by the R4 fuzz check: a Subscription's `status.physicalSubscription` written as a
number stopped the channel data plane's sync for every channel.
"""

from __future__ import annotations

from typing import Any

import pytest

from ripple.api import statuses

READY = {"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}
REF = {"apiVersion": "messaging.knative.dev/v1", "kind": "InMemoryChannel", "name": "c",
       "namespace": "ns"}

CONFORMING: list[Any] = [
    None,
    {},
    {"conditions": [READY], "observedGeneration": 2, "annotations": {"a": "b"},
     "address": {"name": "http", "url": "http://x"}, "deadLetterSinkUri": "http://dl"},
    {"physicalSubscription": {"subscriberUri": "http://s", "replyUri": "http://r"}},
    {"subscribers": [{"uid": "u", "observedGeneration": 1, "ready": "True"}], "channel": REF},
    {"sinkUri": "http://s", "ceAttributes": [{"type": "t", "source": "s"}], "webhookUrl": "u"},
    {"ingressChannelStatus": {"channel": REF, "ready": READY},
     "branchStatuses": [{"filterChannelStatus": {"channel": REF, "ready": READY},
                         "subscriberSubscriptionStatus": {"subscription": REF, "ready": READY}}]},
    {"anythingElse": [1, {"x": None}], "address": None},  # unknown fields pass; null is unset
    # serving: a Service's, a Revision's
    {"url": "http://hello.default.example.com", "latestReadyRevisionName": "hello-00002",
     "latestCreatedRevisionName": "hello-00002",
     "traffic": [{"revisionName": "hello-00001", "percent": 20, "latestRevision": False},
                 {"revisionName": "hello-00002", "percent": 80, "latestRevision": True,
                  "tag": "next", "url": "http://next-hello.default.example.com"}]},
    {"actualReplicas": 2, "desiredReplicas": 3, "logUrl": "", "imageDigest": "sha256:ab",
     "containerStatuses": [{"name": "user-container", "imageDigest": "sha256:ab"}]},
]


@pytest.mark.parametrize("status", CONFORMING)
def test_what_reconcilers_write_conforms(status: Any) -> None:
    assert statuses.validate(status) == []


BROKEN = [
    (3, "status", "must be a mapping, got an integer"),
    ({"physicalSubscription": 5}, "status.physicalSubscription",
     "must be a mapping, got an integer"),
    ({"physicalSubscription": {"replyUri": []}}, "status.physicalSubscription.replyUri",
     "must be a string, got a list"),
    ({"address": {"url": 1}}, "status.address.url", "must be a string, got an integer"),
    ({"conditions": "Ready"}, "status.conditions", "must be a list, got a string"),
    ({"conditions": [READY, 7]}, "status.conditions[1]", "must be a mapping, got an integer"),
    ({"observedGeneration": True}, "status.observedGeneration",
     "must be an integer, got a boolean"),
    ({"annotations": {"k": 1}}, "status.annotations[k]", "must be a string, got an integer"),
    ({"subscribers": [{"uid": 5}]}, "status.subscribers[0].uid",
     "must be a string, got an integer"),
    ({"branchStatuses": [{"filterChannelStatus": {"ready": []}}]},
     "status.branchStatuses[0].filterChannelStatus.ready", "must be a mapping, got a list"),
    ({"traffic": [{"percent": "50"}]}, "status.traffic[0].percent",
     "must be an integer, got a string"),
    ({"traffic": [{"latestRevision": "true"}]}, "status.traffic[0].latestRevision",
     "must be a boolean (true or false), got a string"),
    ({"actualReplicas": 1.5}, "status.actualReplicas", "must be an integer, got a number"),
    ({"url": ["http://x"]}, "status.url", "must be a string, got a list"),
]


@pytest.mark.parametrize(("status", "path", "message"), BROKEN)
def test_a_field_of_the_wrong_type_is_named(status: Any, path: str, message: str) -> None:
    assert [(e.path, e.message) for e in statuses.validate(status)] == [(path, message)]
