"""`ripple service` against the real API server in process (registry, defaulting, admission):
what the CLI builds is admitted, an update's merge keeps the server's defaults, and what
admission refuses reaches the user as one line. No reconcilers run, so nothing gets Ready:
these use `--no-wait`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_apply_server import InProcess, ripple, server

__all__ = ["server"]  # the fixture, imported for pytest

PATH = "/apis/serving.knative.dev/v1/namespaces/default/services/hello"


@pytest.fixture
def served(server: type[InProcess]) -> Iterator[InProcess]:
    yield server("http://in-process")


def test_create_then_update_is_admitted(
    served: InProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "fn.py").write_text("def main(event):\n    return None\n")
    monkeypatch.chdir(tmp_path)
    assert ripple("service", "create", "hello", "--function", "fn.py:main", "--env", "A=1",
                  "--concurrency-limit", "4", "--scale-min", "0", "--scale-max", "3",
                  "--scale-target", "2", "--tag", "@latest=current", "--no-wait") == 0
    assert capsys.readouterr().out == "Service 'hello' created in namespace 'default'.\n"
    created = served.call("GET", PATH)
    container = created["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["ripple", "function", "serve", f"{tmp_path}/fn.py:main"]
    assert container["name"] == "user-container"  # the server's default, kept by updates
    assert created["spec"]["traffic"] == [{"percent": 100, "latestRevision": True,
                                           "tag": "current"}]

    assert ripple("service", "update", "hello", "--command", "python -m http.server",
                  "--env", "A-", "--untag", "current", "--no-wait") == 0
    updated = served.call("GET", PATH)
    container = updated["spec"]["template"]["spec"]["containers"][0]
    assert (container["command"], container["args"]) == (["python"], ["-m", "http.server"])
    assert "env" not in container and container["name"] == "user-container"
    annotations = updated["spec"]["template"]["metadata"]["annotations"]
    assert "ripple.dev/function" not in annotations
    assert annotations["autoscaling.knative.dev/max-scale"] == "3"
    assert updated["spec"]["traffic"] == [{"percent": 100, "latestRevision": True}]
    assert updated["metadata"]["generation"] == 2


def test_admission_refusals_are_one_line(
    served: InProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ripple("service", "create", "hello", "--command", "srv", "--annotation",
                  "autoscaling.knative.dev/window=1s", "--no-wait") == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1
    assert "autoscaling.knative.dev/window" in err
    assert ripple("service", "create", "Bad_Name", "--command", "srv", "--no-wait") == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1
