"""The resources as the data plane reads them on Kubernetes: the read half of
`ripple.store.ResourceStore` (get, list, watch, current_version) over the API server.

Called by `ripple.informers.Informer` in `ripple data-plane` (`dataplane`): the planes
sync from that informer exactly as on one machine, and the resourceVersions they report as
applied are the API server's own, the ones the controller compares (see
docs/architecture.md). Lists and gets go through `api.KubeApi` (the kubernetes client);
watches stream over aiohttp, one per kind, merged into one iterator: the kubernetes client
has no asynchronous watch. A watch that ends or fails raises `errors.StoreUnavailable`, and
the informer lists again. The data plane never writes: the write verbs refuse.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import kubernetes

from controllers.platforms.kubernetes import api as kube
from ripple import errors
from ripple.api import registry
from ripple.store.protocols import WatchEvent

WATCH_TIMEOUT = 300
"""Seconds the API server keeps one watch open before the informer lists again."""


class KubeStore:
    def __init__(self, configuration: kubernetes.client.Configuration) -> None:
        self.configuration = configuration
        self.client = kube.KubeApi(configuration)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self.client.close()

    async def get(self, kind: registry.Kind, namespace: str | None, name: str) -> dict[str, Any]:
        return await self.client.get(kube.Resource.of(kind), namespace, name)

    async def list(self, kind: registry.Kind, namespace: str | None = None) -> list[dict[str, Any]]:
        found = await self.client.list(kube.Resource.of(kind), namespace)
        return sorted(found, key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"]))

    async def current_version(self) -> str:
        """The API server's resourceVersion now: a list's, of the first kind."""
        kind = registry.kinds()[0]
        listed = await self.client.request("GET", kube.Resource.of(kind).path(),
                                           query=[("limit", "1")])
        return str(((listed or {}).get("metadata") or {}).get("resourceVersion") or "0")

    async def watch(self, kinds: Sequence[registry.Kind] | None = None, *,
                    since: str | None = None) -> AsyncIterator[WatchEvent]:
        queue: asyncio.Queue[WatchEvent | BaseException] = asyncio.Queue()
        tasks = [asyncio.create_task(self._follow(kind, since, queue), name=f"watch-{kind.plural}")
                 for kind in (kinds or registry.kinds())]
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _follow(self, kind: registry.Kind, since: str | None,
                      queue: asyncio.Queue[WatchEvent | BaseException]) -> None:
        resource = kube.Resource.of(kind)
        params = {"watch": "true", "timeoutSeconds": str(WATCH_TIMEOUT)}
        if since:
            params["resourceVersion"] = since
        try:
            session = self._connect()
            async with session.get(self.configuration.host.rstrip("/") + resource.path(),
                                   params=params, headers=self._headers(),
                                   timeout=aiohttp.ClientTimeout(total=None, sock_read=WATCH_TIMEOUT + 30)) as response:
                if response.status != 200:
                    raise errors.StoreUnavailable(f"watch {resource}: {response.status}")
                async for line in response.content:
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    if event.get("type") == "ERROR":  # 410 Gone: too old a resourceVersion
                        raise errors.Conflict(f"watch {resource}: {event.get('object')}")
                    if event.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                        obj = event["object"]
                        obj.setdefault("apiVersion", resource.api_version)
                        obj.setdefault("kind", resource.kind)
                        queue.put_nowait({"type": event["type"], "object": obj})
            raise errors.StoreUnavailable(f"watch {resource} ended")
        except asyncio.CancelledError:
            raise
        except errors.RippleError as exc:
            queue.put_nowait(exc)
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            queue.put_nowait(errors.StoreUnavailable(f"watch {resource}: {exc}"))

    def _connect(self) -> aiohttp.ClientSession:
        if self._session is None:
            context: ssl.SSLContext | bool = False
            if self.configuration.host.startswith("https"):
                context = ssl.create_default_context(cafile=self.configuration.ssl_ca_cert)
                if not self.configuration.verify_ssl:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                if self.configuration.cert_file:
                    context.load_cert_chain(self.configuration.cert_file, self.configuration.key_file)
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
        return self._session

    def _headers(self) -> dict[str, str]:
        token = self.configuration.get_api_key_with_prefix("authorization")
        return {"Authorization": token} if token else {}

    # -- the data plane never writes ---------------------------------------------------------
    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        raise errors.PermanentError("the data plane does not write resources")

    async def update(self, obj: dict[str, Any]) -> dict[str, Any]:
        raise errors.PermanentError("the data plane does not write resources")

    async def update_status(self, obj: dict[str, Any], *,
                            current: dict[str, Any] | None = None) -> dict[str, Any]:
        raise errors.PermanentError("the data plane does not write status")

    async def delete(self, kind: registry.Kind, namespace: str | None, name: str, *,
                     uid: str | None = None) -> dict[str, Any]:
        raise errors.PermanentError("the data plane does not write resources")
