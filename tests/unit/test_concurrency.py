"""Tables for channels.concurrency: the AIMD in-flight limit of a delivery queue."""

from __future__ import annotations

import pytest

from channels import concurrency


def run(limit: concurrency.Limit, script: str, in_flight: int | None = None) -> list[int]:
    """`s` a success with the queue full (or at `in_flight`), `f` a congestion; the limits after each."""
    seen = []
    for step in script:
        if step == "s":
            limit.on_success(limit.limit if in_flight is None else in_flight)
        else:
            limit.on_failure()
        seen.append(limit.limit)
    return seen


@pytest.mark.parametrize(
    "ceiling, floor, script, in_flight, limits",
    [
        (64, 2, "", None, []),  # starts at the floor: see test_starts_at_the_floor
        (64, 2, "ssss", None, [3, 4, 5, 6]),  # additive per answer: doubles per round trip
        (4, 2, "ssss", None, [3, 4, 4, 4]),  # never above the ceiling
        (64, 2, "s" * 62 + "f", None, [*range(3, 65), 32]),  # a congestion halves
        (64, 2, "s" * 62 + "ffffff", None, [*range(3, 65), 32, 16, 8, 4, 2, 2]),  # down to the floor
        (64, 1, "sssfff", None, [2, 3, 4, 2, 1, 1]),  # a floor of 1 when asked
        (64, 2, "ffs", None, [2, 2, 3]),  # at the floor a success still counts
        (64, 2, "ssssss", 1, [3, 3, 3, 3, 3, 3]),  # a trickle uses one slot: no drift upwards
        (64, 2, "ssss", 3, [3, 4, 5, 6]),  # half the limit in use is enough to grow
        (64, 2, "ssssss", 3, [3, 4, 5, 6, 7, 7]),  # 3 of 7 is not
        (1, 2, "ssf", None, [1, 1, 1]),  # a ceiling under the floor (ordered) wins
    ],
)
def test_limit(ceiling, floor, script, in_flight, limits) -> None:
    assert run(concurrency.Limit(ceiling, floor), script, in_flight) == limits


def test_starts_at_the_floor() -> None:
    assert concurrency.Limit(64).limit == concurrency.FLOOR == 2


@pytest.mark.parametrize(
    "status, congested",
    [
        (None, True),  # timed out or no connection
        (429, True), (503, True), (504, True),
        (200, False), (202, False), (204, False),
        (500, False), (502, False),  # prompt answers about the event, not the load
        (400, False), (404, False), (408, False), (409, False), (422, False),
    ],
)
def test_congested(status, congested) -> None:
    assert concurrency.congested(status) is congested


def test_on_answer_routes_by_status() -> None:
    limit = concurrency.Limit(64)
    limit.on_answer(200, in_flight=2)
    limit.on_answer(500, in_flight=3)
    assert limit.limit == 4
    limit.on_answer(None, in_flight=4)
    assert limit.limit == 2


def test_a_steady_congestion_rate_saws_under_two_over_p() -> None:
    # one congestion every 10 answers (p = 0.1): between (1 - p)/p = 9 and 2(1 - p)/p = 18
    limit = concurrency.Limit(64)
    seen = []
    for i in range(2000):
        limit.on_answer(503 if i % 10 == 9 else 200, in_flight=limit.limit)
        seen.append(limit.limit)
    assert (min(seen[-1000:]), max(seen[-1000:])) == (8, 17)
