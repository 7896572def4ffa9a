"""Which offsets may be committed while records finish out of order. Pure; the Kafka
adapter (`sources.kafka.adapter`) calls `started` when it takes a record, `finished` when
its delivery is final (delivered, dead-lettered or dropped), and commits `committable()`.

Kafka commits one position per partition: "everything before this offset is done". With
concurrent delivery a later record can finish first, so the position only advances over
the prefix of records that all finished: it is one past the last record of that prefix.
The prefix follows the order the records were taken, not offset arithmetic, because a
partition's offsets can have gaps (compaction, transaction markers); a position inside a
gap is fine, Kafka resumes at the next record after it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)
"""A partition's identity: aiokafka's TopicPartition, or any hashable."""


class PartitionOffsets:
    """One partition: the records taken, in order, and which of them finished."""

    def __init__(self) -> None:
        self._taken: deque[int] = deque()
        self._finished: set[int] = set()
        self._newest: int | None = None
        self._position: int | None = None  # one past the newest record of the done prefix
        self.committed: int | None = None

    def started(self, offset: int) -> None:
        if self._newest is not None and offset <= self._newest:
            raise ValueError(f"offset {offset} taken out of order (after {self._newest})")
        self._newest = offset
        self._taken.append(offset)

    def finished(self, offset: int) -> None:
        if offset in self._finished or offset not in self._taken:
            raise ValueError(f"offset {offset} is not in flight")
        self._finished.add(offset)
        while self._taken and self._taken[0] in self._finished:
            done = self._taken.popleft()
            self._finished.discard(done)
            self._position = done + 1

    @property
    def in_flight(self) -> int:
        """Records taken and not finished."""
        return len(self._taken) - len(self._finished)

    @property
    def window(self) -> int:
        """Records taken past the position: in flight, or finished behind one that is."""
        return len(self._taken)

    @property
    def position(self) -> int | None:
        """The offset to commit: every record before it finished. None before the first."""
        return self._position

    def committable(self) -> int | None:
        """The position, if it moved past what was committed."""
        if self._position is None or self._position == self.committed:
            return None
        return self._position


class Offsets(Generic[P]):
    """Every partition of one consumer."""

    def __init__(self) -> None:
        self._partitions: dict[P, PartitionOffsets] = {}

    def started(self, partition: P, offset: int) -> None:
        self._partitions.setdefault(partition, PartitionOffsets()).started(offset)

    def finished(self, partition: P, offset: int) -> None:
        tracked = self._partitions.get(partition)
        if tracked is None:
            raise ValueError(f"partition {partition!r} is not tracked")
        tracked.finished(offset)

    def in_flight(self, partition: P | None = None) -> int:
        """Records in flight in one partition, or in all of them."""
        if partition is not None:
            tracked = self._partitions.get(partition)
            return tracked.in_flight if tracked else 0
        return sum(p.in_flight for p in self._partitions.values())

    def window(self, partition: P | None = None) -> int:
        """Records taken past the position in one partition, or in all of them: what a
        consumer holds in memory and would get again after a crash."""
        if partition is not None:
            tracked = self._partitions.get(partition)
            return tracked.window if tracked else 0
        return sum(p.window for p in self._partitions.values())

    def committable(self, partitions: Iterable[P] | None = None) -> dict[P, int]:
        """The positions worth committing: those that moved since the last commit."""
        chosen = self._partitions if partitions is None else {
            p: self._partitions[p] for p in partitions if p in self._partitions}
        found = {p: tracked.committable() for p, tracked in chosen.items()}
        return {p: position for p, position in found.items() if position is not None}

    def committed(self, positions: dict[P, int]) -> None:
        """Record a successful commit of `positions`."""
        for partition, position in positions.items():
            tracked = self._partitions.get(partition)
            if tracked is not None:
                tracked.committed = position

    def forget(self, partitions: Iterable[P]) -> None:
        """Drop partitions this consumer no longer owns (revoked, or being stopped)."""
        for partition in partitions:
            self._partitions.pop(partition, None)

    def partitions(self) -> list[P]:
        return list(self._partitions)
