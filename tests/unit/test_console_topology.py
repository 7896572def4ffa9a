"""The console's topology (pure): which nodes and edges the resources make, and their rows."""

from __future__ import annotations

from typing import Any

import pytest

from ripple import queued

from channels import deadletters, locations
from channels.identities import Kind
from controllers.platforms.local.console import topology
from controllers.platforms.local.console.topology import Edge


def obj(kind: str, name: str, spec: dict[str, Any] | None = None, namespace: str = "default") -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec or {}}


def trigger(name: str, broker: str, subscriber: dict[str, Any]) -> dict[str, Any]:
    return obj("Trigger", name, {"broker": broker, "subscriber": subscriber})


SVC = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "svc"}}


@pytest.mark.parametrize("objects, edges", [
    ([obj("Broker", "b"), trigger("t", "b", {"uri": "http://x/"})],
     [Edge("Broker/default/b", "Trigger/default/t"),
      Edge("Trigger/default/t", "url:http://x/", "default/trigger:t")]),
    # A Trigger whose Broker is not there yet still draws it.
    ([trigger("t", "b", SVC)],
     [Edge("Broker/default/b", "Trigger/default/t"),
      Edge("Trigger/default/t", "Service/default/svc", "default/trigger:t")]),
    # A source's edge carries its figures, a KafkaSource's too.
    ([obj("PingSource", "p", {"sink": {"ref": {"kind": "Broker", "name": "b"}}}),
      obj("KafkaSource", "k", {"sink": {"uri": "http://k/"}})],
     [Edge("PingSource/default/p", "Broker/default/b", "default/pingsource:p"),
      Edge("KafkaSource/default/k", "url:http://k/", "default/kafkasource:k")]),
    # A source without a sink draws no edge.
    ([obj("KafkaSource", "k", {})], []),
    ([obj("Subscription", "s", {"channel": {"kind": "InMemoryChannel", "name": "c"},
                                "subscriber": {"ref": {"kind": "Sequence", "name": "seq"}}})],
     [Edge("InMemoryChannel/default/c", "Subscription/default/s"),
      Edge("Subscription/default/s", "Sequence/default/seq", "default/subscription:s")]),
    # Kinds outside delivery are left out; a Trigger without a subscriber has one edge.
    ([obj("Secret", "x"), trigger("t", "b", {})], [Edge("Broker/default/b", "Trigger/default/t")]),
])
def test_edges(objects: list[dict[str, Any]], edges: list[Edge]) -> None:
    assert topology.build(objects).edges == edges


def test_a_trigger_to_a_broker_points_back_to_the_brokers_column() -> None:
    graph = topology.build([trigger("t", "a", {"ref": {"kind": "Broker", "name": "b"}})])
    assert graph.nodes["Broker/default/b"].column == topology.HUBS


def test_rows_put_a_parent_by_its_first_child_and_a_subscriber_by_its_first_sender() -> None:
    graph = topology.build([
        obj("Broker", "b2"), obj("Broker", "b1"),
        trigger("t3", "b2", {"uri": "http://shared/"}),
        trigger("t1", "b1", {"uri": "http://shared/"}),
        trigger("t2", "b1", {"uri": "http://other/"}),
        obj("PingSource", "p", {"sink": {"ref": {"kind": "Broker", "name": "b2"}}}),
    ])
    rows = graph.rows
    assert [rows[f"Trigger/default/{t}"] for t in ("t1", "t2", "t3")] == [0, 1, 2]  # by broker, name
    assert rows["Broker/default/b1"] == 0 and rows["Broker/default/b2"] == 2
    assert rows["url:http://shared/"] == 0 and rows["url:http://other/"] == 1
    assert rows["PingSource/default/p"] == 2
    assert graph.height == 3


def test_two_nodes_of_a_column_never_share_a_row() -> None:
    graph = topology.build([trigger(f"t{i}", "b", {"uri": "http://same/"}) for i in range(3)]
                           + [obj("PingSource", f"p{i}", {"sink": {"uri": "http://same/"}}) for i in range(3)])
    for column in range(4):
        rows = [graph.rows[k] for k, n in graph.nodes.items() if n.column == column]
        assert len(rows) == len(set(rows))


def test_a_thousand_triggers_build_one_row_each() -> None:
    graph = topology.build([obj("Broker", "b")] + [trigger(f"t{i:04}", "b", {"uri": f"http://s/{i}"})
                                                   for i in range(1000)])
    assert graph.height == 1000 and len(graph.edges) == 2000


def test_pages_of_a_thousand_triggers_draw_each_once_with_their_broker() -> None:
    objects = ([obj("Broker", "b"), obj("Broker", "lonely"),
                obj("PingSource", "p", {"sink": {"ref": {"kind": "Broker", "name": "b"}}}),
                obj("PingSource", "q", {"sink": {"uri": "http://q/"}})]
               + [trigger(f"t{i:04}", "b", {"uri": "http://s/"}) for i in range(1000)])
    seen: list[str] = []
    for offset in range(0, 1000, topology.PAGE):
        shown, total = topology.page_of(objects, offset)
        assert total == 1000
        names = [o["metadata"]["name"] for o in shown]
        seen += [n for n in names if n.startswith("t")]
        assert "b" in names and "p" in names  # the page's broker and what sends to it
        assert ("lonely" in names and "q" in names) == (offset == 0)
    assert seen == [f"t{i:04}" for i in range(1000)]


@pytest.mark.parametrize("kind", list(queued.SOURCE_KINDS))
def test_every_source_with_a_target_is_drawn_with_its_figures(kind: Kind) -> None:
    """The sources drawn are `channels.locations`' (one table), and each edge names the
    target as the operations API labels it, so `/edgestats` has its figures."""
    source = obj(str(kind), "s", {"sink": {"ref": {"kind": "Broker", "name": "b"}}})
    where = locations.of_resource(source)
    assert where is not None
    [edge] = topology.build([source]).edges
    assert (edge.source, edge.stats) == (f"{kind}/default/s", f"default/{deadletters.label(where.key)}")
