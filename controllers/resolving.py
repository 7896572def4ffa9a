"""Resolving Knative Destinations (`ref` and/or `uri`) to URLs: pure, and the only resolver.

Called by the reconcilers, with a `Lookup` over the objects they observed, and by the CLI
(`ripple.cli.commands.common`: `--sink`, `--to`), with a `Lookup` backed by the API and
the kinds the server's discovery lists as `served`. So a sink the CLI accepts is one the
controller can resolve, by the same rules:

- a ref to a kind the platform does not serve is `KindNotServed`;
- otherwise the target is looked up (`NotFound`), its address read by its kind's
  `Addressing` (`NotAddressable`), and a target whose Ready is False is `NotReady`;
- with both ref and uri, the uri is resolved relative to the ref's address.
A failure says why, naming the ref, so that the referrer's condition can carry it.

`ADDRESSING` is the hook for addressable kinds: a kind whose URL is not simply
`status.address.url` registers how to read it (`register_addressing`), or which kind to
resolve through in its place, instead of editing `resolve_destination`. A serving
`Service` and a core `v1` `Service` are registered here; a platform may replace an entry
(the Kubernetes platform registers `CORE_SERVICE_ON_KUBERNETES`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

Lookup = Callable[[str, str, str, str], "dict[str, Any] | None"]
"""(apiVersion, kind, namespace, name) -> the observed object, or None."""

Served = Callable[[str, str], bool]
"""(apiVersion, kind) -> whether the platform serves that kind at that version."""

AddressOf = Callable[[Mapping[str, Any]], "str | None"]
"""The target object -> its URL, or None while it has none."""


@dataclass(frozen=True)
class Resolution:
    uri: str | None
    reason: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.uri is not None


def address_of(obj: Mapping[str, Any]) -> str | None:
    """`status.address.url` (Knative's Addressable), else `status.url` (a Knative Service's)."""
    status = obj.get("status") or {}
    url = (status.get("address") or {}).get("url") or status.get("url")
    return str(url) if url else None


def cluster_local_url(obj: Mapping[str, Any]) -> str | None:
    """A Kubernetes Service's DNS name, as Knative's resolver gives for a core Service ref."""
    meta = obj.get("metadata") or {}
    name, namespace = meta.get("name"), meta.get("namespace")
    return f"http://{name}.{namespace}.svc.cluster.local" if name and namespace else None


@dataclass(frozen=True)
class Addressing:
    """How a ref to one kind becomes a URL."""

    address_of: AddressOf = address_of
    # (apiVersion, kind) resolved in the ref's place, same namespace and name: on one
    # machine a core Service is the Ripple serving Service of that name.
    via: tuple[str, str] | None = None
    # Why `via`, for the message when the kind resolved through is not served.
    note: str = ""


SERVING_SERVICE = Addressing(address_of=address_of)
CORE_SERVICE_ON_ONE_MACHINE = Addressing(
    via=("serving.knative.dev/v1", "Service"),
    note="on one machine a core Service resolves through the Knative Service of its name",
)
CORE_SERVICE_ON_KUBERNETES = Addressing(address_of=cluster_local_url)

# (API group, kind) -> its Addressing; every version of a kind shares it. A kind not
# listed is read with `address_of`.
ADDRESSING: dict[tuple[str, str], Addressing] = {
    ("serving.knative.dev", "Service"): SERVING_SERVICE,
    ("", "Service"): CORE_SERVICE_ON_ONE_MACHINE,
}


def register_addressing(group: str, kind: str, addressing: Addressing) -> None:
    """Say how refs to `kind` of `group` ("" for core) resolve; replaces an earlier entry."""
    ADDRESSING[(group, kind)] = addressing


def addressing_for(api_version: str, kind: str) -> Addressing:
    group = api_version.rpartition("/")[0]
    return ADDRESSING.get((group, kind), Addressing())


def served_by_registry(api_version: str, kind: str) -> bool:
    """Whether this process's kind registry serves the kind: the controller's view."""
    from ripple import errors
    from ripple.api import registry  # here: the CLI passes its own `served`, and stays light

    try:
        registry.lookup(api_version, kind)
    except errors.Invalid:
        return False
    return True


def check_served(
    api_version: str, kind: str, described: str, served: Served
) -> Resolution | None:
    """`KindNotServed` when refs to the kind cannot be resolved here; None when they can."""
    addressing = addressing_for(api_version, kind)
    target_version, target_kind = addressing.via or (api_version, kind)
    if served(target_version, target_kind):
        return None
    if addressing.via is not None:
        return Resolution(None, "KindNotServed", (
            f"{described}: {addressing.note}, and Ripple does not serve the kind "
            f"{target_kind} of {target_version} yet"
        ))
    return Resolution(None, "KindNotServed",
                      f"{described}: Ripple does not serve the kind {kind} of {api_version} yet")


def resolve_destination(
    destination: Mapping[str, Any] | None,
    namespace: str,
    lookup: Lookup,
    *,
    served: Served = served_by_registry,
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
    refused = check_served(api_version, kind, described, served)
    if refused is not None:
        return refused
    addressing = addressing_for(api_version, kind)
    target_version, target_kind = addressing.via or (api_version, kind)
    target = lookup(target_version, target_kind, ref_ns, name)
    if target is None:
        through = f" (no {target_kind} {ref_ns}/{name} of {target_version})" if addressing.via else ""
        return Resolution(None, "NotFound", f"{described} not found{through}")
    address = addressing.address_of(target)
    if address is None:
        return Resolution(None, "NotAddressable", f"{described} has no address yet (is it Ready?)")
    ready = next((c for c in (target.get("status") or {}).get("conditions") or []
                  if c.get("type") == "Ready"), None)
    if ready is not None and ready.get("status") == "False":
        return Resolution(None, "NotReady",
                          f"{described} is not Ready: {ready.get('reason')}: {ready.get('message')}")
    return Resolution(urljoin(address, str(uri)) if uri else address)
