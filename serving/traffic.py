"""Where a request to a Route goes: the routing table and the split decision (issue #10 item 4).

Pure: built from Knative Route objects (their `status.traffic`, where every entry already
names a `revisionName`: the Route reconciler flattened `latestRevision` and
`configurationName` targets to the latest Ready revision), and the randomness is an
argument (`random.Random`, seeded in tests). Called by `serving.routing` on every request
and by the Route reconciler for the URLs it writes into `status` (`route_url`,
`route_host`), so the data path and the status cannot disagree on the URL scheme.

Addresses. A route answers at two kinds of address:

- **Host** (Knative's): `NAME.NAMESPACE.<domain>` for the route, and
  `TAG-NAME.NAMESPACE.<domain>` for each tag (Knative's default `tag-template`
  `{{.Tag}}-{{.Name}}` inside the default `domain-template`
  `{{.Name}}.{{.Namespace}}.{{.Domain}}`). The port in the Host header is ignored.
- **Path** (Ripple's, for a machine without DNS setup): `/serving/NAMESPACE/NAME[/...]` for
  the route and `/serving/NAMESPACE/NAME/@TAG[/...]` for a tag. `@` cannot start a
  DNS-1035 label, so `@TAG` never collides with a path of the function itself. What follows
  the address (`/...`, and the query string) is the path the replica sees; the bare
  address is `/`.

Splitting (Knative's traffic groups, `pkg/reconciler/route/traffic/traffic.go`): the route's
own address spreads requests over every entry by `percent`; a tag's address sends 100% to
the tagged revision, whatever its percent (`consolidate`). Entries naming the same revision
add up, as Knative merges them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

DEFAULT_DOMAIN = "svc.cluster.local"
"""Knative's default domain (`svc.<cluster-domain>`); the local platform may pass its own."""

PATH_PREFIX = "/serving/"
TAG_MARK = "@"


class Target(NamedTuple):
    """One entry of a Route's `status.traffic`."""

    revision: str
    percent: int
    tag: str | None = None
    latest: bool = False


class RouteKey(NamedTuple):
    namespace: str
    name: str


class Address(NamedTuple):
    """What a request named: a route, maybe a tag, and the path the replica is to see."""

    route: RouteKey
    tag: str | None
    path: str


# -- the URL scheme: one place, for the data path and the reconciler ----------------------
def route_host(namespace: str, name: str, tag: str | None = None,
               domain: str = DEFAULT_DOMAIN) -> str:
    """The Host of a route (or of one of its tags), by Knative's default templates."""
    host_name = f"{tag}-{name}" if tag else name
    return f"{host_name}.{namespace}.{domain}"


def route_path(namespace: str, name: str, tag: str | None = None) -> str:
    """The path address of a route (or of one of its tags) on Ripple's one port."""
    path = f"{PATH_PREFIX}{namespace}/{name}"
    return f"{path}/{TAG_MARK}{tag}" if tag else path


def route_url(base: str, namespace: str, name: str, tag: str | None = None) -> str:
    """The URL `status.url` (or a tag's `url`) carries: `base` is Ripple's own
    `http://HOST:PORT`, so the URL works from this machine without DNS."""
    return base.rstrip("/") + route_path(namespace, name, tag)


def parse_path(path: str) -> Address | None:
    """The address of a `/serving/...` path, or None when the path is not one."""
    if not path.startswith(PATH_PREFIX):
        return None
    parts = path[len(PATH_PREFIX):].split("/", 3)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    route = RouteKey(parts[0], parts[1])
    rest = parts[2:]
    tag = None
    if rest and rest[0].startswith(TAG_MARK):
        tag = rest[0][1:]
        if not tag:
            return None
        rest = rest[1:]
    return Address(route, tag, "/" + "/".join(rest))


def targets_of(route: Mapping[str, Any]) -> tuple[Target, ...]:
    """The targets of a Route object's `status.traffic` (empty when it has none yet)."""
    entries = (route.get("status") or {}).get("traffic") or []
    return tuple(
        Target(str(e["revisionName"]), int(e.get("percent") or 0), e.get("tag") or None,
               bool(e.get("latestRevision")))
        for e in entries if e.get("revisionName"))


def choose(targets: tuple[Target, ...], tag: str | None, rng: random.Random) -> str | None:
    """The revision for one request: the tag's revision, else one drawn by percent.

    None when the tag is unknown or no entry has a percent (the route takes no traffic).
    """
    if tag is not None:
        for target in targets:
            if target.tag == tag:
                return target.revision
        return None
    total = sum(t.percent for t in targets)
    if total <= 0:
        return None
    # Percents add up to 100 in a valid status; the total keeps a stale one fair anyway.
    draw = rng.randrange(total)
    for target in targets:
        draw -= target.percent
        if draw < 0:
            return target.revision
    raise AssertionError("unreachable: draw < total")


class Table:
    """Every route's targets, with its host names, as the router looks them up."""

    def __init__(self, domain: str = DEFAULT_DOMAIN) -> None:
        self.domain = domain
        self._targets: dict[RouteKey, tuple[Target, ...]] = {}
        self._hosts: dict[str, tuple[RouteKey, str | None]] = {}

    def set_route(self, route: Mapping[str, Any]) -> None:
        """Add or replace a Route (the object as the API serves it)."""
        meta = route["metadata"]
        key = RouteKey(meta.get("namespace") or "default", meta["name"])
        self.remove_route(*key)
        targets = targets_of(route)
        self._targets[key] = targets
        self._hosts[route_host(key.namespace, key.name, None, self.domain)] = (key, None)
        for target in targets:
            if target.tag:
                host = route_host(key.namespace, key.name, target.tag, self.domain)
                self._hosts[host] = (key, target.tag)

    def sync(self, routes: Iterable[Mapping[str, Any]]) -> None:
        """Become exactly `routes` (e.g. the informer's every Route): the others are removed."""
        self._targets.clear()
        self._hosts.clear()
        for route in routes:
            self.set_route(route)

    def remove_route(self, namespace: str, name: str) -> None:
        key = RouteKey(namespace, name)
        if self._targets.pop(key, None) is not None:
            for host in [h for h, (k, _) in self._hosts.items() if k == key]:
                del self._hosts[host]

    def targets(self, route: RouteKey) -> tuple[Target, ...] | None:
        return self._targets.get(route)

    def address(self, host: str | None, path: str) -> Address | None:
        """The address a request names: its path form first, else its Host header."""
        address = parse_path(path)
        if address is not None:
            return address
        if host:
            found = self._hosts.get(host.partition(":")[0].lower())
            if found is not None:
                return Address(found[0], found[1], path)
        return None

    def choose(self, address: Address, rng: random.Random) -> str | None:
        """The revision for one request to `address`; None when the route or tag is unknown
        or takes no traffic."""
        targets = self._targets.get(address.route)
        if targets is None:
            return None
        return choose(targets, address.tag, rng)
