"""What a reconciler may know of the world: a read-only lookup of observed objects.

The local platform backs it with its informer cache; tests back it with a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ripple.api import meta

Object = dict[str, Any]


class Observed(Protocol):
    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Object | None: ...

    def list(self, kind: str, namespace: str) -> list[Object]: ...


@dataclass(frozen=True)
class Context:
    observed: Observed
    now: datetime
    base_url: str
    reports: Mapping[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=dict)
    """What the data plane's adapters report, by (kind, namespace, name): one dict per
    process (`sources.reporting`); only the KafkaSource reconciler reads them."""


Reconcile = Callable[[Object, Context], Object]


class ObservedList:
    """An `Observed` over a fixed list of objects: the reconciler tables use it."""

    def __init__(self, objects: Iterable[Object]) -> None:
        self._by_key = {
            (o["apiVersion"], o["kind"], *meta.key(o)): o for o in objects
        }

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Object | None:
        return self._by_key.get((api_version, kind, namespace, name))

    def list(self, kind: str, namespace: str) -> list[Object]:
        return [o for (_, k, ns, _), o in sorted(self._by_key.items()) if k == kind and ns == namespace]
