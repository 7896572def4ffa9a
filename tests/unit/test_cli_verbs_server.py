"""Issue #16's CLI verbs against the real API server, in process (`test_cli_apply_server`'s
fixture): apply's "no objects", `delete KIND --all`, `get -o wide|jsonpath`, the Trigger
update dialects, `--wait` and `ripple wait`, and the source and flow verbs.

The server is the local platform's API app over a memory store, with the real registry and
admission; no controller runs, so a test that needs a condition writes it as the
controller would (through the store), the one thing these tests stand in for.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli_apply_server import InProcess, ripple, server

__all__ = ["server"]  # the fixture, imported for pytest

BROKER = """\
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: {name}
"""


def test_apply_of_a_dir_with_manifests_only_in_subdirectories_is_an_error(
    server: type[InProcess], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: exit 0 and nothing applied. kubectl: "no objects passed to apply", and -R.
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text(BROKER.format(name="deep"))
    assert ripple("apply", "-f", str(tmp_path)) == 1
    assert capsys.readouterr().err == (
        "Error: no objects passed to apply (the manifests are in subdirectories: "
        "add -R/--recursive)\n")
    assert [m for m, _ in server.seen] == []  # refused before any request
    assert ripple("apply", "-R", "-f", str(tmp_path)) == 0
    assert capsys.readouterr().out == "broker.eventing.knative.dev/deep created\n"
    assert ripple("apply", "--recursive", "-f", str(tmp_path)) == 0
    assert capsys.readouterr().out == "broker.eventing.knative.dev/deep unchanged\n"


@pytest.mark.parametrize("argv", [["apply", "-f"], ["delete", "-f"]])
def test_an_empty_dir_or_file_is_no_objects(
    server: type[InProcess], tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing\n---\n")
    assert ripple(*argv, str(tmp_path / "empty.yaml")) == 1
    verb = argv[0]
    assert capsys.readouterr().err == f"Error: no objects passed to {verb}\n"
    assert ripple(*argv, str(tmp_path)) == 1


def test_delete_kind_all_deletes_only_that_namespace(
    server: type[InProcess], capsys: pytest.CaptureFixture[str]
) -> None:
    for name, ns in (("a", "default"), ("b", "default"), ("c", "other")):
        assert ripple("broker", "create", name, "-n", ns) == 0
    capsys.readouterr()
    assert ripple("delete", "broker", "--all") == 0
    assert capsys.readouterr().out == (
        'broker.eventing.knative.dev "a" deleted\nbroker.eventing.knative.dev "b" deleted\n')
    assert ripple("get", "brokers", "-A", "-o", "name") == 0
    assert capsys.readouterr().out == "broker.eventing.knative.dev/c\n"
    assert ripple("delete", "broker", "--all") == 0
    assert capsys.readouterr().out == "No brokers found in default namespace.\n"
    assert ripple("delete", "broker", "x", "--all") == 1
    assert capsys.readouterr().err == "Error: give either NAME... or --all, not both\n"


def test_get_wide_and_jsonpath(server: type[InProcess], capsys: pytest.CaptureFixture[str]) -> None:
    assert ripple("broker", "create", "b1") == 0
    assert ripple("trigger", "create", "t1", "--broker", "b1", "--filter", "type=x",
                  "--sink", "http://s.example/") == 0
    capsys.readouterr()
    assert ripple("get", "triggers", "-o", "wide") == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["NAME", "BROKER", "SINK", "AGE", "FILTER", "SUBSCRIBER-URI", "BACKLOG",
                              "GENERATION", "OBSERVED", "CONDITIONS", "READY", "REASON"]
    assert row.split()[:2] == ["t1", "b1"] and "type=x" in row.split()
    assert ripple("get", "triggers", "-o", "jsonpath={.items[*].metadata.name}") == 0
    assert capsys.readouterr().out == "t1\n"
    assert ripple("get", "trigger", "t1", "-o", "jsonpath={.spec.filter.attributes.type}") == 0
    assert capsys.readouterr().out == "x\n"
    assert ripple("trigger", "list", "-o", "jsonpath={range .items[*]}{.spec.broker}{end}") == 0
    assert capsys.readouterr().out == "b1\n"


@pytest.mark.parametrize("fmt, says", [
    ("go-template={{.metadata.name}}", "go-template is not supported"),
    ("jsonpath={.items[?(@.a)]}", "unsupported syntax"),
])
def test_an_unsupported_output_is_refused_before_any_request(
    server: type[InProcess], capsys: pytest.CaptureFixture[str], fmt: str, says: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        ripple("get", "triggers", "-o", fmt)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "argument -o/--output" in err
    assert server.seen == []


TRIGGER_WITH_FILTERS = """\
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: t
spec:
  broker: default
  filter:
    attributes:
      type: legacy
  filters:
    - exact:
        type: dev.a
    - prefix:
        source: /x
  subscriber:
    uri: http://s.example/
"""


def test_trigger_update_filter_writes_the_dialect_that_takes_effect(
    server: type[InProcess], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: `filter.attributes` was written beside `filters`, which take precedence:
    # "updated", and the Trigger filtered exactly as before.
    manifest = tmp_path / "t.yaml"
    manifest.write_text(TRIGGER_WITH_FILTERS)
    assert ripple("apply", "-f", str(manifest)) == 0
    capsys.readouterr()
    assert ripple("trigger", "update", "t", "--filter", "type=dev.b", "--filter", "subject=s") == 0
    assert capsys.readouterr().out == (
        "Trigger 't' updated in namespace 'default' (spec.filters, which take precedence).\n")
    assert ripple("get", "trigger", "t", "-o", "json") == 0
    spec = __import__("json").loads(capsys.readouterr().out)["spec"]
    assert spec["filters"] == [{"exact": {"type": "dev.b"}}, {"prefix": {"source": "/x"}},
                               {"exact": {"subject": "s"}}]
    assert spec["filter"] == {"attributes": {"type": "legacy"}}  # untouched, as it is inert

    assert ripple("trigger", "update", "t", "--filter", "source-") == 1
    assert "has no top-level exact filter on 'source'" in capsys.readouterr().err
    assert ripple("trigger", "update", "t", "--filter", "type=dev.b") == 0
    assert capsys.readouterr().out == (
        "Trigger 't' unchanged in namespace 'default': it already has that filter and sink.\n")


def test_trigger_update_removing_a_filter_it_lacks_is_refused(
    server: type[InProcess], capsys: pytest.CaptureFixture[str]
) -> None:
    assert ripple("trigger", "create", "t", "--filter", "type=x", "--sink", "http://s/") == 0
    assert ripple("trigger", "update", "t", "--filter", "source-") == 1
    assert capsys.readouterr().err.endswith(
        "Error: --filter source-: the Trigger has no filter on 'source'\n")
    assert ripple("trigger", "update", "t", "--filter", "type-") == 0
    assert capsys.readouterr().out.endswith("Trigger 't' updated in namespace 'default'.\n")


# --- `ripple wait`, and `--wait` on create and apply ---------------------------------------

from ripple.cli import client  # noqa: E402
from ripple.cli.commands import waiting  # noqa: E402


def mark_ready(served: type[InProcess], plural: str, name: str, status: str = "True") -> None:
    """What the controller does: write Ready on the object's status subresource."""
    api = served("http://in-process")
    path = f"/apis/eventing.knative.dev/v1/namespaces/default/{plural}/{name}"
    obj = api.call("GET", path)
    obj["status"] = {"observedGeneration": obj["metadata"].get("generation", 1),
                     "conditions": [{"type": "Ready", "status": status, "reason": "Test",
                                     "message": "set by the test"}]}
    api.call("PUT", path + "/status", obj)


@pytest.fixture
def controller(server: type[InProcess], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Between two polls, mark every Broker and Trigger Ready; returns the polls' log."""
    polls: list[str] = []

    def act(_seconds: float) -> None:
        polls.append("pause")
        api = server("http://in-process")
        for plural in ("brokers", "triggers"):
            path = f"/apis/eventing.knative.dev/v1/namespaces/default/{plural}"
            for item in api.call("GET", path).get("items", []):
                mark_ready(server, plural, item["metadata"]["name"])

    monkeypatch.setattr(waiting, "pause", act)
    return polls


def test_wait_for_condition_ready(
    server: type[InProcess], controller: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert ripple("broker", "create", "b") == 0
    capsys.readouterr()
    assert ripple("wait", "broker", "b", "--for", "condition=Ready", "--timeout", "60s") == 0
    assert capsys.readouterr().out == "broker.eventing.knative.dev/b condition met\n"
    assert controller == ["pause"]  # it polled until the controller acted, then stopped
    assert ripple("wait", "brokers/b", "--for=condition=Ready") == 0
    assert ripple("wait", "broker", "--all", "--for", "condition=Ready=True") == 0
    assert capsys.readouterr().out == "broker.eventing.knative.dev/b condition met\n" * 2


def test_wait_times_out_with_kubectl_s_message(
    server: type[InProcess], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ripple("broker", "create", "b") == 0
    mark_ready(server, "brokers", "b", "False")
    capsys.readouterr()
    # Nothing makes it Ready: the wait ends at the timeout, whatever the machine's speed.
    assert ripple("wait", "broker", "b", "--for", "condition=Ready", "--timeout", "0.2s") == 1
    assert capsys.readouterr().err == (
        "Error: timed out waiting for the condition Ready=True on brokers/b; last: "
        "Ready=False Test: set by the test\n")


@pytest.mark.parametrize("argv, says", [
    (["wait", "broker", "b", "--for", "delete"], "Ripple waits for condition=TYPE[=STATUS]"),
    (["wait", "broker", "--for", "condition=Ready"], "wait needs KIND NAME"),
    (["wait", "broker", "nope", "--for", "condition=Ready"], 'brokers.eventing.knative.dev "nope"'),
])
def test_wait_errors(server: type[InProcess], capsys: pytest.CaptureFixture[str],
                     argv: list[str], says: str) -> None:
    assert ripple(*argv) == 1
    assert says in capsys.readouterr().err


def test_create_wait_and_apply_wait(
    server: type[InProcess], controller: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert ripple("broker", "create", "b", "--wait", "--wait-timeout", "30s") == 0
    assert capsys.readouterr().out == (
        "Broker 'b' successfully created in namespace 'default'.\n"
        "broker.eventing.knative.dev/b condition met\n")
    manifest = tmp_path / "m.yaml"
    manifest.write_text(BROKER.format(name="c") + "---\napiVersion: v1\nkind: Secret\n"
                        "metadata:\n  name: s\nstringData:\n  a: b\n")
    assert ripple("apply", "-f", str(manifest), "--wait", "--timeout", "1m") == 0
    assert capsys.readouterr().out == (
        "broker.eventing.knative.dev/c created\nsecret/s created\n"
        "broker.eventing.knative.dev/c condition met\n")  # a Secret has no conditions


def test_create_wait_fails_on_ready_false(
    server: type[InProcess], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(waiting, "pause", lambda _s: mark_ready(server, "brokers", "b", "False"))
    monkeypatch.setattr(waiting, "ERROR_WINDOW", 0.0)
    assert ripple("broker", "create", "b", "--wait") == 1
    assert capsys.readouterr().err == (
        "Error: brokers/b is not ready: Test: set by the test\n")


@pytest.mark.parametrize("text, seconds", [
    ("60s", 60), ("2m", 120), ("1h30m", 5400), ("90", 90), ("0.5s", 0.5), ("1m30s", 90)])
def test_parse_timeout(text: str, seconds: float) -> None:
    assert waiting.parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "soon", "-1s", "1d"])
def test_parse_timeout_refuses(text: str) -> None:
    with pytest.raises(client.errors.Invalid):
        waiting.parse_timeout(text)


@pytest.mark.parametrize("text, expected", [
    ("condition=Ready", ("Ready", "True")), ("condition=Ready=False", ("Ready", "False")),
    ("condition=Addressable", ("Addressable", "True"))])
def test_parse_for(text: str, expected: tuple[str, str]) -> None:
    assert waiting.parse_for(text) == expected


# --- GitHubSource, GitLabSource, Sequence and Parallel verbs -------------------------------

import json  # noqa: E402

from ripple import errors  # noqa: E402
from ripple.cli.commands import flows  # noqa: E402


def got(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    capsys.readouterr()
    assert ripple("get", *argv, "-o", "json") == 0
    return json.loads(capsys.readouterr().out)


def test_github_source_verbs(server: type[InProcess], capsys: pytest.CaptureFixture[str]) -> None:
    assert ripple("source", "github", "create", "gh", "--org", "knative", "--repo", "eventing",
                  "--event-types", "push,pull_request", "--secret-token", "s3cr3t",
                  "--access-token", "t0k", "--register-webhook", "--sink", "http://s.example/",
                  "--ce-override", "team=a") == 0
    assert capsys.readouterr().out == ("secret/gh-tokens created\n"
                                       "GitHubSource 'gh' created in namespace 'default'.\n")
    obj = got(capsys, "githubsource", "gh")
    assert obj["metadata"]["annotations"] == {"ripple.dev/register-webhook": "true"}
    assert obj["spec"]["ownerAndRepository"] == "knative/eventing"
    assert obj["spec"]["eventTypes"] == ["push", "pull_request"]
    assert obj["spec"]["secretToken"] == {"secretKeyRef": {"name": "gh-tokens", "key": "secretToken"}}
    assert obj["spec"]["ceOverrides"] == {"extensions": {"team": "a"}}
    assert got(capsys, "secret", "gh-tokens")["metadata"]["name"] == "gh-tokens"

    assert ripple("source", "github", "update", "gh", "--event-types", "push") == 0
    assert capsys.readouterr().out == "GitHubSource 'gh' updated in namespace 'default'.\n"
    assert got(capsys, "githubsource", "gh")["spec"]["eventTypes"] == ["push"]
    assert ripple("source", "github", "update", "gh", "--event-types", "push") == 0
    assert capsys.readouterr().out == "GitHubSource 'gh' unchanged in namespace 'default'.\n"
    assert ripple("source", "github", "list") == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("gh ")
    assert ripple("source", "list") == 0
    assert "GitHubSource" in capsys.readouterr().out
    assert ripple("source", "github", "describe", "gh") == 0
    assert "ownerAndRepository: knative/eventing" in capsys.readouterr().out
    assert ripple("source", "github", "delete", "gh") == 0
    assert capsys.readouterr().out == "GitHubSource 'gh' deleted in namespace 'default'.\n"


@pytest.mark.parametrize("argv, says", [
    (["--event-types", "push"], "--secret-token or --secret-token-ref is required"),
    (["--event-types", "push", "--secret-token", "x", "--register-webhook"],
     "--register-webhook needs --access-token"),
    (["--event-types", "push", "--secret-token-ref", "nokey"], "expected SECRET:KEY"),
    (["--event-types", "nope", "--secret-token", "x"], "spec.eventTypes[0]"),  # admission's
])
def test_github_source_create_errors(server: type[InProcess], capsys: pytest.CaptureFixture[str],
                                     argv: list[str], says: str) -> None:
    assert ripple("source", "github", "create", "gh", "--org", "o", "--sink", "http://s/",
                  *argv) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("Error: ") and says in line


def test_gitlab_source_verbs(server: type[InProcess], capsys: pytest.CaptureFixture[str]) -> None:
    assert ripple("source", "gitlab", "create", "gl", "--project-url",
                  "https://gitlab.com/group/project", "--event-types", "push_events",
                  "--secret-token-ref", "mine:token", "--sink", "http://s.example/") == 0
    assert capsys.readouterr().out == "GitLabSource 'gl' created in namespace 'default'.\n"
    spec = got(capsys, "gitlabsource", "gl")["spec"]
    assert spec["projectUrl"] == "https://gitlab.com/group/project"
    assert spec["secretToken"] == {"secretKeyRef": {"name": "mine", "key": "token"}}
    assert ripple("source", "gitlab", "update", "gl", "--sink", "http://other.example/") == 0
    assert got(capsys, "gitlabsource", "gl")["spec"]["sink"] == {"uri": "http://other.example/"}
    assert ripple("source", "gitlab", "update", "gl") == 1
    assert "nothing to update" in capsys.readouterr().err
    assert ripple("source", "gitlab", "delete", "gl") == 0


def test_sequence_and_parallel_verbs(server: type[InProcess],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert ripple("sequence", "create", "seq", "--step", "http://one.example/",
                  "--step", "http://two.example/", "--reply", "http://end.example/") == 0
    assert capsys.readouterr().out == "Sequence 'seq' created in namespace 'default'.\n"
    spec = got(capsys, "sequence", "seq")["spec"]
    assert [s["uri"] for s in spec["steps"]] == ["http://one.example/", "http://two.example/"]
    assert spec["reply"] == {"uri": "http://end.example/"}
    assert ripple("parallel", "create", "par", "--branch", "http://a.example/", "--branch",
                  "subscriber=http://b.example/,filter=http://f.example/", "--channel", "imc") == 0
    spec = got(capsys, "parallel", "par")["spec"]
    assert spec["branches"] == [
        {"subscriber": {"uri": "http://a.example/"}},
        {"subscriber": {"uri": "http://b.example/"}, "filter": {"uri": "http://f.example/"}}]
    assert spec["channelTemplate"]["kind"] == "InMemoryChannel"
    for group, name in (("sequence", "seq"), ("parallel", "par")):
        capsys.readouterr()
        assert ripple(group, "list") == 0
        assert capsys.readouterr().out.splitlines()[1].startswith(name)
        assert ripple(group, "describe", name) == 0
        assert ripple(group, "delete", name) == 0
    assert ripple("sequence", "list") == 0
    assert capsys.readouterr().out.endswith("No sequences found.\n")


@pytest.mark.parametrize("text, expected", [
    ("ksvc:a", {"subscriber": "ksvc:a"}),
    ("http://x/?a=b", {"subscriber": "http://x/?a=b"}),
    ("subscriber=s,filter=f,reply=r", {"subscriber": "s", "filter": "f", "reply": "r"}),
    ("reply=r,subscriber=s", {"subscriber": "s", "reply": "r"}),
])
def test_parse_branch(text: str, expected: dict) -> None:
    assert flows.parse_branch(text, lambda sink: sink) == expected  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize("text, says", [
    ("filter=f", "needs a subscriber"), ("subscriber=a,subscriber=b", "given twice"),
    ("subscriber=a,other=b", "a branch is SINK"), ("subscriber=", "a branch is SINK")])
def test_parse_branch_refuses(text: str, says: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        flows.parse_branch(text, lambda sink: {"uri": sink})
    assert says in str(caught.value)
