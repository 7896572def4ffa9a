"""ripple.rediscluster's pure parts: the cluster URL's rules, the key that routes a command,
and the start check's reading of `INFO cluster` and `CLUSTER INFO`."""

from __future__ import annotations

import pytest

from ripple import keys, rediscluster, redisclient


@pytest.mark.parametrize("url, problem", [
    ("redis+cluster://cache:7000", None),
    ("redis+cluster://cache", None),                              # redis-py's default port
    ("rediss+cluster://user:pw@cache:7000/0?ssl_ca_certs=/ca.pem", None),
    ("redis+cluster://cache:7000/", None),
    ("redis://cache:7000", "is not a Redis Cluster URL; write it as redis+cluster://HOST:PORT"),
    ("redis+cluster://cache:7000/1", "a Redis Cluster has one database, 0; drop '/1'"),
    ("redis+cluster://a:7000,b:7000", None),                      # seeds: any that answers
    ("rediss+cluster://u:pw@a:7000,b:7001,c/0", None),
    ("redis+cluster://a:7000,,b:7000", "names no host in a seed"),
    ("redis+cluster://a:7000,b:port", "bad port"),
    ("redis+cluster://:7000", "names no host"),
    ("redis+cluster://cache:port", "bad port"),
    ("redis+cluster://cache:0x10", "bad port"),
])
def test_cluster_url_rules(url: str, problem: str | None) -> None:
    if problem is None:
        assert rediscluster.check_url(url) == url
    else:
        with pytest.raises(ValueError, match=problem.replace("+", r"\+").replace("?", r"\?")):
            rediscluster.check_url(url)


@pytest.mark.parametrize("url, seeds", [
    ("redis+cluster://cache:7000", ["redis://cache:7000"]),
    ("rediss+cluster://u:pw@cache:7000/0?ssl_ca_certs=/ca.pem", ["rediss://u:pw@cache:7000/0?ssl_ca_certs=/ca.pem"]),
    ("redis+cluster://u:pw@a:7000,b:7001/0", ["redis://u:pw@a:7000/0", "redis://u:pw@b:7001/0"]),
    ("redis+cluster://a:7000,b", ["redis://a:7000", "redis://b"]),
    ("redis://cache:6379/0", ["redis://cache:6379/0"]),
])
def test_each_seed_nodes_url_is_redis_pys(url: str, seeds: list[str]) -> None:
    assert rediscluster.seeds(url) == seeds
    assert rediscluster.is_cluster_url(url) is (url != seeds[0])


@pytest.mark.parametrize("args, key", [
    (("XADD", "k", "*", "a", "1"), "k"),
    (("XACK", "k", "g", "1-1"), "k"),
    (("ZADD", "z", 1.0, "m"), "z"),
    (("EVALSHA", "a" * 40, 2, "k1", "k2", "arg"), "k1"),
    (("EVALSHA", "a" * 40, 0, "arg"), None),                      # no key: redis-py routes it
    (("XREADGROUP", "GROUP", "g", "c", "COUNT", 10, "BLOCK", 2000, "STREAMS", "k1", "k2", ">", ">"), "k1"),
    (("XREADGROUP", "GROUP", "g", "c", b"STREAMS", "k", ">"), "k"),
    (("XREADGROUP", "GROUP", "STREAMS", "c", "STREAMS", "k", ">"), "k"),  # a group named STREAMS
    (("XGROUP", "CREATE", "k", "g", "0"), "k"),
    (("PING",), None),
])
def test_the_key_that_routes_a_command(args: tuple, key: str | None) -> None:
    assert rediscluster.first_key(args) == key


def test_every_hot_command_is_routed_by_a_key() -> None:
    """The lean path sends each `redisclient.HOT` command to its key's node; one that
    `first_key` did not know would be routed by a word that is not its key."""
    assert redisclient.HOT == {"XADD", "XREADGROUP", "XACK", "XDEL", "ZADD", "EVALSHA"}


INFO = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_known_nodes:3\r\n"


@pytest.mark.parametrize("text, problem", [
    (INFO, None),
    (INFO.encode(), None),
    ("cluster_state:fail\r\ncluster_slots_assigned:10923\r\ncluster_slots_ok:10923\r\ncluster_known_nodes:2\r\n",
     "cluster_state:fail (slots assigned 10923, ok 10923 of 16384; known nodes 2)"),
    ("", "cluster_state:unknown (slots assigned ?, ok ? of 16384; known nodes ?)"),
])
def test_a_cluster_serves_only_when_its_state_is_ok(text: str | bytes, problem: str | None) -> None:
    assert rediscluster.problem(rediscluster.parse_info(text)) == problem


@pytest.mark.parametrize("url, enabled, wanted", [
    ("redis+cluster://h:7000", "1", None),
    ("redis://h:6379/0", "0", None),
    ("redis+cluster://h:7000", "0",
     "the store at SHOWN is not a Redis Cluster node (INFO cluster: cluster_enabled:0); for one "
     "server write redis://h:7000/0"),
    ("redis+cluster://h1:7000,h2:7000", "0",
     "the store at SHOWN is not a Redis Cluster node (INFO cluster: cluster_enabled:0); for one "
     "server write redis://h1:7000/0"),
    ("rediss+cluster://u:pw@h:7000", "0",
     "the store at SHOWN is not a Redis Cluster node (INFO cluster: cluster_enabled:0); for one "
     "server write rediss://h:7000/0"),
    ("redis://:pw@h:7000/0", "1",
     "the store at SHOWN is a Redis Cluster node (INFO cluster: cluster_enabled:1); write "
     "redis+cluster://h:7000"),
    ("rediss://h:7000/0", "1",
     "the store at SHOWN is a Redis Cluster node (INFO cluster: cluster_enabled:1); write "
     "rediss+cluster://h:7000"),
])
def test_the_url_and_the_server_must_agree_on_cluster(url: str, enabled: str, wanted: str | None) -> None:
    """The URL to write instead never repeats a password."""
    assert rediscluster.mismatch(url, "SHOWN", {"cluster_enabled": enabled}) == wanted


def test_the_resource_store_is_one_slot() -> None:
    """Each write is one script over a kind's hash, the version and the change stream."""
    store = [keys.RESOURCE_VERSION, keys.RESOURCE_CHANGES, keys.resources("eventing.knative.dev/v1", "brokers"),
             keys.resources("v1", "secrets")]
    assert {keys.hash_tag(k) for k in store} == {"res"}
    assert keys.untagged(keys.RESOURCE_VERSION) == "ripple:res:rv"
    assert keys.untagged(keys.resources("v1", "secrets")) == "ripple:res:v1:secrets"
