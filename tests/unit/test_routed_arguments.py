"""`appending.routed_arguments`: the KEYS and ARGV of the broker ingress's routed append
script (`channels.appending._APPEND_ROUTED`), pure; the script itself runs in
tests/integration/test_routing.py."""

from __future__ import annotations

import pytest

from channels import appending
from ripple import keys

Q1, Q2 = "q:{b}:1", "q:{b}:2"
GROUP = keys.FANOUT_GROUP

CASES = [
    pytest.param([], [], [GROUP], id="nothing"),
    pytest.param([({b"a": b"1"}, [])], [], [GROUP, 2, b"a", b"1", 0], id="matched-none"),
    pytest.param([({b"a": b"1"}, None)], [], [GROUP, 2, b"a", b"1", -1], id="not-routed"),
    pytest.param([({b"a": b"1", b"d": b"x"}, [Q1, Q2])], [Q1, Q2],
                 [GROUP, 4, b"a", b"1", b"d", b"x", 2, 2, 3], id="two-queues"),
    pytest.param([({b"a": b"1"}, [Q2]), ({b"a": b"2"}, [Q1, Q2]), ({b"a": b"3"}, None)], [Q2, Q1],
                 [GROUP, 2, b"a", b"1", 1, 2, 2, b"a", b"2", 2, 3, 2, 2, b"a", b"3", -1],
                 id="queues-numbered-once-in-order-of-first-use"),
]


@pytest.mark.parametrize(("appends", "queues", "args"), CASES)
def test_routed_arguments(appends, queues, args) -> None:
    assert appending.routed_arguments(appends) == (queues, args)
