"""Builders and the table runner for the reconciler tests, in the style of Knative's
`pkg/reconciler/testing` (`NewBroker(name, ns, WithX...)`, `TableTest`).

A `Case` gives the resource under test and the observed world, and wants a status: every
condition by type as (status, reason), substrings its messages must hold, and the values
of the status fields the kind publishes. Used by `test_reconcilers_broker.py`,
`test_reconcilers_trigger.py`, `test_reconcilers_serving.py` and `test_resolving.py`.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from controllers.reconcilers import broker as broker_reconciler
from controllers.reconciling import Context, DataPlane, ObservedList, Reconcile, Result
from ripple.api import conditions
from ripple.api.eventing import broker_lifecycle

Object = dict[str, Any]

BASE = "http://127.0.0.1:8080"
NS = "ns"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(minutes=5)
EVENTING = "eventing.knative.dev/v1"
SERVING = "serving.knative.dev/v1"
ABSENT = object()
"""A wanted field value meaning "the status does not have this key"."""


# --- references and destinations -----------------------------------------------------------

def ref(kind: str, name: str, api_version: str = EVENTING, namespace: str | None = None) -> Object:
    found = {"apiVersion": api_version, "kind": kind, "name": name}
    if namespace is not None:
        found["namespace"] = namespace
    return found


def broker_ref(name: str, namespace: str | None = None, *, uri: str | None = None) -> Object:
    destination: Object = {"ref": ref("Broker", name, namespace=namespace)}
    if uri is not None:
        destination["uri"] = uri
    return destination


def ksvc_ref(name: str) -> Object:
    """A Destination naming a Knative Service."""
    return {"ref": ref("Service", name, SERVING)}


def ksvc(name: str, namespace: str = NS, *, ready: str = conditions.TRUE) -> Object:
    """A Knative Service as its reconciler leaves it once its Route is Ready: Knative's
    `status.url`, and Ripple's `status.address.url` under the base URL."""
    return {"apiVersion": SERVING, "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "generation": 1},
            "spec": {},
            "status": {"observedGeneration": 1,
                       "url": f"http://{name}.{namespace}.svc.cluster.local",
                       "address": {"name": "http", "url": f"{BASE}/serving/{namespace}/{name}"},
                       "conditions": [{"type": conditions.READY, "status": ready, "reason": "",
                                       "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}


def dls(destination: Object) -> Object:
    """A DeliverySpec holding only a dead-letter sink."""
    return {"deadLetterSink": destination}


# --- brokers ----------------------------------------------------------------------------------

def broker(name: str = "default", namespace: str = NS, *, generation: int = 1,
           status: Object | None = None, **spec: Any) -> Object:
    obj: Object = {"apiVersion": EVENTING, "kind": "Broker",
                   "metadata": {"name": name, "namespace": namespace, "generation": generation},
                   "spec": spec}
    if status is not None:
        obj["status"] = status
    return obj


def ready_broker(name: str = "default", namespace: str = NS, *, dls_uri: str | None = None,
                 **spec: Any) -> Object:
    """A Broker as its reconciler left it: Ready, addressable, its DLS (a uri) resolved."""
    if dls_uri is not None:
        spec["delivery"] = {**spec.get("delivery", {}), "deadLetterSink": {"uri": dls_uri}}
    obj = broker(name, namespace, **spec)
    obj["status"] = broker_reconciler.reconcile(obj, Context(ObservedList([]), T0, BASE)).status
    assert broker_lifecycle.is_ready(obj)
    return obj


def failed_broker(name: str = "default", reason: str = "IngressDown",
                  message: str = "the ingress is down", **spec: Any) -> Object:
    """A reconciled Broker whose ingress failed: Ready False with that reason."""
    obj = ready_broker(name, **spec)
    broker_lifecycle.mark_ingress_failed(obj["status"], reason, message, now=T0)
    return obj


def unknown_broker(name: str = "default") -> Object:
    """A Broker whose conditions were initialized but not settled: Ready Unknown."""
    status: Object = {}
    broker_lifecycle.initialize(status, now=T0)
    return broker(name, status=status)


# --- triggers ---------------------------------------------------------------------------------

def trigger(name: str = "t", *, broker: str = "default", subscriber: Object | None = None,
            delivery: Object | None = None, dependency: Object | None = None,
            generation: int = 1, status: Object | None = None) -> Object:
    spec: Object = {"broker": broker, "subscriber": subscriber or {"uri": "http://sub.example/"}}
    if delivery is not None:
        spec["delivery"] = delivery
    metadata: Object = {"name": name, "namespace": NS, "generation": generation}
    if dependency is not None:
        metadata["annotations"] = {"knative.dev/dependency": json.dumps(dependency)}
    obj: Object = {"apiVersion": EVENTING, "kind": "Trigger", "metadata": metadata, "spec": spec}
    if status is not None:
        obj["status"] = status
    return obj


PING = {"apiVersion": "sources.knative.dev/v1", "kind": "PingSource", "name": "ping"}


def ping_source(ready: str | None = conditions.TRUE, *, reason: str = "", message: str = "",
                generation: int = 1, observed_generation: int | None = 1,
                namespace: str = NS) -> Object:
    """A source a Trigger may depend on, with its Ready condition (None: no conditions)."""
    status: Object = {}
    if observed_generation is not None:
        status["observedGeneration"] = observed_generation
    if ready is not None:
        status["conditions"] = [{"type": conditions.READY, "status": ready, "reason": reason,
                                 "message": message, "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    return {"apiVersion": PING["apiVersion"], "kind": PING["kind"],
            "metadata": {"name": PING["name"], "namespace": namespace, "generation": generation},
            "spec": {}, "status": status}


# --- the table runner -------------------------------------------------------------------------

@dataclass
class Case:
    """One row: `given` reconciled against `world`; the status wanted back."""

    name: str
    given: Object
    world: list[Object] = field(default_factory=list)
    conditions: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Overrides of the kind's happy baseline, by condition type: (status, reason)."""
    messages: dict[str, str] = field(default_factory=dict)
    """Substrings a condition's message must hold, by type."""
    fields: dict[str, Any] = field(default_factory=dict)
    """Overrides of the kind's baseline status fields; ABSENT means the key is not set."""
    base_url: str = BASE
    reports: dict[tuple[str, str, str], list[Object]] = field(default_factory=dict)
    """What the data plane's adapters report (`Context.data_plane.reports`)."""
    synced: int | None = 2**63
    """The resourceVersion every data-plane process applied (None: no process reports)."""

    def __str__(self) -> str:
        return self.name


def condition_map(status: Object) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c.get("reason", "")) for c in status["conditions"]}


def condition(status: Object, type_: str) -> Object:
    return next(c for c in status["conditions"] if c["type"] == type_)


def result(fn: Reconcile, case: Case, now: dt.datetime = T0) -> Result:
    return fn(case.given, Context(ObservedList(case.world), now, case.base_url,
                                  DataPlane(case.synced, case.reports)))


def reconcile(fn: Reconcile, case: Case, now: dt.datetime = T0) -> Object:
    return result(fn, case, now).status


def check(fn: Reconcile, case: Case, baseline_conditions: dict[str, tuple[str, str]],
          baseline_fields: dict[str, Any]) -> Object:
    """Reconcile the case and compare the whole status shape with what it wants."""
    given = copy.deepcopy(case.given)
    status = reconcile(fn, case)
    assert case.given == given, "the reconciler changed its input"
    assert condition_map(status) == {**baseline_conditions, **case.conditions}, status["conditions"]
    for type_, fragment in case.messages.items():
        message = condition(status, type_).get("message", "")
        assert fragment in message, (type_, message)
    for key, wanted in {**baseline_fields, **case.fields}.items():
        if wanted is ABSENT:
            assert key not in status, (key, status.get(key))
        else:
            assert status.get(key) == wanted, (key, status.get(key))
    return status


def check_idempotent(fn: Reconcile, case: Case) -> None:
    """Reconciling the result again, later, changes nothing (lastTransitionTime included)."""
    first = reconcile(fn, case, T0)
    again = Case(case.name, {**case.given, "status": first}, case.world, base_url=case.base_url,
                 reports=case.reports, synced=case.synced)
    assert reconcile(fn, again, T1) == first
