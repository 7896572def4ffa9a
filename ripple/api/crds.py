"""CustomResourceDefinitions of every kind Ripple serves: `manifests/kubernetes/crds.yaml`.

Called by `ripple manifests crds` (which writes the committed file) and by the tests that
fail when that file is stale. Names, scope and versions come from the kind table
(`ripple.api.registry`), the schema from `ripple.api.schemas`; the presentation (short
names, categories, printer columns) is Knative's own, copied from the upstream CRDs
(`knative/eventing:config/core/resources/*.yaml`, `knative/serving:config/core/300-resources`,
the GitHub, GitLab and Kafka source CRDs), with Ripple's columns in Knative's order.
Core kinds (Secret, ConfigMap) are the cluster's own and get no CRD.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from ripple.api import registry, schemas

Column = tuple[str, str, str]  # (name, type, jsonPath)

READY: Column = ("Ready", "string", '.status.conditions[?(@.type=="Ready")].status')
REASON: Column = ("Reason", "string", '.status.conditions[?(@.type=="Ready")].reason')
AGE: Column = ("Age", "date", ".metadata.creationTimestamp")
URL: Column = ("URL", "string", ".status.address.url")
SINK: Column = ("Sink", "string", ".status.sinkUri")
SERVING_URL: Column = ("URL", "string", ".status.url")
LATEST_CREATED: Column = ("LatestCreated", "string", ".status.latestCreatedRevisionName")
LATEST_READY: Column = ("LatestReady", "string", ".status.latestReadyRevisionName")

CATEGORIES: dict[str, tuple[str, ...]] = {
    "eventing.knative.dev": ("all", "knative", "eventing"),
    "messaging.knative.dev": ("all", "knative", "messaging"),
    "flows.knative.dev": ("all", "knative", "flows"),
    "sources.knative.dev": ("all", "knative", "eventing", "sources"),
    "serving.knative.dev": ("all", "knative", "serving"),
}
CHANNEL_CATEGORIES = ("all", "knative", "messaging", "channel")

COLUMNS: dict[str, tuple[Column, ...]] = {
    "Broker": (URL, AGE, READY, REASON,
               ("Class", "string", r".metadata.annotations.eventing\.knative\.dev/broker\.class")),
    "Trigger": (("Broker", "string", ".spec.broker"),
                ("Subscriber_URI", "string", ".status.subscriberUri"), AGE, READY, REASON),
    "Channel": (URL, AGE, READY, REASON),
    "InMemoryChannel": (URL, AGE, READY, REASON),
    "Subscription": (AGE, READY, REASON),
    "Sequence": (URL, AGE, READY, REASON),
    "Parallel": (URL, AGE, READY, REASON),
    "PingSource": (SINK, ("Schedule", "string", ".spec.schedule"), AGE, READY, REASON),
    "GitHubSource": (READY, REASON, SINK, AGE),
    "GitLabSource": (READY, REASON, SINK, AGE),
    "KafkaSource": (("Topics", "string", ".spec.topics"),
                    ("BootstrapServers", "string", ".spec.bootstrapServers"), READY, REASON, AGE),
    "Service": (SERVING_URL, LATEST_CREATED, LATEST_READY, READY, REASON),
    "Configuration": (LATEST_CREATED, LATEST_READY, READY, REASON),
    "Revision": (("Config Name", "string",
                  r".metadata.labels['serving\.knative\.dev/configuration']"),
                 ("Generation", "string",
                  r".metadata.labels['serving\.knative\.dev/configurationGeneration']"),
                 READY, REASON,
                 ("Actual Replicas", "integer", ".status.actualReplicas"),
                 ("Desired Replicas", "integer", ".status.desiredReplicas")),
    "Route": (SERVING_URL, READY, REASON),
}
"""Knative's printer columns per kind (`kubectl get` shows them)."""


def custom_kinds() -> list[registry.Kind]:
    """The kinds that need a CRD: every served kind outside the core group."""
    return [k for k in registry.kinds() if k.group]


def crd_name(kind: registry.Kind) -> str:
    return f"{kind.plural}.{kind.group}"


def make_crd(kind: registry.Kind) -> dict[str, Any]:
    """One `apiextensions.k8s.io/v1` CustomResourceDefinition; the stored version first."""
    categories = CHANNEL_CATEGORIES if kind.kind in ("Channel", "InMemoryChannel") \
        else CATEGORIES[kind.group]
    names: dict[str, Any] = {"kind": kind.kind, "plural": kind.plural,
                             "singular": kind.singular, "categories": list(categories)}
    if kind.short_names:
        names["shortNames"] = list(kind.short_names)
    labels = {"app.kubernetes.io/part-of": "ripple", "knative.dev/crd-install": "true"}
    if kind.addressable:
        labels["duck.knative.dev/addressable"] = "true"
    if kind.group == "sources.knative.dev":
        labels |= {"duck.knative.dev/source": "true", "eventing.knative.dev/source": "true"}
    versions = [{
        "name": version,
        "served": True,
        "storage": version == kind.version,
        "subresources": {"status": {}},
        "schema": {"openAPIV3Schema": copy.deepcopy(schemas.schema_of(kind.kind))},
        "additionalPrinterColumns": [{"name": n, "type": t, "jsonPath": p}
                                     for n, t, p in COLUMNS[kind.kind]],
    } for version in (kind.version, *kind.also_served)]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": crd_name(kind), "labels": labels},
        "spec": {"group": kind.group, "names": names,
                 "scope": "Namespaced" if kind.namespaced else "Cluster",
                 "versions": versions},
    }


def make_crds() -> list[dict[str, Any]]:
    """Every CRD, by group and kind, so the file's order never depends on import order."""
    return [make_crd(k) for k in sorted(custom_kinds(), key=lambda k: (k.group, k.kind))]


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


HEADER = """\
# Ripple's CustomResourceDefinitions: one per kind Ripple serves, Knative's names.
# Generated by `ripple manifests crds > manifests/kubernetes/crds.yaml`; do not edit.
"""


def render() -> str:
    """The whole `crds.yaml`."""
    docs = [yaml.dump(crd, Dumper=_Dumper, sort_keys=False, width=100) for crd in make_crds()]
    return HEADER + "".join(f"---\n{doc}" for doc in docs)
