"""`ripple service`, `revision` and `route` over HTTP, against the fake API of `test_cli_fakeapi`.

The fake is taught Revision and Route, and a stand-in for the serving reconcilers: each
stored Service whose template changed gets the next generation, a Revision `NAME-0000N`,
and a Ready status with its traffic resolved, so `create` and `update` see what the real
server reports and their wait ends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import test_cli_fakeapi
from test_cli_fakeapi import Handler, State, api, ripple

from ripple.cli.commands import common, service

__all__ = ["api"]  # the fixture, imported for pytest

SERVICES = "/apis/serving.knative.dev/v1/namespaces/default/services"
REVISIONS = "/apis/serving.knative.dev/v1/namespaces/default/revisions"


def reconcile(state: State, path: str, obj: dict[str, Any]) -> None:
    """What the serving reconcilers would write: generation, a Revision, a Ready status."""
    if obj.get("kind") != "Service" or "/services/" not in path:
        return
    meta = obj["metadata"]
    name = meta["name"]
    old = state.objects.get(path)
    generation = (old or {}).get("metadata", {}).get("generation", 0)
    if old is None or old["spec"] != obj["spec"]:
        generation += 1
    meta["generation"] = generation
    revision = f"{name}-{generation:05d}"
    if old is None or old["spec"]["template"] != obj["spec"]["template"]:
        state.objects[f"{REVISIONS}/{revision}"] = {
            "metadata": {"name": revision, "namespace": "default",
                         "creationTimestamp": "2024-05-01T00:00:00Z",
                         "labels": {service.SERVICE_LABEL: name,
                                    service.GENERATION_LABEL: str(generation)}},
            "spec": obj["spec"]["template"]["spec"],
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "actualReplicas": 0, "desiredReplicas": 0},
        }
    else:
        revision = old["status"]["latestReadyRevisionName"]
    traffic = []
    for target in obj["spec"].get("traffic") or [{"percent": 100, "latestRevision": True}]:
        resolved = {**target, "revisionName": target.get("revisionName") or revision}
        if target.get("tag"):
            resolved["url"] = f"http://{target['tag']}-{name}.default.svc.cluster.local"
        traffic.append(resolved)
    obj["status"] = {
        "observedGeneration": generation,
        "conditions": [{"type": t, "status": "True"}
                       for t in ("Ready", "ConfigurationsReady", "RoutesReady")],
        "latestCreatedRevisionName": revision, "latestReadyRevisionName": revision,
        "url": f"http://{name}.default.svc.cluster.local",
        "address": {"url": f"http://127.0.0.1:8080/serving/default/{name}"},
        "traffic": traffic,
    }


@pytest.fixture
def serving(monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = [
        {"group": "serving.knative.dev", "version": "v1", "kind": kind, "plural": plural,
         "singular": kind.lower(), "shortNames": [], "namespaced": True}
        for kind, plural in (("Revision", "revisions"), ("Route", "routes"))
    ]
    monkeypatch.setattr(test_cli_fakeapi, "DISCOVERY", [*test_cli_fakeapi.DISCOVERY, *kinds])
    for kind in kinds:
        monkeypatch.setitem(test_cli_fakeapi.PLURALS, kind["plural"], kind)
    store = Handler._store

    def reconciling_store(self: Handler, path: str, obj: dict) -> dict:
        reconcile(self.state, path, obj)
        return store(self, path, obj)

    monkeypatch.setattr(Handler, "_store", reconciling_store)
    # The fake stamps every object 2024-05-01T00:00:00Z: every AGE is then 90s.
    monkeypatch.setattr(common, "now", lambda: datetime(2024, 5, 1, 0, 1, 30, tzinfo=UTC))


def test_create_waits_and_prints_the_url(
    serving: None, api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    assert ripple(url, "service", "create", "hello", "--command", "python -m http.server",
                  "--env", "TARGET=world", "--concurrency-limit", "10", "--scale-min", "1",
                  "--scale-max", "3", "--tag", "@latest=current") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Creating Service 'hello' in namespace 'default':"
    assert lines[2].endswith("s Ready to serve.")
    assert lines[-2:] == ["Service 'hello' created to latest revision 'hello-00001' is "
                          "available at URL:", "http://127.0.0.1:8080/serving/default/hello"]
    (posted,) = [s.json() for s in state.seen if s.method == "POST"]
    assert posted["metadata"] == {"name": "hello", "namespace": "default"}
    tmpl = posted["spec"]["template"]
    assert tmpl["spec"] == {
        "containers": [{"command": ["python"], "args": ["-m", "http.server"],
                        "env": [{"name": "TARGET", "value": "world"}]}],
        "containerConcurrency": 10,
    }
    assert {k: v for k, v in tmpl["metadata"]["annotations"].items()
            if k != service.UPDATE_TIMESTAMP} == {
        "autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/max-scale": "3"}
    assert posted["spec"]["traffic"] == [
        {"percent": 100, "latestRevision": True, "tag": "current"}]


def test_update_makes_a_revision_splits_traffic_and_lists_it(
    serving: None, api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    assert ripple(url, "service", "create", "s", "--image", "img", "--command", "v1",
                  "--no-wait") == 0
    assert capsys.readouterr().out == "Service 's' created in namespace 'default'.\n"
    assert ripple(url, "service", "update", "s", "--command", "v2", "-e", "A=1") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Updating Service 's' in namespace 'default':"
    assert out[-2] == "Service 's' updated to latest revision 's-00002' is available at URL:"

    assert ripple(url, "service", "update", "s", "--traffic", "s-00001=50,@latest=50",
                  "--tag", "s-00001=old") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == ("Service 's' with latest revision 's-00002' (unchanged) is available "
                       "at URL:")
    stored = state.objects[f"{SERVICES}/s"]
    assert stored["spec"]["template"]["spec"]["containers"] == [
        {"image": "img", "command": ["v2"], "env": [{"name": "A", "value": "1"}]}]
    assert stored["spec"]["traffic"] == [
        {"percent": 50, "latestRevision": True},
        {"percent": 50, "tag": "old", "revisionName": "s-00001", "latestRevision": False},
    ]

    assert ripple(url, "revision", "list") == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["NAME", "SERVICE", "TRAFFIC", "TAGS", "GENERATION", "AGE",
                              "CONDITIONS", "READY", "REASON"]
    assert [row.split() for row in rows] == [
        ["s-00002", "s", "50%", "2", "90s", "1", "OK", "/", "1", "True"],
        ["s-00001", "s", "50%", "old", "1", "90s", "1", "OK", "/", "1", "True"],
    ]
    assert ripple(url, "revision", "delete", "s-00001") == 1
    assert capsys.readouterr().err == (
        "Error: revision 's-00001' has 50% of its traffic and the tag 'old' in service 's': "
        "first run ripple service update s --untag old --traffic ...\n")
    assert f"{REVISIONS}/s-00001" in state.objects

    assert ripple(url, "revision", "list", "-o", "json") == 0
    listed = capsys.readouterr().out
    assert "client.knative.dev/traffic" not in listed  # the table's notes stay in the table

    assert ripple(url, "service", "list") == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["NAME", "URL", "LATEST", "AGE", "CONDITIONS", "READY", "REASON"]
    assert row.split()[:3] == ["s", "http://127.0.0.1:8080/serving/default/s", "s-00002"]
    assert row.split()[-5:] == ["3", "OK", "/", "3", "True"]

    assert ripple(url, "service", "describe", "s") == 0
    described = capsys.readouterr().out.splitlines()
    assert "Revisions:" in described
    at = described.index("Revisions:")
    assert described[at + 1] == "   50%  @latest (s-00002) [2] (90s)"
    assert described[at + 2] == "        Command:   v2"
    assert described[at + 5] == "   50%  s-00001 #old [1] (90s)"


def test_update_with_nothing_to_change_and_bad_traffic(
    serving: None, api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    assert ripple(url, "service", "create", "s", "--command", "v1", "--no-wait") == 0
    capsys.readouterr()
    assert ripple(url, "service", "update", "s") == 1
    assert capsys.readouterr().err == (
        "Error: service update: nothing to change; give a template flag (--command, --env...) "
        "or --traffic, --tag, --untag\n")
    assert ripple(url, "service", "update", "s", "--traffic", "s-00001=50,@latest=40") == 1
    assert capsys.readouterr().err == (
        "Error: --traffic: the percents add up to 90, they must add up to 100\n")
    assert ripple(url, "service", "update", "s", "--traffic", "s-00009=100") == 1
    assert "service s has no revision or tag 's-00009'" in capsys.readouterr().err
    assert ripple(url, "service", "update", "s", "--traffic", "@latest=100") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Service 's' updated in namespace 'default'.", "No new revision has been created."]
    assert not [s for s in state.seen if s.method == "PUT"]


def test_create_without_a_workload_and_delete(
    serving: None, api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    assert ripple(url, "service", "create", "s", "--image", "i", "--wait-timeout", "0") == 1
    assert capsys.readouterr().err == "Error: --wait-timeout 0: must be seconds above 0\n"
    assert ripple(url, "service", "create", "s") == 1
    assert capsys.readouterr().err == (
        "Error: service create: give --command, --function or --image\n")
    assert ripple(url, "service", "create", "s", "--function", "nowhere.py:main") == 1
    assert "Error: --function 'nowhere.py:main': no file " in capsys.readouterr().err
    assert ripple(url, "service", "create", "s", "--image", "img", "--no-wait") == 0
    assert ripple(url, "service", "delete", "s") == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Service 's' successfully deleted in namespace 'default'.")
    assert f"{SERVICES}/s" not in state.objects
    assert ripple(url, "route", "list") == 0
    assert capsys.readouterr().out == "No routes found.\n"


def test_route_list_and_describe(
    serving: None, api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    state.objects["/apis/serving.knative.dev/v1/namespaces/default/routes/s"] = {
        "metadata": {"name": "s", "namespace": "default",
                     "creationTimestamp": "2024-05-01T00:00:00Z"},
        "status": {
            "url": "http://s.default.svc.cluster.local",
            "address": {"url": "http://127.0.0.1:8080/serving/default/s"},
            "conditions": [{"type": "Ready", "status": "True"}],
            "traffic": [
                {"revisionName": "s-00002", "latestRevision": True, "percent": 90},
                {"revisionName": "s-00001", "latestRevision": False, "percent": 10,
                 "tag": "old", "url": "http://old-s.default.svc.cluster.local"},
            ],
        },
    }
    assert ripple(url, "route", "list") == 0
    assert capsys.readouterr().out.splitlines() == [
        "NAME   URL                                  READY",
        "s      http://s.default.svc.cluster.local   True",
    ]
    assert ripple(url, "route", "describe", "s") == 0
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("Traffic Targets:")
    assert lines[at + 1:at + 3] == [
        "  90%   @latest (s-00002)",
        "  10%   s-00001             #old   http://old-s.default.svc.cluster.local",
    ]
    assert ripple(url, "route", "describe", "s", "-o", "url") == 0
    assert capsys.readouterr().out == "http://127.0.0.1:8080/serving/default/s\n"


def test_a_revision_out_of_the_traffic_can_be_deleted(
    serving: None, api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    assert ripple(url, "service", "create", "s", "--command", "v1", "--no-wait") == 0
    assert ripple(url, "service", "update", "s", "--command", "v2", "--tag", "s-00001=old",
                  "--no-wait") == 0
    assert ripple(url, "revision", "delete", "s-00001") == 1
    assert "has the tag 'old'" in capsys.readouterr().err
    assert ripple(url, "service", "update", "s", "--untag", "old", "--no-wait") == 0
    assert ripple(url, "revision", "delete", "s-00001") == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Revision 's-00001' deleted in namespace 'default'.")
    assert f"{REVISIONS}/s-00001" not in state.objects
