"""serving.traffic: addresses, the table, and the split decision (issue #10 item 4)."""

from __future__ import annotations

import math
import random

import pytest

from serving import traffic
from serving.traffic import Address, RouteKey, Target


def route(name: str, traffic_entries: list[dict], namespace: str = "ns") -> dict:
    return {"metadata": {"name": name, "namespace": namespace},
            "status": {"traffic": traffic_entries}}


SPLIT = route("foo", [
    {"revisionName": "foo-00001", "percent": 50},
    {"revisionName": "foo-00002", "percent": 50, "latestRevision": True},
    {"revisionName": "foo-00001", "percent": 0, "tag": "stable",
     "url": "http://stable-foo.ns.svc.cluster.local"},
    {"revisionName": "foo-00003", "percent": 0, "tag": "canary",
     "url": "http://canary-foo.ns.svc.cluster.local"},
])


@pytest.mark.parametrize("args, host, path", [
    (("ns", "foo"), "foo.ns.svc.cluster.local", "/serving/ns/foo"),
    (("ns", "foo", "canary"), "canary-foo.ns.svc.cluster.local", "/serving/ns/foo/@canary"),
])
def test_url_scheme(args: tuple, host: str, path: str) -> None:
    assert traffic.route_host(*args) == host
    assert traffic.route_path(*args) == path
    assert traffic.route_url("http://127.0.0.1:8080/", *args) == "http://127.0.0.1:8080" + path


@pytest.mark.parametrize("path, want", [
    ("/serving/ns/foo", Address(RouteKey("ns", "foo"), None, "/")),
    ("/serving/ns/foo/", Address(RouteKey("ns", "foo"), None, "/")),
    ("/serving/ns/foo/a/b", Address(RouteKey("ns", "foo"), None, "/a/b")),
    ("/serving/ns/foo/@canary", Address(RouteKey("ns", "foo"), "canary", "/")),
    ("/serving/ns/foo/@canary/x/", Address(RouteKey("ns", "foo"), "canary", "/x/")),
    ("/serving/ns/foo/x/@canary", Address(RouteKey("ns", "foo"), None, "/x/@canary")),
    ("/serving/ns/foo/@", None),
    ("/serving/ns", None),
    ("/serving/ns/", None),
    ("/serving//foo", None),
    ("/ns/foo", None),
])
def test_parse_path(path: str, want: Address | None) -> None:
    assert traffic.parse_path(path) == want


def test_targets_of_status() -> None:
    assert traffic.targets_of(SPLIT) == (
        Target("foo-00001", 50), Target("foo-00002", 50, None, True),
        Target("foo-00001", 0, "stable"), Target("foo-00003", 0, "canary"))
    assert traffic.targets_of({"metadata": {"name": "x"}}) == ()


@pytest.mark.parametrize("host, path, want", [
    ("foo.ns.svc.cluster.local", "/a", Address(RouteKey("ns", "foo"), None, "/a")),
    ("FOO.ns.svc.cluster.local:8080", "/", Address(RouteKey("ns", "foo"), None, "/")),
    ("canary-foo.ns.svc.cluster.local", "/", Address(RouteKey("ns", "foo"), "canary", "/")),
    ("nope-foo.ns.svc.cluster.local", "/", None),
    ("foo.other.svc.cluster.local", "/", None),
    (None, "/", None),
    # the path form wins over any Host
    ("foo.ns.svc.cluster.local", "/serving/ns/bar/@t/z", Address(RouteKey("ns", "bar"), "t", "/z")),
])
def test_table_address(host: str | None, path: str, want: Address | None) -> None:
    table = traffic.Table()
    table.set_route(SPLIT)
    assert table.address(host, path) == want


def test_table_replace_and_remove_forget_old_hosts() -> None:
    table = traffic.Table()
    table.set_route(SPLIT)
    table.set_route(route("foo", [{"revisionName": "foo-00002", "percent": 100}]))
    assert table.address("canary-foo.ns.svc.cluster.local", "/") is None
    assert table.address("foo.ns.svc.cluster.local", "/") is not None
    table.remove_route("ns", "foo")
    assert table.address("foo.ns.svc.cluster.local", "/") is None
    assert table.targets(RouteKey("ns", "foo")) is None


def test_sync_keeps_exactly_the_given_routes() -> None:
    table = traffic.Table()
    table.set_route(SPLIT)
    table.sync([route("bar", [{"revisionName": "bar-00001", "percent": 100}])])
    assert table.targets(RouteKey("ns", "foo")) is None
    assert table.address("canary-foo.ns.svc.cluster.local", "/") is None
    bar = Address(RouteKey("ns", "bar"), None, "/")
    assert table.address("bar.ns.svc.cluster.local", "/") == bar


@pytest.mark.parametrize("tag, want", [
    ("stable", "foo-00001"),
    ("canary", "foo-00003"),  # 100% to the tag although its percent is 0
    ("missing", None),
])
def test_choose_by_tag(tag: str, want: str | None) -> None:
    assert traffic.choose(traffic.targets_of(SPLIT), tag, random.Random(1)) == want


@pytest.mark.parametrize("targets, want", [
    ((Target("a", 100),), {"a"}),
    ((Target("a", 0), Target("b", 100)), {"b"}),
    ((Target("a", 0, "t"), Target("b", 100)), {"b"}),
    ((Target("a", 30), Target("a", 70)), {"a"}),  # entries of one revision merge
    ((), {None}),
    ((Target("a", 0, "t"),), {None}),  # only tags: the route's own address takes nothing
])
def test_choose_by_percent_table(targets: tuple[Target, ...], want: set) -> None:
    rng = random.Random(7)
    assert {traffic.choose(targets, None, rng) for _ in range(200)} == want


def test_split_is_deterministic_with_a_seed() -> None:
    targets = traffic.targets_of(SPLIT)
    draws = [traffic.choose(targets, None, random.Random(42)) for _ in range(3)]
    assert len(set(draws)) == 1


def test_fifty_fifty_over_400_requests_stays_within_binomial_bounds() -> None:
    table = traffic.Table()
    table.set_route(SPLIT)
    address = table.address("foo.ns.svc.cluster.local", "/")
    assert address is not None
    n = 400
    for seed in range(20):
        rng = random.Random(seed)
        first = sum(table.choose(address, rng) == "foo-00001" for _ in range(n))
        # Binomial(400, 0.5): sd = 10; 4 sd either side is p < 1e-4 per run.
        assert abs(first - n / 2) <= 4 * math.sqrt(n * 0.25), (seed, first)


def test_split_follows_percent_proportions() -> None:
    targets = (Target("a", 10), Target("b", 90))
    rng = random.Random(3)
    n = 10_000
    a = sum(traffic.choose(targets, None, rng) == "a" for _ in range(n))
    assert abs(a - 1000) <= 4 * math.sqrt(n * 0.1 * 0.9)
