"""Tables for sources.kafka.offsets: the committed position only advances over the prefix
of records that all finished, whatever order they finish in."""

from __future__ import annotations

import pytest

from sources.kafka import offsets


@pytest.mark.parametrize(
    "case, taken, finished, position",
    [
        ("nothing taken", [], [], None),
        ("taken, none finished", [0, 1, 2], [], None),
        ("in order", [0, 1, 2], [0, 1], 2),
        ("all finished", [0, 1, 2], [0, 1, 2], 3),
        ("a later one first: held back", [0, 1, 2], [2, 1], None),
        ("the gap closes", [0, 1, 2], [2, 1, 0], 3),
        ("a hole in the middle", [0, 1, 2, 3], [0, 2, 3], 1),
        ("offsets with gaps (compaction): one past the last done", [5, 9, 12], [5, 9], 10),
        ("gaps, all finished", [5, 9, 12], [12, 5, 9], 13),
        ("starting mid-log", [1000, 1001], [1000], 1001),
    ],
)
def test_position(case, taken, finished, position) -> None:
    tracked = offsets.PartitionOffsets()
    for offset in taken:
        tracked.started(offset)
    for offset in finished:
        tracked.finished(offset)
    assert tracked.position == position, case
    assert tracked.in_flight == len(taken) - len(finished)


@pytest.mark.parametrize(
    "case, taken, finished",
    [
        ("finished twice", [0, 1], [0, 0]),
        ("never taken", [0], [1]),
    ],
)
def test_finishing_what_is_not_in_flight_is_a_bug(case, taken, finished) -> None:
    tracked = offsets.PartitionOffsets()
    for offset in taken:
        tracked.started(offset)
    with pytest.raises(ValueError):
        for offset in finished:
            tracked.finished(offset)


@pytest.mark.parametrize("taken", [[3, 3], [3, 2], [0, 1, 1]])
def test_taking_out_of_order_is_a_bug(taken) -> None:
    tracked = offsets.PartitionOffsets()
    with pytest.raises(ValueError):
        for offset in taken:
            tracked.started(offset)


def test_taking_after_the_done_prefix_keeps_order() -> None:
    tracked = offsets.PartitionOffsets()
    tracked.started(0)
    tracked.finished(0)
    with pytest.raises(ValueError):
        tracked.started(0)
    tracked.started(1)
    assert tracked.position == 1


def test_committable_only_when_the_position_moved() -> None:
    all_offsets: offsets.Offsets[tuple[str, int]] = offsets.Offsets()
    a, b = ("t", 0), ("t", 1)
    for offset in range(3):
        all_offsets.started(a, offset)
    all_offsets.started(b, 7)
    assert all_offsets.committable() == {}
    all_offsets.finished(a, 1)
    assert all_offsets.committable() == {}  # 0 still in flight
    all_offsets.finished(a, 0)
    all_offsets.finished(b, 7)
    assert all_offsets.committable() == {a: 2, b: 8}
    assert all_offsets.committable([b]) == {b: 8}
    all_offsets.committed({a: 2, b: 8})
    assert all_offsets.committable() == {}
    all_offsets.finished(a, 2)
    assert all_offsets.committable() == {a: 3}
    assert all_offsets.in_flight() == 0


def test_in_flight_counts_per_partition_and_in_all() -> None:
    all_offsets: offsets.Offsets[str] = offsets.Offsets()
    for offset in range(4):
        all_offsets.started("p0", offset)
    all_offsets.started("p1", 0)
    all_offsets.finished("p0", 2)
    assert (all_offsets.in_flight("p0"), all_offsets.in_flight("p1"), all_offsets.in_flight()) == (3, 1, 4)
    assert all_offsets.in_flight("unknown") == 0


def test_forgotten_partitions_start_over() -> None:
    all_offsets: offsets.Offsets[str] = offsets.Offsets()
    all_offsets.started("p0", 5)
    all_offsets.forget(["p0"])
    assert all_offsets.partitions() == [] and all_offsets.committable() == {}
    all_offsets.started("p0", 3)  # reassigned: read again from the committed offset
    all_offsets.finished("p0", 3)
    assert all_offsets.committable() == {"p0": 4}
    with pytest.raises(ValueError):
        all_offsets.finished("gone", 0)


def test_window_counts_what_a_crash_would_redeliver() -> None:
    all_offsets: offsets.Offsets[str] = offsets.Offsets()
    for offset in range(5):
        all_offsets.started("p0", offset)
    all_offsets.started("p1", 0)
    for offset in (1, 2, 3):  # finished, but behind offset 0, which is not
        all_offsets.finished("p0", offset)
    assert (all_offsets.in_flight("p0"), all_offsets.window("p0")) == (2, 5)
    all_offsets.finished("p0", 0)
    assert (all_offsets.in_flight("p0"), all_offsets.window("p0")) == (1, 1)
    assert all_offsets.window() == 2 and all_offsets.window("unknown") == 0
