"""Ripple's resource API: Knative's kinds as plain JSON-shaped dicts (Knative's `pkg/apis`).

Importing `ripple.api` registers every kind Ripple serves. Callers:
- the CLI, the local platform and the API server: `load_documents` and `admit`;
- the store, the API server and the CLI: `registry` (`lookup`, `by_resource`, `by_name`);
- reconcilers: the kinds' `*_lifecycle` modules (condition sets and `mark_*` functions),
  `duck` for destinations, `meta.key`;
- the delivery engine: `durations.parse_duration`; sources: `secret_value`;
- the API server: `statuses` (the types a /status write may hold).

Modules: `registry` (the kind table), `meta` (object metadata), `fields` (shape checks),
`conditions` (Knative condition sets), `duck` (KReference, Destination, DeliverySpec),
`statuses` (the structural schema of status),
`durations` (ISO-8601), `loading` (YAML and admission), `schemas` and `crds` (the
structural OpenAPI schemas and the CustomResourceDefinitions, for `ripple manifests crds`),
and one package per API group:
`eventing` (Broker, Trigger), `messaging` (Channel, InMemoryChannel, Subscription),
`flows` (Sequence, Parallel), `serving` (Service, Configuration, Revision, Route),
`sources` (PingSource, GitHubSource, GitLabSource, KafkaSource) and `core` (Secret,
ConfigMap). A new kind is a new module that calls
`registry.register`, imported by its group's `__init__`.
"""

from __future__ import annotations

from ripple.api import (
    conditions,
    core,
    duck,
    durations,
    eventing,
    fields,
    flows,
    loading,
    messaging,
    meta,
    registry,
    serving,
    sources,
    statuses,
)
from ripple.api.conditions import ConditionSet
from ripple.api.core.secret import secret_value
from ripple.api.durations import parse_duration
from ripple.api.eventing import broker_lifecycle, trigger_lifecycle
from ripple.api.loading import admit, load_documents
from ripple.api.meta import key
from ripple.api.registry import Kind, by_name, by_resource, kinds, lookup, register

__all__ = [
    "ConditionSet",
    "Kind",
    "admit",
    "broker_lifecycle",
    "by_name",
    "by_resource",
    "conditions",
    "core",
    "duck",
    "durations",
    "eventing",
    "fields",
    "flows",
    "key",
    "kinds",
    "load_documents",
    "loading",
    "lookup",
    "messaging",
    "meta",
    "parse_duration",
    "register",
    "registry",
    "secret_value",
    "serving",
    "sources",
    "statuses",
    "trigger_lifecycle",
]
