"""Trigger reconciler table: a Trigger and the observed world in, its whole status out."""

from __future__ import annotations

import pytest

from controllers.reconcilers import trigger as reconciler
from tests.unit.reconciler_tables import (
    ABSENT,
    BASE,
    NS,
    PING,
    T1,
    Case,
    broker,
    broker_ref,
    check,
    check_idempotent,
    condition,
    dls,
    failed_broker,
    ksvc,
    ksvc_ref,
    ping_source,
    ready_broker,
    reconcile,
    ref,
    trigger,
    unknown_broker,
)

DLS_FAILED = "Unable to get the dead letter sink's URI"
SUB = "http://sub.example/"

HAPPY = {
    "Ready": ("True", ""),
    "BrokerReady": ("True", ""),
    "SubscriptionReady": ("True", ""),
    "DependencyReady": ("True", ""),
    "SubscriberResolved": ("True", ""),
    "DeadLetterSinkResolved": ("True", "DeadLetterSinkNotConfigured"),
}
FIELDS = {"subscriberUri": SUB, "deadLetterSinkUri": ABSENT, "observedGeneration": 1}


def failing(type_: str, state: str, reason: str) -> dict[str, tuple[str, str]]:
    return {"Ready": (state, reason), type_: (state, reason)}


BROKER_CASES = [
    Case("broker missing", trigger(), [],
         conditions=failing("BrokerReady", "False", "BrokerDoesNotExist"),
         messages={"BrokerReady": 'Broker "default" does not exist', "Ready": '"default"'}),
    Case("broker missing: another Broker does not count", trigger(broker="b1"), [ready_broker()],
         conditions=failing("BrokerReady", "False", "BrokerDoesNotExist"),
         messages={"BrokerReady": '"b1"'}),
    Case("broker missing: one of that name in another namespace does not count", trigger(),
         [ready_broker(namespace="elsewhere")],
         conditions=failing("BrokerReady", "False", "BrokerDoesNotExist")),
    Case("broker not Ready: its reason and message propagate", trigger(), [failed_broker()],
         conditions=failing("BrokerReady", "False", "IngressDown"),
         messages={"BrokerReady": "the ingress is down", "Ready": "the ingress is down"}),
    Case("broker not Ready because its own dead-letter sink fails", trigger(),
         [failed_broker(reason=DLS_FAILED, message="Broker ns/gone not found")],
         conditions=failing("BrokerReady", "False", DLS_FAILED),
         messages={"BrokerReady": "Broker ns/gone"}),
    Case("broker still reconciling: Ready Unknown propagates", trigger(), [unknown_broker()],
         conditions=failing("BrokerReady", "Unknown", "")),
    Case("broker never reconciled", trigger(), [broker()],
         conditions=failing("BrokerReady", "Unknown", "BrokerNotConfigured")),
    Case("broker Ready", trigger(), [ready_broker()]),
    Case("observedGeneration follows metadata.generation", trigger(generation=4), [ready_broker()],
         fields={"observedGeneration": 4}),
]

SUBSCRIBER_CASES = [
    Case("subscriber by uri", trigger(subscriber={"uri": "http://other.example/x"}),
         [ready_broker()], fields={"subscriberUri": "http://other.example/x"}),
    Case("subscriber by ref to a Broker: its status.address.url",
         trigger(subscriber=broker_ref("b2")), [ready_broker(), ready_broker("b2")],
         fields={"subscriberUri": f"{BASE}/{NS}/b2"}),
    Case("subscriber by ref to a Broker in another namespace",
         trigger(subscriber=broker_ref("b2", "team-a")), [ready_broker(), ready_broker("b2", "team-a")],
         fields={"subscriberUri": f"{BASE}/team-a/b2"}),
    Case("ref + absolute-path uri replaces the ref's path",
         trigger(subscriber=broker_ref("b2", uri="/update")), [ready_broker(), ready_broker("b2")],
         fields={"subscriberUri": f"{BASE}/update"}),
    Case("ref + relative uri replaces the last segment (url.ResolveReference)",
         trigger(subscriber=broker_ref("b2", uri="extra/path")), [ready_broker(), ready_broker("b2")],
         fields={"subscriberUri": f"{BASE}/{NS}/extra/path"}),
    Case("ref + query-only uri keeps the ref's path",
         trigger(subscriber=broker_ref("b2", uri="?x=1")), [ready_broker(), ready_broker("b2")],
         fields={"subscriberUri": f"{BASE}/{NS}/b2?x=1"}),
    Case("subscriber ref not found", trigger(subscriber=broker_ref("gone")), [ready_broker()],
         conditions=failing("SubscriberResolved", "False", "NotFound"),
         messages={"SubscriberResolved": "Broker ns/gone", "Ready": "not found"},
         fields={"subscriberUri": ABSENT}),
    Case("subscriber ref found but not addressable yet", trigger(subscriber=broker_ref("b2")),
         [ready_broker(), broker("b2")],
         conditions=failing("SubscriberResolved", "False", "NotAddressable"),
         messages={"SubscriberResolved": "Broker ns/b2"}, fields={"subscriberUri": ABSENT}),
    Case("subscriber ref to a Knative Service that does not exist",
         trigger(subscriber=ksvc_ref("display")),
         [ready_broker()], conditions=failing("SubscriberResolved", "False", "NotFound"),
         messages={"SubscriberResolved": "Service ns/display (serving.knative.dev/v1) not found"},
         fields={"subscriberUri": ABSENT}),
    Case("subscriber ref to a Knative Service resolves through status.address.url",
         trigger(subscriber=ksvc_ref("display")),
         [ready_broker(), ksvc("display")], fields={"subscriberUri": f"{BASE}/serving/{NS}/display"}),
    Case("subscriber ref to a core v1 Service with no Knative Service of its name",
         trigger(subscriber={"ref": ref("Service", "svc", "v1")}), [ready_broker()],
         conditions=failing("SubscriberResolved", "False", "NotFound"),
         messages={"SubscriberResolved": "Service ns/svc (v1) not found"},
         fields={"subscriberUri": ABSENT}),
    Case("subscriber ref to a kind Ripple does not serve",
         trigger(subscriber={"ref": ref("KafkaSink", "k", "eventing.knative.dev/v1alpha1")}),
         [ready_broker()], conditions=failing("SubscriberResolved", "False", "KindNotServed"),
         messages={"SubscriberResolved": "KafkaSink ns/k"}, fields={"subscriberUri": ABSENT}),
    Case("a stale subscriberUri is cleared when the ref no longer resolves",
         trigger(subscriber=broker_ref("gone"), status={"subscriberUri": "http://stale/"}),
         [ready_broker()], conditions=failing("SubscriberResolved", "False", "NotFound"),
         fields={"subscriberUri": ABSENT}),
    Case("subscriber is resolved even while the Broker is missing",
         trigger(subscriber=broker_ref("b2")), [ready_broker("b2")],
         conditions=failing("BrokerReady", "False", "BrokerDoesNotExist"),
         fields={"subscriberUri": f"{BASE}/{NS}/b2"}),
]

DEAD_LETTER_CASES = [
    Case("no dead-letter sink anywhere", trigger(delivery={"retry": 2}), [ready_broker()]),
    Case("own dead-letter sink by uri", trigger(delivery=dls({"uri": "http://tdls/"})),
         [ready_broker()], conditions={"DeadLetterSinkResolved": ("True", "")},
         fields={"deadLetterSinkUri": "http://tdls/"}),
    Case("own dead-letter sink wins over the Broker's", trigger(delivery=dls({"uri": "http://tdls/"})),
         [ready_broker(dls_uri="http://bdls/")], conditions={"DeadLetterSinkResolved": ("True", "")},
         fields={"deadLetterSinkUri": "http://tdls/"}),
    Case("own dead-letter sink by ref to a Broker", trigger(delivery=dls(broker_ref("dlq"))),
         [ready_broker(dls_uri="http://bdls/"), ready_broker("dlq")],
         conditions={"DeadLetterSinkResolved": ("True", "")},
         fields={"deadLetterSinkUri": f"{BASE}/{NS}/dlq"}),
    Case("inherited from the Broker's status.deadLetterSinkUri", trigger(),
         [ready_broker(dls_uri="http://bdls/")], conditions={"DeadLetterSinkResolved": ("True", "")},
         fields={"deadLetterSinkUri": "http://bdls/"}),
    Case("inherited even when the Trigger has its own delivery without a sink",
         trigger(delivery={"retry": 1, "backoffPolicy": "linear", "backoffDelay": "PT1S"}),
         [ready_broker(dls_uri="http://bdls/")], conditions={"DeadLetterSinkResolved": ("True", "")},
         fields={"deadLetterSinkUri": "http://bdls/"}),
    Case("own dead-letter sink ref not found (the Broker's is not used instead)",
         trigger(delivery=dls(broker_ref("gone"))), [ready_broker(dls_uri="http://bdls/")],
         conditions=failing("DeadLetterSinkResolved", "False", DLS_FAILED),
         messages={"DeadLetterSinkResolved": "Broker ns/gone", "Ready": "not found"}),
    Case("own dead-letter sink of a kind Ripple does not serve",
         trigger(delivery=dls(ksvc_ref("dead"))), [ready_broker()],
         conditions=failing("DeadLetterSinkResolved", "False", DLS_FAILED),
         messages={"DeadLetterSinkResolved": "Service ns/dead (serving.knative.dev/v1)"}),
    Case("Broker configures a sink it has not resolved: not 'not configured'",
         trigger(), [broker(delivery=dls(broker_ref("gone")), status={})],
         conditions={"Ready": ("False", DLS_FAILED), "BrokerReady": ("Unknown", "BrokerNotConfigured"),
                     "DeadLetterSinkResolved": ("False", DLS_FAILED)},
         messages={"DeadLetterSinkResolved": 'Broker "default"'}),
    Case("a stale deadLetterSinkUri is cleared when no sink is configured",
         trigger(status={"deadLetterSinkUri": "http://old/"}), [ready_broker()]),
]

DEPENDENCY_CASES = [
    Case("dependency missing", trigger(dependency=PING), [ready_broker()],
         conditions=failing("DependencyReady", "False", "DependencyDoesNotExist"),
         messages={"DependencyReady": 'PingSource "ping"', "Ready": "does not exist"}),
    Case("dependency of that name in another namespace does not count", trigger(dependency=PING),
         [ready_broker(), ping_source(namespace="elsewhere")],
         conditions=failing("DependencyReady", "False", "DependencyDoesNotExist")),
    Case("dependency in the namespace its annotation names", trigger(dependency={**PING, "namespace": "src"}),
         [ready_broker(), ping_source(namespace="src")]),
    Case("dependency not Ready: its reason and message propagate", trigger(dependency=PING),
         [ready_broker(), ping_source("False", reason="SinkNotFound", message="sink svc is gone")],
         conditions=failing("DependencyReady", "False", "SinkNotFound"),
         messages={"DependencyReady": "sink svc is gone"}),
    Case("dependency Ready Unknown", trigger(dependency=PING),
         [ready_broker(), ping_source("Unknown", reason="Deploying")],
         conditions=failing("DependencyReady", "Unknown", "Deploying")),
    Case("dependency without a Ready condition", trigger(dependency=PING),
         [ready_broker(), ping_source(None)],
         conditions=failing("DependencyReady", "Unknown", "DependencyNotConfigured")),
    Case("dependency's status is for an older generation", trigger(dependency=PING),
         [ready_broker(), ping_source(generation=3, observed_generation=2)],
         conditions=failing("DependencyReady", "Unknown", "GenerationNotEqual"),
         messages={"DependencyReady": 'PingSource "ping"'}),
    Case("dependency never reconciled", trigger(dependency=PING),
         [ready_broker(), ping_source(None, observed_generation=None)],
         conditions=failing("DependencyReady", "Unknown", "GenerationNotEqual")),
    Case("dependency Ready", trigger(dependency=PING), [ready_broker(), ping_source()]),
]

CASES = BROKER_CASES + SUBSCRIBER_CASES + DEAD_LETTER_CASES + DEPENDENCY_CASES


@pytest.mark.parametrize("case", CASES, ids=str)
def test_trigger(case: Case) -> None:
    check(reconciler.reconcile, case, HAPPY, FIELDS)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_reconciling_again_later_changes_nothing(case: Case) -> None:
    check_idempotent(reconciler.reconcile, case)


def test_the_broker_appearing_moves_only_the_conditions_that_changed() -> None:
    given = trigger()
    first = reconcile(reconciler.reconcile, Case("no broker", given))
    assert condition(first, "Ready")["reason"] == "BrokerDoesNotExist"
    later = reconcile(reconciler.reconcile, Case("broker", {**given, "status": first}, [ready_broker()]), T1)
    t0, t1 = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"
    assert {c["type"]: c["lastTransitionTime"] for c in later["conditions"]} == {
        "Ready": t1, "BrokerReady": t1,
        "DependencyReady": t0, "SubscriberResolved": t0, "DeadLetterSinkResolved": t0,
        "SubscriptionReady": t0,
    }
    assert condition(later, "Ready")["status"] == "True"
