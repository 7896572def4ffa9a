"""Resolving Knative Destinations (`ref` and/or `uri`) to URLs: pure.

Reconcilers call `resolve_destination` with a `Lookup` over the objects they observed.
A ref resolves through the target's `status.address.url` (a Knative Service through
`status.url`), unless the target reports Ready False; with both ref and uri, the uri is resolved relative to the ref's address.
A failure says why, naming the ref, so that the referrer's condition can carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urljoin

from ripple import errors
from ripple.api import registry

Lookup = Callable[[str, str, str, str], "dict[str, Any] | None"]
"""(apiVersion, kind, namespace, name) -> the observed object, or None."""


@dataclass(frozen=True)
class Resolution:
    uri: str | None
    reason: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.uri is not None


def address_of(obj: Mapping[str, Any]) -> str | None:
    status = obj.get("status") or {}
    url = (status.get("address") or {}).get("url") or status.get("url")
    return str(url) if url else None


def resolve_destination(
    destination: Mapping[str, Any] | None, namespace: str, lookup: Lookup
) -> Resolution:
    if not destination:
        return Resolution(None, "DestinationMissing", "no destination is set")
    ref = destination.get("ref")
    uri = destination.get("uri")
    if not ref:
        if uri:
            return Resolution(str(uri))
        return Resolution(None, "DestinationMissing", "a destination needs a ref or a uri")
    api_version, kind, name = ref.get("apiVersion", ""), ref.get("kind", ""), ref.get("name", "")
    ref_ns = ref.get("namespace") or namespace
    described = f"{kind} {ref_ns}/{name} ({api_version})"
    try:
        registry.lookup(api_version, kind)
    except errors.Invalid:
        return Resolution(None, "KindNotServed",
                          f"{described}: Ripple does not serve the kind {kind} of {api_version} yet")
    target = lookup(api_version, kind, ref_ns, name)
    if target is None:
        return Resolution(None, "NotFound", f"{described} not found")
    address = address_of(target)
    if address is None:
        return Resolution(None, "NotAddressable", f"{described} has no address yet (is it Ready?)")
    ready = next((c for c in (target.get("status") or {}).get("conditions") or []
                  if c.get("type") == "Ready"), None)
    if ready is not None and ready.get("status") == "False":
        return Resolution(None, "NotReady",
                          f"{described} is not Ready: {ready.get('reason')}: {ready.get('message')}")
    return Resolution(urljoin(address, str(uri)) if uri else address)
