"""`manifests/kubernetes/ripple.yaml` and the `Dockerfile`: what `kubectl apply` installs.

Every document passes `kubernetes-validate --strict` for Kubernetes 1.30 and the newest
version it ships; the RBAC names every kind that has a CRD; each Deployment's arguments are
a command `ripple` parses; every Deployment runs the one image the Dockerfile builds.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

import ripple.api  # noqa: F401
from ripple.api import crds
from ripple.cli import main

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifests" / "kubernetes" / "ripple.yaml"
DOCS = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
K8S_VERSIONS = ("1.30.0", str(kubernetes_validate.utils.latest_version()))
PLURALS = sorted(k.plural for k in crds.custom_kinds())


def find(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in DOCS if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


@pytest.mark.parametrize("k8s", K8S_VERSIONS)
def test_every_document_passes_kubernetes_validate_strict(k8s: str) -> None:
    for doc in DOCS:
        kubernetes_validate.validate(doc, k8s, strict=True)


def test_the_namespace_service_accounts_and_config() -> None:
    find("Namespace", "ripple-system")
    for name in ("ripple-controller", "ripple-data-plane", "ripple-router"):
        account = find("ServiceAccount", name)
        assert account["metadata"]["namespace"] == "ripple-system"
    config = find("ConfigMap", "ripple-config")["data"]
    assert config["RIPPLE_REDIS_URL"].startswith("redis://")
    assert config["RIPPLE_INGRESS_URL"] == "http://ripple-ingress.ripple-system.svc.cluster.local"


def test_the_ingress_service_answers_on_port_80_for_the_data_plane() -> None:
    service = find("Service", "ripple-ingress")
    assert service["spec"]["ports"][0]["port"] == 80
    plane = find("Deployment", "ripple-data-plane")
    assert service["spec"]["selector"].items() <= plane["spec"]["template"]["metadata"]["labels"].items()


def _rules(kind: str, name: str) -> list[dict[str, Any]]:
    return find(kind, name)["rules"]


def _verbs(rules: list[dict[str, Any]], group: str, resource: str) -> set[str]:
    return {verb for r in rules if group in r["apiGroups"] and resource in r["resources"]
            for verb in r["verbs"]}


def test_the_controller_may_do_what_the_operator_does_and_no_more() -> None:
    rules = _rules("ClusterRole", "ripple-controller")
    for kind in crds.custom_kinds():
        assert _verbs(rules, kind.group, kind.plural) == \
            {"get", "list", "watch", "create", "update", "patch", "delete"}
        assert _verbs(rules, kind.group, f"{kind.plural}/status") == {"get", "update", "patch"}
        assert _verbs(rules, kind.group, f"{kind.plural}/finalizers") == {"update"}
    assert _verbs(rules, "", "secrets") == {"get", "list", "watch"}
    assert _verbs(rules, "apps", "deployments") >= {"create", "patch", "delete"}
    assert all("*" not in r["verbs"] and "*" not in r["resources"] for r in rules)
    leader = _rules("Role", "ripple-controller-leader")
    assert _verbs(leader, "coordination.k8s.io", "leases") == {"get", "create", "update", "patch"}


def test_the_data_plane_and_router_only_read() -> None:
    for name in ("ripple-data-plane", "ripple-router"):
        for rule in _rules("ClusterRole", name):
            assert set(rule["verbs"]) == {"get", "list", "watch"}


def test_the_rbac_names_every_kind_with_a_crd() -> None:
    rules = _rules("ClusterRole", "ripple-controller")
    named = sorted({res for r in rules for res in r["resources"]
                    if r["apiGroups"][0].endswith("knative.dev") and "/" not in res})
    assert named == PLURALS


def _deployments() -> list[dict[str, Any]]:
    return [d for d in DOCS if d["kind"] == "Deployment"]


def test_the_three_deployments_run_the_one_image_the_dockerfile_builds() -> None:
    assert sorted(d["metadata"]["name"] for d in _deployments()) == \
        ["ripple-controller", "ripple-data-plane", "ripple-router"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    tag = re.search(r"docker build -t (\S+) \.", dockerfile)
    assert tag is not None
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert tag.group(1).endswith(f":{version}")
    for deployment in _deployments():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["image"] == tag.group(1)
        assert container["envFrom"] == [{"configMapRef": {"name": "ripple-config"}}]


def test_the_dockerfile_is_pinned_and_runs_as_non_root() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert bases and all(re.search(r":\d+\.\d+\.\d+-", b) for b in bases)
    assert re.search(r"^USER \d+$", dockerfile, re.M)
    assert 'ENTRYPOINT ["ripple"]' in dockerfile


@pytest.mark.parametrize("name", ["ripple-controller", "ripple-data-plane", "ripple-router"])
def test_each_deployment_runs_a_command_ripple_parses(name: str) -> None:
    (container,) = find("Deployment", name)["spec"]["template"]["spec"]["containers"]
    args = main.build_parser().parse_args(container["args"])
    assert callable(args.handler)
