"""channels.idling: which parked queues may share one multi-stream read (one Cluster slot)."""

from __future__ import annotations

import pytest

from channels import idling
from ripple import keys


@pytest.mark.parametrize("key, slot", [
    ("123456789", 12739),          # Redis Cluster spec: CRC16 of "123456789" is 0x31C3
    ("{123456789}.queue", 12739),  # only the hash tag is hashed
    ("a{}b", idling.slot_of("a{}b")),
])
def test_slot_of(key: str, slot: int) -> None:
    assert idling.slot_of(key) == slot


@pytest.mark.parametrize("streams, slots", [
    ([keys.broker_queue("ns", "b", f"t{i}") for i in range(100)], 1),
    ([keys.channel_queue("ns", "c", f"s{i}") for i in range(10)], 1),
    ([keys.broker_queue("ns", "b1", "t"), keys.broker_queue("ns", "b2", "t")], 2),
    ([keys.source_queue("PingSource", "ns", "p"), keys.source_queue("PingSource", "ns", "p")], 1),
])
def test_the_queues_of_one_broker_or_channel_share_a_read(streams: list[str], slots: int) -> None:
    assert len({idling.slot_of(s) for s in streams}) == slots
