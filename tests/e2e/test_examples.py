"""Every example in manifests/examples/ applies to a running mesh and becomes Ready.

An example with a KafkaSource gets librdkafka's mock cluster (tests.support.kafka) as its
bootstrap server, the one change made to it; the Kafka example's delivery through the
Broker is checked in test_sources_kafka.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ripple.api import loading, registry
from tests.support.kafka import MockCluster
from tests.support.mesh import Mesh

pytestmark = pytest.mark.e2e

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "manifests" / "examples").iterdir())


@pytest.fixture(scope="module")
def kafka() -> Iterator[MockCluster]:
    with MockCluster() as cluster:
        yield cluster


def documents(example: Path, bootstrap: str) -> list[dict]:
    docs = [doc for file in sorted(example.glob("*.yaml")) for doc in loading.load_documents(file.read_text())]
    for doc in docs:
        if doc["kind"] == "KafkaSource":
            doc["spec"]["bootstrapServers"] = [bootstrap]
    return docs


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_applies_and_becomes_ready(kafka: MockCluster, mesh: Mesh, example: Path) -> None:
    docs = documents(example, kafka.bootstrap)
    if any(doc["kind"] == "KafkaSource" for doc in docs):
        mesh.apply("\n---\n".join(json.dumps(doc) for doc in docs))
    else:
        mesh.cli("apply", "-f", str(example))  # as a user would
    for doc in docs:
        kind = registry.lookup(doc["apiVersion"], doc["kind"])
        ns = doc["metadata"].get("namespace", "default")
        path = f"/apis/{kind.group}/{kind.version}/namespaces/{ns}/{kind.plural}/{doc['metadata']['name']}"
        if kind.group:
            mesh.wait_ready(path, timeout=30)
