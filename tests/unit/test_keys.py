"""ripple.keys: every key of one broker or channel hashes to the same Redis Cluster slot."""

from __future__ import annotations

import pytest

from ripple import keys


@pytest.mark.parametrize("key, tag", [
    ("ripple:broker:{default/b}:log", "default/b"),
    ("ripple:broker:{default/b}:queue:t", "default/b"),
    ("plain", "plain"),
    ("a{}b", "a{}b"),              # an empty tag hashes the whole key, as Redis does
    ("a{x}{y}", "x"),              # only the first tag counts
    ("a{open", "a{open"),          # no closing brace: no tag
    ("a}b{c}", "c"),
])
def test_hash_tag(key: str, tag: str) -> None:
    assert keys.hash_tag(key) == tag


@pytest.mark.parametrize("group", [
    [keys.broker_log("ns", "b"), keys.broker_queue("ns", "b", "t1"), keys.broker_schedule("ns", "b"),
     keys.broker_dead_letters("ns", "b", "t1"), keys.broker_failures("ns", "b"),
     keys.dead_letter_index(keys.broker_dead_letters("ns", "b", "t1"))],
    [keys.channel_log("ns", "c"), keys.channel_queue("ns", "c", "s1"), keys.channel_schedule("ns", "c"),
     keys.channel_dead_letters("ns", "c", "s1"), keys.channel_failures("ns", "c"),
     keys.dead_letter_index(keys.channel_dead_letters("ns", "c", "s1"))],
    [keys.source_queue("PingSource", "ns", "p"), keys.source_schedule("PingSource", "ns", "p"),
     keys.ping_tick("ns", "p"), keys.source_dead_letters("PingSource", "ns", "p"),
     keys.source_failures("PingSource", "ns", "p"),
     keys.dead_letter_index(keys.source_dead_letters("PingSource", "ns", "p"))],
])
def test_the_keys_of_one_resource_share_a_tag(group: list[str]) -> None:
    assert len({keys.hash_tag(k) for k in group}) == 1


def test_different_brokers_have_different_tags() -> None:
    assert keys.hash_tag(keys.broker_log("ns", "a")) != keys.hash_tag(keys.broker_log("ns", "b"))


def test_a_stores_index_is_no_other_stores_key() -> None:
    """A Trigger's name holds no `:`, so `...:deadletters:t1:ids` is never a Trigger's store."""
    index = keys.dead_letter_index(keys.broker_dead_letters("ns", "b", "t1"))
    assert index == keys.broker_dead_letters("ns", "b", "t1") + ":ids"
    assert index not in {keys.broker_dead_letters("ns", "b", name) for name in ("t1", "ids", "t1-ids")}
