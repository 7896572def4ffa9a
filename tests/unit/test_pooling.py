"""ripple.pooling: which idle connections a pool closes, and the bounds it refuses."""

from __future__ import annotations

import pytest

from ripple import pooling


@pytest.mark.parametrize("idle_since, now, keep, closed", [
    ([], 100.0, 4, 0),                                  # nothing idle
    ([0.0, 1.0, 2.0], 100.0, 4, 0),                     # no more than it keeps
    ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 100.0, 4, 2),      # all stale: down to `keep`
    ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 100.0, 0, 6),      # keeping none: every stale one
    ([85.0, 89.9, 90.0, 95.0, 99.0], 100.0, 0, 3),      # idle for exactly the timeout is stale
    ([95.0, 96.0, 97.0, 98.0, 99.0, 99.5], 100.0, 2, 0),  # all used within the timeout
    ([0.0, 95.0, 1.0, 2.0, 3.0], 100.0, 1, 1),          # stops at one used recently: the
                                                        # ones above it wait for the next sweep
])
def test_the_bottom_of_the_idle_stack_idle_too_long_is_closed(
        idle_since: list[float], now: float, keep: int, closed: int) -> None:
    assert pooling.stale(idle_since, now, idle_timeout=10.0, keep=keep) == closed


@pytest.mark.parametrize("options, message", [
    ({"idle_timeout": 0}, "idle_timeout: must be positive, got 0"),
    ({"idle_timeout": -1.0}, "idle_timeout: must be positive, got -1.0"),
    ({"keep_idle": -1}, "keep_idle: must be 0 or more, got -1"),
])
def test_a_pool_refuses_bounds_that_make_no_sense(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pooling.SweptConnectionPool.from_url("redis://127.0.0.1:1/0", **options)
