"""`apply`, `delete`, `get`, `describe`, `broker` and `trigger` over HTTP, against the fake API.

Checks the wire (methods, paths, bodies) and the lines users read, kubectl's and kn's.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from test_cli_fakeapi import CLASS, MANIFEST, State, api, ripple

__all__ = ["api"]  # the fixture, imported for pytest

BROKERS = "/apis/eventing.knative.dev/v1/namespaces/default/brokers"
TRIGGERS = "/apis/eventing.knative.dev/v1/namespaces/ns1/triggers"


def writes(state: State) -> list[tuple[str, str]]:
    return [(s.method, s.path) for s in state.seen if s.method != "GET"]


def test_apply_creates_then_leaves_unchanged_then_configures(
    api: tuple[str, State], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    manifest = tmp_path / "m.yaml"
    manifest.write_text(MANIFEST.format(type="dev.x"))
    assert ripple(url, "apply", "-f", str(manifest)) == 0
    assert capsys.readouterr().out.splitlines() == [
        "broker.eventing.knative.dev/default created",
        "trigger.eventing.knative.dev/t1 created",
    ]
    assert writes(state) == [("POST", BROKERS), ("POST", TRIGGERS)]
    assert state.seen[1].json()["metadata"]["namespace"] == "default"  # from -n's default
    assert state.seen[1].headers["content-type"] == "application/json"

    # Again, unchanged: the server's defaulted class annotation is not a difference.
    state.seen.clear()
    assert ripple(url, "apply", "-f", str(manifest)) == 0
    assert capsys.readouterr().out.splitlines() == [
        "broker.eventing.knative.dev/default unchanged",
        "trigger.eventing.knative.dev/t1 unchanged",
    ]
    assert writes(state) == [("POST", BROKERS), ("POST", TRIGGERS)]  # 409s, no PUT

    manifest.write_text(MANIFEST.format(type="dev.changed"))
    version = state.objects[f"{TRIGGERS}/t1"]["metadata"]["resourceVersion"]
    state.seen.clear()
    assert ripple(url, "apply", "-f", str(manifest)) == 0
    assert capsys.readouterr().out.splitlines() == [
        "broker.eventing.knative.dev/default unchanged",
        "trigger.eventing.knative.dev/t1 configured",
    ]
    put = [s for s in state.seen if s.method == "PUT"]
    assert [s.path for s in put] == [f"{TRIGGERS}/t1"]
    assert put[0].json()["metadata"]["resourceVersion"] == version
    assert put[0].json()["spec"]["filter"]["attributes"] == {"type": "dev.changed"}


def test_apply_from_stdin_with_namespace_flag(
    api: tuple[str, State], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    monkeypatch.setattr("sys.stdin", io.StringIO(MANIFEST.format(type="x")))
    assert ripple(url, "apply", "-f", "-", "-n", "team") == 0
    assert writes(state)[0] == ("POST", BROKERS.replace("/default/", "/team/"))
    assert writes(state)[1] == ("POST", TRIGGERS)  # the document's own namespace wins
    assert "created" in capsys.readouterr().out


def test_apply_stops_at_the_first_error_and_names_the_document(
    api: tuple[str, State], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    bad = MANIFEST.format(type="x").replace("  broker: default\n", "")
    third = "---\napiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: never}\n"
    (tmp_path / "m.yaml").write_text(bad + third)
    assert ripple(url, "apply", "-f", str(tmp_path)) == 1
    captured = capsys.readouterr()
    assert captured.out == "broker.eventing.knative.dev/default created\n"
    assert captured.err == (
        f"Error: {tmp_path / 'm.yaml'} (document 2, Trigger/t1): "
        'Trigger "t1" is invalid; spec.broker: required\n'
    )
    assert len(writes(state)) == 2  # the third document was never sent


def test_apply_unknown_kind(
    api: tuple[str, State], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = api
    (tmp_path / "m.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    assert ripple(url, "apply", "-f", str(tmp_path / "m.yaml")) == 1
    assert capsys.readouterr().err.endswith('no matches for kind "ConfigMap" in version "v1"\n')


def test_delete_files(
    api: tuple[str, State], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    (tmp_path / "m.yaml").write_text(MANIFEST.format(type="x"))
    assert ripple(url, "apply", "-f", str(tmp_path)) == 0
    capsys.readouterr()
    state.seen.clear()
    assert ripple(url, "delete", "-f", str(tmp_path)) == 0
    assert capsys.readouterr().out.splitlines() == [
        'broker.eventing.knative.dev "default" deleted',
        'trigger.eventing.knative.dev "t1" deleted',
    ]
    assert writes(state) == [("DELETE", f"{BROKERS}/default"), ("DELETE", f"{TRIGGERS}/t1")]
    assert state.objects == {}
    assert ripple(url, "delete", "-f", str(tmp_path)) == 1
    assert capsys.readouterr().err.endswith('brokers "default" not found\n')
    assert ripple(url, "delete", "-f", str(tmp_path), "--ignore-not-found") == 0


def test_delete_by_name(api: tuple[str, State], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = api
    assert ripple(url, "broker", "create", "b1") == 0
    assert ripple(url, "delete", "brokers", "b1") == 0
    assert capsys.readouterr().out.splitlines()[-1] == 'broker.eventing.knative.dev "b1" deleted'
    assert ripple(url, "delete", "broker", "b1") == 1
    assert capsys.readouterr().err == 'Error: brokers "b1" not found\n'


def test_broker_and_trigger_create_post_knative_objects(
    api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    assert (
        ripple(
            url,
            "broker",
            "create",
            "b",
            "--class",
            "Kafka",
            "--dl-sink",
            "ksvc:dlq",
            "--retry",
            "2",
        )
        == 0
    )
    assert (
        ripple(
            url,
            "trigger",
            "create",
            "t",
            "--broker",
            "b",
            "--filter",
            "type=dev.x",
            "--sink",
            "broker:other:ns2",
            "-n",
            "default",
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines() == [
        "Broker 'b' successfully created in namespace 'default'.",
        "Trigger 't' successfully created in namespace 'default'.",
    ]
    broker, trigger = [s.json() for s in state.seen if s.method == "POST"]
    assert broker["metadata"]["annotations"] == {CLASS: "Kafka"}
    assert broker["spec"]["delivery"] == {
        "retry": 2,
        "deadLetterSink": {
            "ref": {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "name": "dlq",
                "namespace": "default",
            }
        },
    }
    assert trigger["spec"] == {
        "broker": "b",
        "filter": {"attributes": {"type": "dev.x"}},
        "subscriber": {
            "ref": {
                "apiVersion": "eventing.knative.dev/v1",
                "kind": "Broker",
                "name": "other",
                "namespace": "ns2",
            }
        },
    }
    assert ripple(url, "trigger", "update", "t", "--filter", "type-", "--filter", "source=/s") == 0
    stored = state.objects["/apis/eventing.knative.dev/v1/namespaces/default/triggers/t"]
    assert stored["spec"]["filter"] == {"attributes": {"source": "/s"}}


def test_get_table_json_and_unknown_kind(
    api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = api
    assert ripple(url, "get", "brokers") == 0
    assert capsys.readouterr().out == "No brokers found.\n"
    ripple(url, "broker", "create", "b")
    capsys.readouterr()
    assert ripple(url, "get", "broker") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "URL", "AGE", "CONDITIONS", "READY", "REASON"]
    assert lines[1].split()[:2] == ["b", f"{url}/default/b"]
    assert lines[1].split()[-5:] == ["1", "OK", "/", "1", "True"]
    assert ripple(url, "get", "broker", "b", "-o", "json") == 0
    assert json.loads(capsys.readouterr().out)["metadata"]["name"] == "b"
    assert ripple(url, "get", "brokers", "-o", "json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["kind"] == "List" and [i["kind"] for i in listed["items"]] == ["Broker"]
    assert ripple(url, "get", "pods") == 1
    assert capsys.readouterr().err == (
        'Error: unknown kind "pods"; known kinds: broker, service, trigger\n'
    )


def test_describe(api: tuple[str, State], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = api
    ripple(url, "broker", "create", "b")
    capsys.readouterr()
    assert ripple(url, "broker", "describe", "b") == 0
    out = capsys.readouterr().out
    assert out.startswith("Name:         b\nNamespace:    default\n")
    assert f"  URL:        {url}/default/b\n" in out and "  ++   Ready" in out
    assert ripple(url, "describe", "broker", "b", "-o", "url") == 0
    assert capsys.readouterr().out == f"{url}/default/b\n"
