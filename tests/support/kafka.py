"""A real Kafka protocol endpoint for tests: librdkafka's built-in mock cluster, in-process.

No Kafka broker can be installed where the tests run, but the librdkafka that ships in
the confluent-kafka wheel contains a mock cluster that speaks the Kafka wire protocol on
loopback (produce, fetch, consumer groups, offset commits). aiokafka consumes from it
like from a broker, and so does a ripple process started by an e2e test: the cluster
lives, reachable over TCP, as long as this object in the test process.

The cluster is driven through librdkafka's C mock API (`rd_kafka_mock_cluster_new`,
`rd_kafka_mock_topic_create`, ...) with ctypes, because the Python binding exposes only
the `test.mock.num.brokers` property, and the cluster that property starts cannot create
topics on request: it advertises no CreateTopics API and names a controller (id 0) that
is not one of its brokers (ids start at 1), so AdminClient.create_topics times out. It
auto-creates a topic on first use, always with 4 partitions.

Mock quirks the tests plan around:
- the group's initial rebalance delay defaults to 3 s; `MockCluster` sets it to 0;
- a member that joins or leaves makes the group wait up to the session timeout (minus
  1 s) for the others to rejoin, so tests use short sessions (1 s);
- the leader's SyncGroup completes the sync for everyone at once, and a follower whose
  SyncGroup arrives after it gets INVALID_REQUEST (a real broker keeps the follower's
  assignment). aiokafka's leader is quick, so with two members it nearly always loses that
  race: `leader_syncs_last()` delays aiokafka's leader a little. One member alone is fine.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import glob
import os
from collections.abc import Iterator, Sequence
from typing import Any

import confluent_kafka

_RD_KAFKA_PRODUCER = 0


def _library() -> ctypes.CDLL:
    package = os.path.dirname(confluent_kafka.__file__)
    candidates = [
        *glob.glob(os.path.join(os.path.dirname(package), "confluent_kafka.libs", "librdkafka*")),
        *glob.glob(os.path.join(package, ".dylibs", "librdkafka*")),
    ]
    path = candidates[0] if candidates else ctypes.util.find_library("rdkafka")
    if not path:
        raise RuntimeError("librdkafka not found next to confluent_kafka")
    lib = ctypes.CDLL(path)
    p, i, s = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    signatures: dict[str, tuple[list[type], type | None]] = {
        "rd_kafka_conf_new": ([], p),
        "rd_kafka_conf_set": ([p, s, s, s, ctypes.c_size_t], i),
        "rd_kafka_new": ([i, p, s, ctypes.c_size_t], p),
        "rd_kafka_destroy": ([p], None),
        "rd_kafka_mock_cluster_new": ([p, i], p),
        "rd_kafka_mock_cluster_destroy": ([p], None),
        "rd_kafka_mock_cluster_bootstraps": ([p], s),
        "rd_kafka_mock_topic_create": ([p, s, i, i], i),
        "rd_kafka_mock_group_initial_rebalance_delay_ms": ([p, ctypes.c_int32], None),
        "rd_kafka_err2str": ([i], s),
    }
    for name, (args, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = args, result
    return lib


class MockCluster:
    """`with MockCluster() as kafka:` then `kafka.bootstrap`, `create_topic`, `produce`."""

    def __init__(self, brokers: int = 1) -> None:
        self.brokers = brokers
        self.bootstrap = ""
        self._lib: ctypes.CDLL | None = None
        self._handle: int | None = None
        self._cluster: int | None = None
        self._producer: confluent_kafka.Producer | None = None

    def start(self) -> MockCluster:
        lib = self._lib = _library()
        errstr = ctypes.create_string_buffer(512)
        conf = lib.rd_kafka_conf_new()
        lib.rd_kafka_conf_set(conf, b"log_level", b"0", errstr, len(errstr))
        self._handle = lib.rd_kafka_new(_RD_KAFKA_PRODUCER, conf, errstr, len(errstr))
        if not self._handle:
            raise RuntimeError(f"rd_kafka_new failed: {errstr.value.decode()}")
        self._cluster = lib.rd_kafka_mock_cluster_new(self._handle, self.brokers)
        if not self._cluster:
            raise RuntimeError("rd_kafka_mock_cluster_new failed")
        lib.rd_kafka_mock_group_initial_rebalance_delay_ms(self._cluster, 0)
        self.bootstrap = lib.rd_kafka_mock_cluster_bootstraps(self._cluster).decode()
        return self

    def create_topic(self, name: str, partitions: int = 1) -> None:
        assert self._lib is not None and self._cluster is not None, "not started"
        err = self._lib.rd_kafka_mock_topic_create(
            self._cluster, name.encode(), partitions, min(3, self.brokers))
        if err:
            raise RuntimeError(f"creating topic {name}: {self._lib.rd_kafka_err2str(err).decode()}")

    def produce(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
        partition: int | None = None,
        timestamp: int | None = None,
    ) -> tuple[int, int]:
        """Produce one record and wait for it: its (partition, offset)."""
        return self.produce_many(topic, [(value, key, headers, partition, timestamp)])[0]

    def produce_many(
        self,
        topic: str,
        items: Sequence[tuple[bytes | None, bytes | None, Sequence[tuple[str, bytes]] | None,
                              int | None, int | None]],
    ) -> list[tuple[int, int]]:
        """Produce (value, key, headers, partition, timestamp) records, in order, and wait."""
        producer = self._get_producer()
        placed: list[tuple[int, int] | None] = [None] * len(items)
        errors: list[str] = []

        def delivered(index: int):  # type: ignore[no-untyped-def]
            def report(err, message) -> None:  # type: ignore[no-untyped-def]
                if err is not None:
                    errors.append(str(err))
                else:
                    placed[index] = (message.partition(), message.offset())
            return report

        for index, (value, key, headers, partition, timestamp) in enumerate(items):
            kwargs: dict[str, object] = {"key": key, "headers": list(headers or ()),
                                         "on_delivery": delivered(index)}
            if partition is not None:
                kwargs["partition"] = partition
            if timestamp is not None:
                kwargs["timestamp"] = timestamp
            producer.produce(topic, value, **kwargs)  # type: ignore[arg-type]
            producer.poll(0)
        remaining = producer.flush(10)
        if remaining or errors or any(p is None for p in placed):
            raise RuntimeError(f"produce failed: {errors or f'{remaining} undelivered'}")
        return [p for p in placed if p is not None]

    def committed(self, group: str, topic: str, partitions: int = 1) -> list[int | None]:
        """The group's committed offset of each partition (None where nothing was)."""
        consumer = confluent_kafka.Consumer({"bootstrap.servers": self.bootstrap, "group.id": group,
                                             "log_level": 0})
        try:
            found = consumer.committed(
                [confluent_kafka.TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        finally:
            consumer.close()
        return [tp.offset if tp.offset >= 0 else None for tp in found]

    def _get_producer(self) -> confluent_kafka.Producer:
        if self._producer is None:
            self._producer = confluent_kafka.Producer({
                "bootstrap.servers": self.bootstrap, "linger.ms": 0, "log_level": 0,
                "partitioner": "murmur2_random",  # Java's default: keyed records stay together
            })
        return self._producer

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(5)
            self._producer = None
        if self._lib is not None:
            if self._cluster:
                self._lib.rd_kafka_mock_cluster_destroy(self._cluster)
            if self._handle:
                self._lib.rd_kafka_destroy(self._handle)
        self._cluster = self._handle = None

    def __enter__(self) -> MockCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def leader_syncs_last(delay: float = 0.3) -> Iterator[None]:
    """While active, aiokafka's group leader waits `delay` before computing the assignment,
    so its followers' SyncGroup reaches the mock cluster first (see the module docstring)."""
    from aiokafka.consumer import group_coordinator

    coordinator = group_coordinator.GroupCoordinator
    original = coordinator._perform_assignment

    async def perform_assignment(self: Any, response: Any) -> Any:
        await asyncio.sleep(delay)
        return await original(self, response)

    coordinator._perform_assignment = perform_assignment  # type: ignore[method-assign]
    try:
        yield
    finally:
        coordinator._perform_assignment = original  # type: ignore[method-assign]
