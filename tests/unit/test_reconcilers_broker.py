"""Broker reconciler table: a Broker and the observed world in, its whole status out."""

from __future__ import annotations

import pytest

from controllers.reconcilers import broker as reconciler
from tests.unit.reconciler_tables import (
    ABSENT,
    BASE,
    NS,
    T1,
    Case,
    broker,
    broker_ref,
    check,
    check_idempotent,
    condition,
    dls,
    ksvc_ref,
    ref,
    ready_broker,
    reconcile,
)

DLS_FAILED = "Unable to get the dead letter sink's URI"
NOT_CONFIGURED = ("True", "DeadLetterSinkNotConfigured")

HAPPY = {
    "Ready": ("True", ""),
    "IngressReady": ("True", ""),
    "FilterReady": ("True", ""),
    "Addressable": ("True", ""),
    "DeadLetterSinkResolved": NOT_CONFIGURED,
}
FIELDS = {
    "address": {"name": "http", "url": f"{BASE}/{NS}/default"},
    "deadLetterSinkUri": ABSENT,
    "observedGeneration": 1,
}


def dls_failed(reason: str = DLS_FAILED) -> dict[str, tuple[str, str]]:
    return {"Ready": ("False", reason), "DeadLetterSinkResolved": ("False", reason)}


CASES = [
    Case("fresh broker is Ready at <base>/<ns>/<name>", broker()),
    Case("address follows namespace and name", broker("b2", "team-a"),
         fields={"address": {"name": "http", "url": f"{BASE}/team-a/b2"}}),
    Case("address name is the scheme of the base url", broker(), base_url="https://ripple.example",
         fields={"address": {"name": "https", "url": "https://ripple.example/ns/default"}}),
    Case("a namespace that is one of Ripple's own paths gets no address", broker("b", "console"),
         conditions={"Ready": ("False", "NamespaceShadowed"), "IngressReady": ("False", "NamespaceShadowed"),
                     "Addressable": ("Unknown", "NamespaceShadowed"), "FilterReady": ("Unknown", ""),
                     "DeadLetterSinkResolved": ("Unknown", "")},
         messages={"IngressReady": 'the namespace "console" is a path Ripple serves itself'},
         fields={"address": ABSENT}),
    Case("observedGeneration follows metadata.generation", broker(generation=7),
         fields={"observedGeneration": 7}),
    Case("delivery without a dead-letter sink", broker(delivery={"retry": 3})),
    Case("dead-letter sink by uri", broker(delivery=dls({"uri": "http://dls.example/"})),
         conditions={"DeadLetterSinkResolved": ("True", "")},
         fields={"deadLetterSinkUri": "http://dls.example/"}),
    Case("dead-letter sink by ref to an addressable Broker",
         broker(delivery=dls(broker_ref("dlq"))), [ready_broker("dlq")],
         conditions={"DeadLetterSinkResolved": ("True", "")},
         fields={"deadLetterSinkUri": f"{BASE}/{NS}/dlq"}),
    Case("dead-letter sink by ref to a Broker in another namespace",
         broker(delivery=dls(broker_ref("dlq", "ops"))), [ready_broker("dlq", "ops")],
         conditions={"DeadLetterSinkResolved": ("True", "")},
         fields={"deadLetterSinkUri": f"{BASE}/ops/dlq"}),
    Case("dead-letter sink by ref plus a relative uri",
         broker(delivery=dls(broker_ref("dlq", uri="/dead"))), [ready_broker("dlq")],
         conditions={"DeadLetterSinkResolved": ("True", "")},
         fields={"deadLetterSinkUri": f"{BASE}/dead"}),
    Case("dead-letter sink Broker not found", broker(delivery=dls(broker_ref("gone"))),
         conditions=dls_failed(),
         messages={"DeadLetterSinkResolved": "Broker ns/gone", "Ready": "not found"}),
    Case("dead-letter sink Broker found in another namespace only",
         broker(delivery=dls(broker_ref("dlq"))), [ready_broker("dlq", "ops")],
         conditions=dls_failed(), messages={"DeadLetterSinkResolved": "Broker ns/dlq"}),
    Case("dead-letter sink Broker without an address yet",
         broker(delivery=dls(broker_ref("dlq"))), [broker("dlq")],
         conditions=dls_failed(),
         messages={"DeadLetterSinkResolved": "Broker ns/dlq", "Ready": "has no address"}),
    Case("dead-letter sink of a kind Ripple does not serve (KafkaSink)",
         broker(delivery=dls({"ref": ref("KafkaSink", "display", "eventing.knative.dev/v1alpha1")})),
         conditions=dls_failed(),
         messages={"DeadLetterSinkResolved": "KafkaSink ns/display (eventing.knative.dev/v1alpha1)",
                   "Ready": "does not serve"}),
    Case("dead-letter sink Knative Service that does not exist",
         broker(delivery=dls(ksvc_ref("display"))),
         conditions=dls_failed(),
         messages={"DeadLetterSinkResolved": "Service ns/display (serving.knative.dev/v1) not found"}),
    Case("stale dead-letter sink uri is cleared when the ref fails",
         broker(delivery=dls(broker_ref("gone")), status={"deadLetterSinkUri": "http://old/"}),
         conditions=dls_failed(), messages={"Ready": "Broker ns/gone"}),
    Case("stale dead-letter sink uri is cleared when the sink is removed",
         broker(status={"deadLetterSinkUri": "http://old/"})),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_broker(case: Case) -> None:
    check(reconciler.reconcile, case, HAPPY, FIELDS)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_reconciling_again_later_changes_nothing(case: Case) -> None:
    check_idempotent(reconciler.reconcile, case)


def test_a_fixed_sink_moves_only_the_conditions_that_changed() -> None:
    given = broker(delivery=dls(broker_ref("dlq")))
    first = reconcile(reconciler.reconcile, Case("missing", given))
    assert condition(first, "Ready")["status"] == "False"
    fixed = Case("found", {**given, "status": first}, [ready_broker("dlq")])
    second = reconcile(reconciler.reconcile, fixed, T1)
    t0, t1 = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"
    assert {c["type"]: c["lastTransitionTime"] for c in second["conditions"]} == {
        "Ready": t1, "DeadLetterSinkResolved": t1,
        "IngressReady": t0, "FilterReady": t0, "Addressable": t0,
    }
    assert second["deadLetterSinkUri"] == f"{BASE}/{NS}/dlq"


def test_every_path_the_front_routes_elsewhere_is_a_shadowed_namespace() -> None:
    from controllers.platforms.local import routing

    assert routing.CONTROL_SEGMENTS <= reconciler.SHADOWED_NAMESPACES
    for path in ("/channels/", "/webhooks/", "/serving/"):
        assert path.strip("/") in reconciler.SHADOWED_NAMESPACES
