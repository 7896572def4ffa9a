"""The CRDs generated from `ripple.api` (`manifests/kubernetes/crds.yaml`).

- the committed file is what `ripple manifests crds` prints (stale: regenerate it);
- one apiextensions.k8s.io/v1 CRD per served non-core kind, every served version, the
  status subresource, Knative's names, categories and printer columns;
- every schema is structural, and every CRD passes `kubernetes-validate --strict` for
  Kubernetes 1.30 and the newest version kubernetes-validate ships;
- Knative's documentation manifests (shared/testdata/knative-docs/valid) of every kind with
  a CRD validate against its schema with strict field validation, as `kubectl apply` sends
  them, except the `<placeholder>` templates; the few that the schema refuses are exactly
  ones Ripple's admission refuses too (KAFKA_* templates, fields not indented under spec).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

import ripple.api  # noqa: F401  (registers the kinds)
from ripple import errors
from ripple.api import crds, loading, registry
from tests.support import kube_schemas

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "manifests" / "kubernetes" / "crds.yaml"
DOCS = Path(os.environ.get("RIPPLE_KNATIVE_DOCS") or
            ROOT.parent / "shared" / "testdata" / "knative-docs")
CRDS = crds.make_crds()
BY_KIND = {crd["spec"]["names"]["kind"]: crd for crd in CRDS}
K8S_VERSIONS = ("1.30.0", str(kubernetes_validate.utils.latest_version()))


def test_the_committed_file_is_what_the_command_prints() -> None:
    printed = subprocess.run([sys.executable, "-m", "ripple.cli.main", "manifests", "crds"],
                             capture_output=True, text=True, check=True).stdout
    assert printed == crds.render()
    assert COMMITTED.read_text() == printed, (
        "manifests/kubernetes/crds.yaml is stale: run "
        "`ripple manifests crds > manifests/kubernetes/crds.yaml`")


def test_one_crd_per_served_kind_outside_the_core_group() -> None:
    served = {k.kind for k in registry.kinds()}
    assert set(BY_KIND) == served - {"Secret", "ConfigMap"}
    assert {"Service", "Configuration", "Revision", "Route"} <= set(BY_KIND)
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(COMMITTED.read_text())] == \
        [c["metadata"]["name"] for c in CRDS]


def test_kafka_source_serves_v1_stored_and_v1beta1() -> None:
    versions = BY_KIND["KafkaSource"]["spec"]["versions"]
    assert [(v["name"], v["served"], v["storage"]) for v in versions] == \
        [("v1", True, True), ("v1beta1", True, False)]
    assert versions[0]["schema"] == versions[1]["schema"]


NAMES = [
    ("Broker", None, ["all", "knative", "eventing"]),
    ("Trigger", None, ["all", "knative", "eventing"]),
    ("Channel", ["ch"], ["all", "knative", "messaging", "channel"]),
    ("InMemoryChannel", ["imc"], ["all", "knative", "messaging", "channel"]),
    ("Subscription", ["sub"], ["all", "knative", "messaging"]),
    ("Sequence", None, ["all", "knative", "flows"]),
    ("Parallel", None, ["all", "knative", "flows"]),
    ("PingSource", None, ["all", "knative", "eventing", "sources"]),
    ("KafkaSource", None, ["all", "knative", "eventing", "sources"]),
    ("Service", ["ksvc", "kservice"], ["all", "knative", "serving"]),
    ("Configuration", ["config", "cfg"], ["all", "knative", "serving"]),
    ("Revision", ["rev"], ["all", "knative", "serving"]),
    ("Route", ["rt"], ["all", "knative", "serving"]),
]


@pytest.mark.parametrize("kind,short,categories", NAMES)
def test_knative_names_and_categories(kind: str, short: list[str] | None,
                                      categories: list[str]) -> None:
    names = BY_KIND[kind]["spec"]["names"]
    assert names.get("shortNames") == short
    assert names["categories"] == categories
    assert BY_KIND[kind]["spec"]["scope"] == "Namespaced"


@pytest.mark.parametrize("kind", sorted(BY_KIND))
def test_status_subresource_and_printer_columns(kind: str) -> None:
    for version in BY_KIND[kind]["spec"]["versions"]:
        assert version["subresources"] == {"status": {}}
        columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
        assert columns["Ready"] == '.status.conditions[?(@.type=="Ready")].status'
        assert columns["Reason"] == '.status.conditions[?(@.type=="Ready")].reason'
        if kind in ("Broker", "Channel", "InMemoryChannel", "Sequence", "Parallel"):
            assert columns["URL"] == ".status.address.url"
        if kind in ("Service", "Route"):
            assert columns["URL"] == ".status.url"


@pytest.mark.parametrize("kind", sorted(BY_KIND))
def test_schemas_are_structural(kind: str) -> None:
    for version in BY_KIND[kind]["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        assert kube_schemas.structural_problems(schema) == []
        assert schema["properties"]["status"]["x-kubernetes-preserve-unknown-fields"] is True


@pytest.mark.parametrize("k8s", K8S_VERSIONS)
def test_crds_pass_kubernetes_validate_strict(k8s: str) -> None:
    for crd in yaml.safe_load_all(COMMITTED.read_text()):
        kubernetes_validate.validate(crd, k8s, strict=True)  # raises on the first error


def test_kubernetes_validate_refuses_a_broken_crd() -> None:
    broken = json.loads(json.dumps(BY_KIND["Broker"]))
    broken["spec"]["versions"][0]["served"] = "yes"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)


def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for crd in CRDS:
        for version in crd["spec"]["versions"]:
            key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            found[key] = kube_schemas.strict(version["schema"]["openAPIV3Schema"])
    return found


def _documents() -> list[tuple[str, dict[str, Any]]]:
    schemas = _schemas()
    docs = []
    for path in sorted((DOCS / "valid").glob("*.yaml")):
        for i, doc in enumerate(loading.load_documents(path.read_text())):
            if (doc.get("apiVersion"), doc.get("kind")) in schemas and "<" not in json.dumps(doc):
                docs.append((f"{path.name}#{i}", doc))
    return docs


@pytest.mark.skipif(not DOCS.is_dir(), reason=f"{DOCS} is absent")
def test_knative_docs_validate_against_the_schemas() -> None:
    schemas = _schemas()
    documents = _documents()
    assert len(documents) >= 100
    refused = {}
    for name, doc in documents:
        found = list(jsonschema.Draft7Validator(schemas[(doc["apiVersion"], doc["kind"])])
                     .iter_errors(doc))
        if found:
            refused[name] = found
            with pytest.raises(errors.Invalid):  # Ripple's admission refuses it too
                loading.admit(doc)
    assert sorted(refused) == [
        "knative-docs__code-samples_eventing_kafka_binding_event-source.yaml#0",
        "knative-docs__eventing_sinks_job-sink__block03.yaml#0",
        "knative-docs__eventing_sources_kafka-source_README__block06.yaml#0",
        "knative-docs__eventing_sources_kafka-source_README__block07.yaml#0",
        "knative-docs__eventing_sources_kafka-source_event-source.yaml#0",
    ]
    kinds = {doc["kind"] for _, doc in documents}
    assert {"Broker", "Trigger", "Service", "KafkaSource", "Sequence", "Parallel"} <= kinds


def test_strict_schema_refuses_a_misplaced_field() -> None:
    schema = _schemas()[("eventing.knative.dev/v1", "Trigger")]
    doc = {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger", "metadata": {"name": "t"},
           "spec": {"broker": "default", "filter": {"subscriber": {"uri": "http://x"}}}}
    with pytest.raises(jsonschema.ValidationError, match="subscriber"):
        jsonschema.validate(doc, schema)
