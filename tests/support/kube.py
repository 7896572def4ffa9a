"""A Kubernetes API for tests: kmock's emulator, with the gaps the operator needs filled.

kmock 0.8 (pinned) serves discovery, LIST, WATCH, GET, POST, merge-PATCH (also of
`/status`) and DELETE with finalizers, over HTTP on 127.0.0.1. `Cluster` subclasses its
emulator (private names `_handle`, `_serve_watch`, `_buses`: hence the pin):
- it stamps what an API server stamps: `uid`, `creationTimestamp`, `generation` and one
  global, increasing `resourceVersion` on every write (kmock keeps plain JSON);
- `/api/v1/namespaces` is the Namespace resource (kmock parses it as a namespace prefix);
- a LIST carries the resourceVersion of the latest write (kmock's is "...");
- a WATCH that carries `?resourceVersion=` (kopf's, after its LIST) does not replay every
  existing object as ADDED, as kmock does, so objects are not processed twice.
What it still lacks, so the tests do not rely on it: schema validation, resourceVersion
preconditions (a stale write is not refused), labelSelector, PUT, and the garbage collector
(deleting an owner leaves its children; the tests check the ownerReferences instead).

`serve(resources)` runs one with every resource the operator watches declared, plus the
core ones kopf needs (namespaces, events, CRDs), and yields it; `url` is where to point the
kubernetes client.
"""

from __future__ import annotations

import datetime
import itertools
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import kmock
from kmock._internal import parsing

_parse_path = parsing.parse_path


def _parse_namespaces(path: str) -> Any:
    """kmock 0.8 reads `/api/v1/namespaces[/NAME]` as a namespace prefix with nothing after
    it, and answers 500: the Namespace resource itself is meant (kopf lists it when it
    watches named namespaces)."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["api", "v1", "namespaces"] and len(parts) <= 4:
        return parsing.ParsedPath(group="", version="v1", plural="namespaces",
                                  name=parts[3] if len(parts) == 4 else None)
    return _parse_path(path)


parsing.parse_path = _parse_namespaces

CORE = {
    "v1/namespaces": kmock.ResourceInfo(kind="Namespace", namespaced=False,
                                        verbs={"list", "watch", "get", "create"}),
    "v1/events": kmock.ResourceInfo(kind="Event", namespaced=True, verbs={"create"}),
    "apiextensions.k8s.io/v1/customresourcedefinitions": kmock.ResourceInfo(
        kind="CustomResourceDefinition", namespaced=False, verbs={"list", "watch", "get"}),
}
VERBS = {"list", "watch", "get", "create", "patch", "delete"}


class Cluster(kmock.KubernetesEmulator):  # type: ignore[misc]
    _versions = itertools.count(1)
    last_version = 0

    async def _handle(self, request: Any) -> Any:
        if request.resource is not None and isinstance(request.data, dict):
            Cluster.last_version = next(Cluster._versions)
            version = str(Cluster.last_version)
            metadata = request.data.setdefault("metadata", {})
            if request.action == kmock.action.CREATE:
                metadata.update(
                    resourceVersion=version, uid=str(uuid.uuid4()), generation=1,
                    creationTimestamp=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            elif request.action == kmock.action.UPDATE:
                metadata["resourceVersion"] = version
                if "spec" in request.data and request.subresource is None:
                    current = self._current(request)
                    if current is not None:
                        metadata["generation"] = int(current.get("metadata", {}).get("generation", 1)) + 1
        return await super()._handle(request)

    def _current(self, request: Any) -> dict[str, Any] | None:
        key = (request.resource, request.namespace, request.name)
        if key in self.objects and not self.objects[key].deleted:
            return dict(self.objects[key].raw)
        return None

    async def _serve_list(self, request: Any) -> Any:
        listed = await super()._serve_list(request)
        listed["metadata"]["resourceVersion"] = str(Cluster.last_version)  # kmock says "..."
        return listed

    async def _serve_watch(self, request: Any) -> AsyncIterator[Any]:
        if not request.params.get("resourceVersion"):
            async for item in super()._serve_watch(request):
                yield item
            return
        yield b""
        async for event in self._buses[request.resource]:
            namespace = event.get("object", {}).get("metadata", {}).get("namespace")
            if request.namespace is None or namespace == request.namespace:
                yield event

    def get_object(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object, or None (never stored, or deleted)."""
        key = (kmock.resource(resource), namespace, name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        return dict(self.objects[key].raw)


@asynccontextmanager
async def serve(resources: Iterable[tuple[str, str, bool]]) -> AsyncIterator[Cluster]:
    """An emulator with these (`group/version/plural`, kind, namespaced) declared."""
    async with Cluster() as cluster, kmock.Server(cluster):
        for path, info in CORE.items():
            cluster.resources[path] = info
        for path, kind, namespaced in resources:
            cluster.resources[path] = kmock.ResourceInfo(
                kind=kind, singular=kind.lower(), namespaced=namespaced, verbs=VERBS,
                subresources={"status"})
        yield cluster
