"""`ripple.heap.settle`: start-up's survivors frozen out of later full collections, and
what comes after collected as usual."""

from __future__ import annotations

import gc
import weakref

from ripple import heap


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_survivors_are_frozen_and_later_garbage_is_still_collected() -> None:
    kept = [Node() for _ in range(100)]
    try:
        frozen = heap.settle()
        assert frozen >= len(kept) and gc.get_freeze_count() == frozen
        assert not any(gc.is_tracked(n) and n in gc.get_objects(generation=2) for n in kept[:3])
        later = cycle()
        gc.collect()
        assert later() is None  # a cycle made after settle: collected
    finally:
        gc.unfreeze()
