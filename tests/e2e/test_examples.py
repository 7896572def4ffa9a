"""Every example in manifests/examples/ applies to a running mesh and becomes Ready."""

from __future__ import annotations

from pathlib import Path

import pytest

from ripple.api import loading, registry
from tests.support.mesh import Mesh

pytestmark = pytest.mark.e2e

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "manifests" / "examples").iterdir())


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_applies_and_becomes_ready(mesh: Mesh, example: Path) -> None:
    mesh.cli("apply", "-f", str(example))
    for file in sorted(example.glob("*.yaml")):
        for doc in loading.load_documents(file.read_text()):
            kind = registry.lookup(doc["apiVersion"], doc["kind"])
            ns = doc["metadata"].get("namespace", "default")
            path = f"/apis/{kind.group}/{kind.version}/namespaces/{ns}/{kind.plural}/{doc['metadata']['name']}"
            if kind.group:
                mesh.wait_ready(path, timeout=30)
