"""`ripple manifests`, `ripple operator`, `ripple data-plane`, `ripple router`: bad setups
end in one line naming what is missing, exit 1, no traceback."""

from __future__ import annotations

import pytest
import yaml

from ripple.cli import main


@pytest.mark.parametrize("argv,message", [
    (["operator"], "'ripple operator' needs the shared Redis the data plane reports to: "
                   "--redis-url or RIPPLE_REDIS_URL"),
    (["data-plane"], "'ripple data-plane' needs the shared Redis: --redis-url or RIPPLE_REDIS_URL"),
    (["router"], "'ripple router' needs the shared Redis: --redis-url or RIPPLE_REDIS_URL"),
    (["operator", "--redis-url", "redis://127.0.0.1:1"], "no Kubernetes configuration: "),
    (["data-plane", "--redis-url", "redis://127.0.0.1:1"], "no Kubernetes configuration: "),
    (["router", "--redis-url", "redis://127.0.0.1:1/0?replica_acks=all"],
     "--redis-url: replica_acks: must be a whole number of replicas from 0 to 16, got 'all'"),
    (["operator", "--redis-url", "redis+cluster://a:7000,:7001"],
     "--redis-url: 'redis+cluster://a:7000,:7001' names no host in a seed; "),
    (["data-plane", "--redis-url", "localhost:6379"], "--redis-url: 'localhost:6379' is not a Redis URL; "),
])
def test_a_missing_setup_is_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.delenv("RIPPLE_REDIS_URL", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    assert main.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {message}")
    assert err.count("\n") == 1


def test_manifests_crds_prints_every_crd(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["manifests", "crds"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert len(docs) == 15
    assert all(d["kind"] == "CustomResourceDefinition" for d in docs)


def test_operator_scope_flags() -> None:
    parser = main.build_parser()
    assert parser.parse_args(["operator", "-n", "a", "-n", "b"]).namespace == ["a", "b"]
    assert parser.parse_args(["operator", "--all-namespaces"]).all_namespaces is True
    with pytest.raises(SystemExit):
        parser.parse_args(["operator", "-n", "a", "--all-namespaces"])
