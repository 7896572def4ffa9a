"""The resource store: where Ripple's control plane keeps Knative resources.

Public surface for the API server, the informers, the local reconcilers and the CLI
(the composition root picks the implementation):

    ResourceStore          the Protocol (get, list, create, update, update_status,
                           delete, watch, current_version)
    WatchEvent             {"type": "ADDED" | "MODIFIED" | "DELETED", "object": {...}}
    MemoryResourceStore    the in-process fake for unit tests
    RedisResourceStore     the real store on Redis/Valkey (one server or a Cluster)
    migrate                renames a store an earlier Ripple wrote to today's keys, once

Internally, `objects` holds the rules of a write that both implementations share.
"""

from __future__ import annotations

from ripple.store.memory import MemoryResourceStore
from ripple.store.protocols import Resolver, ResourceStore, WatchEvent
from ripple.store.redis import RedisResourceStore, migrate

__all__ = [
    "MemoryResourceStore",
    "RedisResourceStore",
    "Resolver",
    "ResourceStore",
    "WatchEvent",
    "migrate",
]
