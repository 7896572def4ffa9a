"""The console's topology: sources → brokers and channels → triggers and subscriptions →
subscribers, as nodes in four columns and the edges between them (pure, table-tested).

`build` takes the resources as the API lists them; `layout` gives every node a row so that
a parent sits by its children and a subscriber by the first Trigger or Subscription that
sends to it. Each delivery edge names its target as the operations API does
(`trigger:NAME`, `subscription:NAME`, `pingsource:NAME`, `kafkasource:NAME`), so the page
can put the live figures of `/edgestats` on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ripple import queued

SOURCES, HUBS, ROUTES, SUBSCRIBERS = 0, 1, 2, 3
COLUMN_TITLES = ("Sources", "Brokers and channels", "Triggers and subscriptions", "Subscribers")
HUB_KINDS = ("Broker", "Channel", "InMemoryChannel")
SOURCE_KINDS = tuple(str(kind) for kind in queued.SOURCE_KINDS)
"""The sources: each has a delivery target of its own (`channels.locations`: a queue and a
dead-letter store, a KafkaSource's queue holding only its redrives), so its edge to its
sink carries the target's figures like a Trigger's. The one table of them is
`ripple.queued.SOURCE_KINDS`: a source kind added there is drawn here."""


@dataclass(frozen=True)
class Node:
    id: str  # "Trigger/default/hello", or "url:http://..."
    kind: str  # the resource's kind, or "URL"
    namespace: str
    name: str
    column: int

    @property
    def label(self) -> str:
        return self.name


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    stats: str | None = None  # "default/trigger:hello": the target whose figures it shows


@dataclass(frozen=True)
class Graph:
    nodes: dict[str, Node]
    edges: list[Edge]
    rows: dict[str, int]

    @property
    def height(self) -> int:
        return max(self.rows.values(), default=-1) + 1


def node_id(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}"


def _meta(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or "default"), str(meta.get("name", ""))


def destination(dest: Any, namespace: str) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of a Destination's ref, ("URL", "", uri) of a bare URI;
    None for no destination."""
    if not isinstance(dest, Mapping):
        return None
    ref = dest.get("ref")
    if isinstance(ref, Mapping) and ref.get("kind") and ref.get("name"):
        return str(ref["kind"]), str(ref.get("namespace") or namespace), str(ref["name"])
    uri = dest.get("uri")
    return ("URL", "", str(uri)) if uri else None


def _parent(spec: Mapping[str, Any], field: str, default_kind: str) -> tuple[str, str]:
    value = spec.get(field)
    if isinstance(value, Mapping):
        return str(value.get("kind") or default_kind), str(value.get("name", ""))
    return default_kind, str(value or "")


def build(objects: Iterable[Mapping[str, Any]]) -> Graph:
    """The graph of these resources (any kinds; those not part of delivery are left out)."""
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []

    def add(kind: str, namespace: str, name: str, column: int) -> str:
        key = f"url:{name}" if kind == "URL" else node_id(kind, namespace, name)
        if key not in nodes or nodes[key].column > column:
            nodes[key] = Node(key, kind, namespace, name, column)
        return key

    def add_destination(found: tuple[str, str, str]) -> str:
        kind, namespace, name = found
        column = HUBS if kind in HUB_KINDS else SUBSCRIBERS
        return add(kind, namespace, name, column)

    routes: list[tuple[Mapping[str, Any], str]] = []
    for obj in objects:
        kind = str(obj.get("kind", ""))
        namespace, name = _meta(obj)
        spec = obj.get("spec") or {}
        if kind in HUB_KINDS:
            add(kind, namespace, name, HUBS)
        elif kind in SOURCE_KINDS:
            me = add(kind, namespace, name, SOURCES)
            sink = destination(spec.get("sink"), namespace)
            if sink is not None:
                edges.append(Edge(me, add_destination(sink), f"{namespace}/{kind.lower()}:{name}"))
        elif kind in ("Trigger", "Subscription"):
            routes.append((obj, kind))
    for obj, kind in sorted(routes, key=lambda r: _route_key(r[0], r[1])):
        namespace, name = _meta(obj)
        spec = obj.get("spec") or {}
        if kind == "Trigger":
            hub = add("Broker", namespace, _parent(spec, "broker", "Broker")[1], HUBS)
        else:
            channel_kind, channel = _parent(spec, "channel", "Channel")
            hub = add(channel_kind, namespace, channel, HUBS)
        me = add(kind, namespace, name, ROUTES)
        edges.append(Edge(hub, me))
        subscriber = destination(spec.get("subscriber"), namespace)
        if subscriber is not None:
            edges.append(Edge(me, add_destination(subscriber), f"{namespace}/{kind.lower()}:{name}"))
    return Graph(nodes, edges, layout(nodes, edges))


PAGE = 100
"""Triggers and Subscriptions one topology page draws: a page's cost stays the same however
many there are (the figures of its edges are polled for these only)."""


def page_of(objects: Sequence[Mapping[str, Any]], offset: int, size: int = PAGE
            ) -> tuple[list[Mapping[str, Any]], int]:
    """The resources of one page (the Triggers and Subscriptions from `offset`, in the order
    `build` draws them, with their brokers and channels and the sources sending to those)
    and how many Triggers and Subscriptions there are. The first page also has the brokers,
    channels and sources that no route of any page shows."""
    routes = sorted(((o, str(o.get("kind"))) for o in objects
                     if o.get("kind") in ("Trigger", "Subscription")),
                    key=lambda r: _route_key(r[0], r[1]))
    chosen = routes[offset:offset + size]
    hubs_of = {_hub_of(o, k) for o, k in routes}
    shown_hubs = {_hub_of(o, k) for o, k in chosen}
    first = offset == 0
    page: list[Mapping[str, Any]] = []
    for obj in objects:
        kind = str(obj.get("kind", ""))
        namespace, name = _meta(obj)
        if kind in HUB_KINDS:
            if (namespace, name) in shown_hubs or (first and (namespace, name) not in hubs_of):
                page.append(obj)
        elif kind in SOURCE_KINDS:
            sink = destination((obj.get("spec") or {}).get("sink"), namespace)
            into = (sink[1], sink[2]) if sink is not None and sink[0] in HUB_KINDS else None
            if (into is not None and into in shown_hubs) or (first and (into is None or into not in hubs_of)):
                page.append(obj)
    return page + [o for o, _ in chosen], len(routes)


def _hub_of(obj: Mapping[str, Any], kind: str) -> tuple[str, str]:
    namespace, _ = _meta(obj)
    spec = obj.get("spec") or {}
    return namespace, _parent(spec, "broker" if kind == "Trigger" else "channel", "")[1]


def _route_key(obj: Mapping[str, Any], kind: str) -> tuple[str, str, str]:
    namespace, name = _meta(obj)
    spec = obj.get("spec") or {}
    parent = _parent(spec, "broker" if kind == "Trigger" else "channel", "")[1]
    return namespace, parent, name


def layout(nodes: Mapping[str, Node], edges: Sequence[Edge]) -> dict[str, int]:
    """A row per node: Triggers and Subscriptions in order, one each; a broker or channel at
    its first child's row; a subscriber at the row of the first edge into it; a source at
    its sink's. A row taken in that column moves a node down to the next free one."""
    rows: dict[str, int] = {}
    taken: dict[int, set[int]] = {c: set() for c in range(4)}

    def place(key: str, wanted: int) -> None:
        column = taken[nodes[key].column]
        row = max(wanted, 0)
        while row in column:
            row += 1
        column.add(row)
        rows[key] = row

    children: dict[str, list[str]] = {}
    into: dict[str, list[str]] = {}
    for edge in edges:
        children.setdefault(edge.source, []).append(edge.target)
        into.setdefault(edge.target, []).append(edge.source)
    for i, key in enumerate(k for k, n in nodes.items() if n.column == ROUTES):
        place(key, i)
    for key, node in nodes.items():
        if node.column == HUBS:
            kids = [rows[c] for c in children.get(key, []) if c in rows]
            place(key, min(kids) if kids else _next_free(taken))
    for key, node in nodes.items():
        if node.column == SUBSCRIBERS:
            senders = [rows[s] for s in into.get(key, []) if s in rows]
            place(key, min(senders) if senders else 0)
    for key, node in nodes.items():
        if node.column == SOURCES:
            sinks = [rows[s] for s in children.get(key, []) if s in rows]
            place(key, min(sinks) if sinks else 0)
    return rows


def _next_free(taken: Mapping[int, set[int]]) -> int:
    return max((max(rows) + 1 for rows in taken.values() if rows), default=0)
