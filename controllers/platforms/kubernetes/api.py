"""The Kubernetes API, as the kopf platform writes to it: the applier's `Writer`, over the
kubernetes client.

Called by the operator (`operator`), the leader Lease (`leases`) and the workloads
(`workloads`). The kubernetes client loads the connection (kubeconfig, `KUBECONFIG`, or the
in-cluster service account) and carries each request; it is synchronous, so each request
runs in a worker thread. Its errors become `ripple.errors` here, once: 404 NotFound, 409
Conflict (a stale resourceVersion, or AlreadyExists), 400/422 Invalid, anything else and
every connection failure StoreUnavailable, which the driver retries with backoff.

Writes are JSON merge patches (RFC 7386) carrying `metadata.resourceVersion`, which the API
server treats as a precondition: a stale write is a 409, never a lost update. Status goes
through the `/status` subresource only.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import kubernetes
import urllib3

from ripple import errors
from ripple.api import meta, registry

Object = dict[str, Any]
MERGE_PATCH = "application/merge-patch+json"


class Resource:
    """Where a kind lives in the API: `/apis/{group}/{version}/namespaces/{ns}/{plural}`."""

    def __init__(self, group: str, version: str, plural: str, kind: str, *,
                 namespaced: bool = True) -> None:
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        self.namespaced = namespaced

    @classmethod
    def of(cls, kind: registry.Kind) -> Resource:
        return cls(kind.group, kind.version, kind.plural, kind.kind, namespaced=kind.namespaced)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        parts = [base, self.plural, *(p for p in (name, subresource) if p)]
        return "/".join(parts)

    def __str__(self) -> str:
        return f"{self.plural}.{self.group or 'core'}/{self.version}"


DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
SERVICES = Resource("", "v1", "services", "Service")
SECRETS = Resource("", "v1", "secrets", "Secret")
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
BUILTINS = (DEPLOYMENTS, SERVICES, SECRETS, LEASES)


def resource_of(obj: Object) -> Resource:
    """The resource of an object: a Ripple kind, or one of the core kinds the platform writes."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    for builtin in BUILTINS:
        if (api_version, kind) == (builtin.api_version, builtin.kind):
            return builtin
    return Resource.of(registry.lookup(api_version, kind))


def merge_patch(current: Any, desired: Any) -> Any:
    """The RFC 7386 merge patch that turns `current` into `desired` (None: nothing changes)."""
    if not isinstance(current, dict) or not isinstance(desired, dict):
        return None if current == desired else copy.deepcopy(desired)
    patch: dict[str, Any] = {}
    for key in current.keys() - desired.keys():
        patch[key] = None
    for key, value in desired.items():
        if key not in current:
            patch[key] = copy.deepcopy(value)
        elif current[key] != value:
            inner = merge_patch(current[key], value)
            patch[key] = inner if inner is not None else copy.deepcopy(value)
    return patch or None


class KubeApi:
    """Requests to one API server, with one kubernetes client `Configuration`."""

    def __init__(self, configuration: kubernetes.client.Configuration) -> None:
        self.configuration = configuration
        self.client = kubernetes.client.ApiClient(configuration)

    def close(self) -> None:
        self.client.close()

    async def request(self, method: str, path: str, body: Any = None, *,
                      content_type: str = "application/json",
                      query: list[tuple[str, str]] | None = None) -> Any:
        return await asyncio.to_thread(self._request, method, path, body, content_type, query)

    def _request(self, method: str, path: str, body: Any, content_type: str,
                 query: list[tuple[str, str]] | None) -> Any:
        try:
            method, url, headers, body, post = self.client.param_serialize(
                method, path, query_params=query or [], body=body,
                header_params={"Accept": "application/json", "Content-Type": content_type},
                auth_settings=["BearerToken"])
            response = self.client.call_api(method, url, header_params=headers, body=body,
                                            post_params=post, _request_timeout=30)
            data = response.read()
        except kubernetes.client.exceptions.ApiException as exc:  # TLS, retries exhausted
            raise errors.StoreUnavailable(f"Kubernetes API unreachable: {exc.reason}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise errors.StoreUnavailable(f"Kubernetes API unreachable: {exc}") from exc
        if not 200 <= response.status < 300:
            raise _translate(response.status, response.reason, data, method, path)
        return json.loads(data) if data else None

    # -- reads ------------------------------------------------------------------------------
    async def get(self, resource: Resource, namespace: str | None, name: str) -> Object:
        found = await self.request("GET", resource.path(namespace, name))
        return _with_type(found, resource)

    async def list(self, resource: Resource, namespace: str | None = None) -> list[Object]:
        found = await self.request("GET", resource.path(namespace))
        return [_with_type(item, resource) for item in (found or {}).get("items") or []]

    # -- the applier's Writer ---------------------------------------------------------------
    async def create(self, obj: Object) -> Object:
        resource = resource_of(obj)
        body = copy.deepcopy(obj)
        body.get("metadata", {}).pop("resourceVersion", None)
        found = await self.request("POST", resource.path(meta.key(obj)[0]), body)
        return _with_type(found, resource) if found else body

    async def update(self, obj: Object) -> Object:
        """Everything but status, as `obj` has it, if `obj`'s resourceVersion is current."""
        resource = resource_of(obj)
        namespace, name = meta.key(obj)
        current = await self.get(resource, namespace, name)
        desired = {k: v for k, v in obj.items() if k != "status"}
        desired["metadata"] = {**current["metadata"], **_writable(obj.get("metadata") or {})}
        patch = merge_patch({k: v for k, v in current.items() if k != "status"}, desired) or {}
        version = meta.metadata(obj).get("resourceVersion")
        if version:
            patch.setdefault("metadata", {})["resourceVersion"] = version
        found = await self.request("PATCH", resource.path(namespace, name), patch,
                                   content_type=MERGE_PATCH)
        return _with_type(found, resource)

    async def update_status(self, obj: Object, *, current: Object | None = None) -> Object:
        """Only `status`, through `/status`, if `obj`'s resourceVersion is current."""
        resource = resource_of(obj)
        namespace, name = meta.key(obj)
        if current is None:
            current = await self.get(resource, namespace, name)
        patch = {"status": merge_patch(current.get("status") or {}, obj.get("status") or {}) or {}}
        version = meta.metadata(obj).get("resourceVersion")
        if version:
            patch["metadata"] = {"resourceVersion": version}
        found = await self.request("PATCH", resource.path(namespace, name, "status"), patch,
                                   content_type=MERGE_PATCH)
        return _with_type(found, resource)

    async def patch(self, resource: Resource, namespace: str | None, name: str,
                    patch: Object) -> Object:
        found = await self.request("PATCH", resource.path(namespace, name), patch,
                                   content_type=MERGE_PATCH)
        return _with_type(found, resource)

    async def delete(self, kind: registry.Kind, namespace: str | None, name: str, *,
                     uid: str | None = None) -> Object:
        return await self.delete_resource(Resource.of(kind), namespace, name, uid=uid)

    async def delete_resource(self, resource: Resource, namespace: str | None, name: str, *,
                              uid: str | None = None) -> Object:
        options: Object = {"propagationPolicy": "Background"}
        if uid:
            options["preconditions"] = {"uid": uid}
        found = await self.request("DELETE", resource.path(namespace, name), options)
        return found if isinstance(found, dict) else {}


def _writable(metadata: Object) -> Object:
    return {k: v for k, v in metadata.items() if k in ("labels", "annotations", "ownerReferences")}


def _with_type(obj: Any, resource: Resource) -> Object:
    """A LIST's items carry no apiVersion and kind; the reconcilers need them."""
    if not isinstance(obj, dict):
        return {}
    obj.setdefault("apiVersion", resource.api_version)
    obj.setdefault("kind", resource.kind)
    return obj


def _translate(status: int, reason: Any, data: Any, method: str, path: str) -> errors.RippleError:
    detail = f"{method} {path}: {status} {reason or ''}".strip()
    if status == 404:
        return errors.NotFound(detail)
    if status == 409:
        return errors.Conflict(detail)
    if status in (400, 422):
        body = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
        return errors.Invalid(f"{detail}: {body}"[:500])
    if status in (401, 403):
        return errors.PermanentError(f"{detail}: check the operator's RBAC")
    return errors.StoreUnavailable(detail)
