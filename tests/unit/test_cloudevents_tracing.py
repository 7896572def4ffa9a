"""W3C traceparent helpers: validity, new traces, and child spans of one trace."""

from __future__ import annotations

import random

import pytest

from ripple import cloudevents as ce

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (PARENT, True),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", True),
        ("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future", True),
        ("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", True),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", False),
        ("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x", False),
        ("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", False),
        ("00-00000000000000000000000000000000-b7ad6b7169203331-01", False),
        ("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", False),
        ("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", False),
        ("00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01", False),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01", False),
        ("", False),
        (None, False),
    ],
)
def test_is_valid_traceparent(value: str | None, valid: bool) -> None:
    assert ce.is_valid_traceparent(value) is valid


@pytest.mark.parametrize(
    ("parent", "same_trace", "flags"),
    [
        (PARENT, True, "01"),
        (PARENT[:-2] + "00", True, "00"),
        ("01" + PARENT[2:] + "-future", True, "01"),  # a later version is answered in 00
        (None, False, "01"),
        ("garbage", False, "01"),
        ("00-00000000000000000000000000000000-b7ad6b7169203331-01", False, "01"),
    ],
)
def test_child_traceparent(parent: str | None, same_trace: bool, flags: str) -> None:
    child = ce.child_traceparent(parent)
    assert ce.is_valid_traceparent(child) and len(child) == 55 and child.startswith("00-")
    assert (parent is not None and child[3:35] == parent[3:35]) is same_trace
    assert parent is None or child[36:52] != parent[36:52]
    assert child[53:] == flags


@pytest.mark.parametrize("sampled", [True, False])
def test_new_traceparent(sampled: bool) -> None:
    values = {ce.new_traceparent(sampled=sampled) for _ in range(100)}
    assert len(values) == 100
    assert all(
        ce.is_valid_traceparent(v) and v.endswith("-01" if sampled else "-00") for v in values
    )


def test_ids_come_from_the_given_rng() -> None:
    assert ce.new_traceparent(rng=random.Random(7)) == ce.new_traceparent(rng=random.Random(7))
    assert ce.child_traceparent(PARENT, rng=random.Random(7)) == ce.child_traceparent(
        PARENT, rng=random.Random(7)
    )


class Draws(random.Random):
    """Hands out the given draws, in order."""

    def __init__(self, *draws: int) -> None:
        super().__init__()
        self.draws = list(draws)

    def getrandbits(self, k: int) -> int:
        return self.draws.pop(0)


@pytest.mark.parametrize("draws, expected", [
    ((1 << 64 | 2,), "00-00000000000000000000000000000001-0000000000000002-01"),
    ((0, 1 << 64 | 3), "00-00000000000000000000000000000001-0000000000000003-01"),  # both zero
    ((5, 1 << 64 | 4), "00-00000000000000000000000000000001-0000000000000004-01"),  # trace id zero
    ((5 << 64, 1 << 64 | 7), "00-00000000000000000000000000000001-0000000000000007-01"),  # span id zero
])
def test_all_zero_ids_are_drawn_again(draws: tuple[int, ...], expected: str) -> None:
    assert ce.new_traceparent(rng=Draws(*draws)) == expected
