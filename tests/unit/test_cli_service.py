"""`ripple service`: parsing, the Service built from flags, traffic, and waiting for Ready.

Pure tables for the builders (`edit_template`, `parse_traffic`, `compute_traffic`,
`wait_ready` on an injected clock); the commands over HTTP are in
`test_cli_service_http.py`.
"""

from __future__ import annotations

import argparse
import io
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ripple import errors
from ripple.cli import main
from ripple.cli.commands import revision, route, service

NOW = datetime(2026, 12, 3, 17, 0, 0, tzinfo=UTC)
STAMP = "2026-12-03T17:00:00Z"


def parse(*argv: str) -> argparse.Namespace:
    return main.build_parser().parse_args(list(argv))


@pytest.mark.parametrize(
    ("argv", "handler", "expected"),
    [
        (["service", "create", "s", "--command", "python app.py"], service.run_create,
         {"name": "s", "run_command": "python app.py", "no_wait": False, "wait_timeout": 600.0}),
        (["ksvc", "create", "s", "--image", "img", "--no-wait", "--wait-timeout", "5"],
         service.run_create, {"image": "img", "no_wait": True, "wait_timeout": 5.0}),
        (["service", "update", "s", "--traffic", "s-00001=50,@latest=50", "--untag", "old"],
         service.run_update, {"traffic": ["s-00001=50,@latest=50"], "untag": ["old"]}),
        (["service", "list", "-A"], service.run_list, {"all_namespaces": True}),
        (["service", "describe", "s", "-o", "url"], service.run_describe, {"output": "url"}),
        (["service", "delete", "s", "-n", "x"], service.run_delete, {"namespace": "x"}),
        (["revision", "list", "-s", "s"], revision.run_list, {"service": "s"}),
        (["revision", "describe", "s-00001", "-o", "yaml"], revision.run_describe,
         {"name": "s-00001", "output": "yaml"}),
        (["revision", "delete", "s-00001"], revision.run_delete, {"name": "s-00001"}),
        (["route", "list"], route.run_list, {"name": None}),
        (["route", "ls", "s", "-o", "json"], route.run_list, {"name": "s", "output": "json"}),
        (["route", "describe", "s"], route.run_describe, {"name": "s", "output": None}),
    ],
)
def test_parsing(argv: list[str], handler: object, expected: dict[str, Any]) -> None:
    args = parse(*argv)
    assert args.handler is handler
    for key, value in expected.items():
        assert getattr(args, key) == value, key


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["service", "create", "s", "--command", "a", "--function", "f.py:h"],
         "argument --function: not allowed with argument --command"),
        (["service", "create", "s", "--concurrency-limit", "many"],
         "argument --concurrency-limit: invalid int value: 'many'"),
        (["service", "create", "s", "--scale-min", "1.5"],
         "argument --scale-min: invalid int value: '1.5'"),
        (["service", "create", "s", "--traffic", "@latest=100"], "unrecognized arguments"),
        (["route", "create", "r"], "invalid choice: 'create'"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main.main(argv)
    assert exit_.value.code == 2
    assert complaint in capsys.readouterr().err


def flags(**given: Any) -> argparse.Namespace:
    names = ("run_command", "function", "image", "env", "concurrency_limit", "scale_min",
             "scale_max", "scale_target", "annotation", "timeout")
    return argparse.Namespace(**{name: given.get(name) for name in names})


def template(obj: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = obj["spec"]["template"]
    return result


@pytest.mark.parametrize(
    ("given", "container", "spec_extra", "annotations"),
    [
        ({"run_command": "python -m http.server --bind 127.0.0.1"},
         {"command": ["python"], "args": ["-m", "http.server", "--bind", "127.0.0.1"]}, {}, {}),
        ({"run_command": "./serve 'two words'"}, {"command": ["./serve"], "args": ["two words"]},
         {}, {}),
        ({"run_command": "server"}, {"command": ["server"]}, {}, {}),
        ({"image": "ghcr.io/x/y:1"}, {"image": "ghcr.io/x/y:1"}, {}, {}),
        ({"run_command": "srv", "image": "img", "env": ["A=1", "B=x=y"]},
         {"command": ["srv"], "image": "img",
          "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "x=y"}]}, {}, {}),
        ({"image": "img", "concurrency_limit": 4}, {"image": "img"},
         {"containerConcurrency": 4}, {}),
        ({"image": "img", "timeout": 30}, {"image": "img"}, {"timeoutSeconds": 30}, {}),
        ({"image": "img", "scale_min": 1, "scale_max": 5, "scale_target": 10}, {"image": "img"},
         {}, {"autoscaling.knative.dev/min-scale": "1", "autoscaling.knative.dev/max-scale": "5",
              "autoscaling.knative.dev/target": "10"}),
        ({"image": "img", "annotation": ["team=a", "autoscaling.knative.dev/window=6s"]},
         {"image": "img"}, {}, {"team": "a", "autoscaling.knative.dev/window": "6s"}),
    ],
)
def test_flags_build_the_template(
    given: dict[str, Any], container: dict[str, Any], spec_extra: dict[str, Any],
    annotations: dict[str, str],
) -> None:
    built = service.edit_template(service.make_service("s", "ns"), flags(**given), now=NOW,
                                  cwd="/tmp", removals=False)
    assert built["apiVersion"] == "serving.knative.dev/v1"
    assert built["metadata"]["name"] == "s" and built["metadata"]["namespace"] == "ns"
    assert template(built)["spec"] == {"containers": [container], **spec_extra}
    assert template(built)["metadata"]["annotations"] == {
        **annotations, service.UPDATE_TIMESTAMP: STAMP}


def test_annotations_go_on_the_service_too_except_autoscaling_ones() -> None:
    given = flags(image="i", annotation=["team=a", "autoscaling.knative.dev/window=6s"])
    built = service.edit_template(service.make_service("s", "ns"), given, now=NOW, cwd="/",
                                  removals=False)
    assert built["metadata"]["annotations"] == {"team": "a"}


def test_function_becomes_a_serve_command_with_an_absolute_file(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text("def main(event):\n    return None\n")
    built = service.edit_template(
        service.make_service("f", "default"), flags(function="handler.py:main"), now=NOW,
        cwd=str(tmp_path), removals=False)
    target = f"{tmp_path}{os.sep}handler.py:main"
    assert template(built)["spec"]["containers"] == [
        {"command": ["ripple", "function", "serve", target]}]
    assert template(built)["metadata"]["annotations"] == {
        "ripple.dev/function": target, service.UPDATE_TIMESTAMP: STAMP}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"function": "handler.py"}, "--function 'handler.py': expected FILE:FUNCTION"),
        ({"function": "missing.py:main"}, "--function 'missing.py:main': no file /nowhere/"),
        ({"function": "h.py:not-a-name"}, "'not-a-name' is not a Python name"),
        ({"run_command": "   "}, "--command: must not be empty"),
        ({"run_command": "echo 'unclosed"}, "--command \"echo 'unclosed\": No closing quotation"),
        ({"image": "i", "env": ["NOEQUALS"]}, "--env 'NOEQUALS': expected KEY=VALUE"),
        ({"image": "i", "concurrency_limit": -1}, "--concurrency-limit -1: must not be less"),
        ({"image": "i", "scale_min": -1}, "--scale-min -1: must be 0 or more"),
        ({"image": "i", "scale_target": 0}, "--scale-target 0: must be 1 or more"),
        ({"image": "i", "scale_min": 5, "scale_max": 2}, "--scale-min 5: must not exceed"),
        ({"image": "i", "annotation": ["x"]}, "--annotation 'x': expected KEY=VALUE"),
        ({"image": "i", "timeout": 0}, "--timeout 0: must be 1 second or more"),
    ],
)
def test_bad_template_flags_name_the_flag(given: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.Invalid) as failure:
        service.edit_template(service.make_service("s", "ns"), flags(**given), now=NOW,
                              cwd="/nowhere", removals=False)
    assert message in str(failure.value)


def stored(**template_spec: Any) -> dict[str, Any]:
    """A Service as the server returns it, with one user annotation and env."""
    return {
        "apiVersion": "serving.knative.dev/v1", "kind": "Service",
        "metadata": {"name": "s", "namespace": "ns", "annotations": {"team": "a"},
                     "resourceVersion": "7", "generation": 1},
        "spec": {
            "template": {
                "metadata": {"annotations": {"team": "a", "ripple.dev/function": "/f.py:h"}},
                "spec": {"containers": [{"command": ["ripple", "function", "serve", "/f.py:h"],
                                         "env": [{"name": "A", "value": "1"},
                                                 {"name": "B", "value": "2"}]}],
                         **template_spec}},
            "traffic": [{"percent": 100, "latestRevision": True}],
        },
        "status": {"latestReadyRevisionName": "s-00001"},
    }


def test_update_merges_into_the_stored_service() -> None:
    given = flags(run_command="python app.py", env=["B-", "A=9", "C=3"], annotation=["team-"],
                  scale_max=3)
    edited = service.edit_template(stored(containerConcurrency=2), given, now=NOW, cwd="/",
                                   removals=True)
    assert edited["metadata"] == {"name": "s", "namespace": "ns", "resourceVersion": "7",
                                  "generation": 1}
    assert template(edited) == {
        "metadata": {"annotations": {"autoscaling.knative.dev/max-scale": "3",
                                     service.UPDATE_TIMESTAMP: STAMP}},
        "spec": {"containers": [{"command": ["python"], "args": ["app.py"],
                                 "env": [{"name": "A", "value": "9"},
                                         {"name": "C", "value": "3"}]}],
                 "containerConcurrency": 2},
    }
    assert edited["spec"]["traffic"] == [{"percent": 100, "latestRevision": True}]
    assert edited["status"] == {"latestReadyRevisionName": "s-00001"}


def test_no_template_flag_leaves_the_template_alone() -> None:
    assert service.edit_template(stored(), flags(), now=NOW, cwd="/", removals=True) == stored()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["s-00001=50,@latest=50"], [("s-00001", 50), ("@latest", 50)]),
        (["s-00001=50", "stable=50%"], [("s-00001", 50), ("stable", 50)]),
        (["100"], [("@latest", 100)]),
        (["a=0", "b=100"], [("a", 0), ("b", 100)]),
        (None, []),
    ],
)
def test_traffic_flags_parse(values: list[str] | None, expected: list[tuple[str, int]]) -> None:
    assert service.parse_traffic(values) == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["a=50,b=40"], "--traffic: the percents add up to 90, they must add up to 100"),
        (["a=60", "b=60"], "--traffic: the percents add up to 120"),
        (["a=fifty"], "--traffic 'a=fifty': the percent must be a whole number from 0 to 100"),
        (["a=-5"], "--traffic 'a=-5': the percent must be a whole number"),
        (["a=101"], "--traffic 'a=101': the percent must be a whole number"),
        (["=100"], "--traffic '=100': expected REF=PERCENT"),
        (["a=50,a=50"], "--traffic: a is given twice"),
    ],
)
def test_bad_traffic_is_refused_naming_the_flag(values: list[str], message: str) -> None:
    with pytest.raises(errors.Invalid) as failure:
        service.parse_traffic(values)
    assert str(failure.value) == message or message in str(failure.value)


LATEST_100 = [{"percent": 100, "latestRevision": True}]
REVS = {"s-00001", "s-00002"}


def rev(name: str, percent: int, tag: str = "") -> dict[str, Any]:
    return {"percent": percent, **({"tag": tag} if tag else {}), "revisionName": name,
            "latestRevision": False}


def latest(percent: int, tag: str = "") -> dict[str, Any]:
    return {"percent": percent, **({"tag": tag} if tag else {}), "latestRevision": True}


@pytest.mark.parametrize(
    ("current", "traffic", "tags", "untags", "expected"),
    [
        # A split between a revision and @latest.
        (LATEST_100, [("s-00001", 50), ("@latest", 50)], [], [],
         [latest(50), rev("s-00001", 50)]),
        # No traffic block stored: the default (all to @latest) is the starting point.
        (None, [("s-00001", 100)], [], [], [rev("s-00001", 100)]),
        # Tags: @latest, and a revision not in the block yet (gets 0%, kept for its tag).
        (LATEST_100, [], [("@latest", "current"), ("s-00001", "old")], [],
         [latest(100, "current"), rev("s-00001", 0, "old")]),
        # A tag names the target in --traffic.
        ([latest(100, "current"), rev("s-00001", 0, "old")], [("old", 10), ("current", 90)], [],
         [], [latest(90, "current"), rev("s-00001", 10, "old")]),
        # Untag: an untagged 0% target disappears.
        ([latest(100), rev("s-00001", 0, "old")], [], [], ["old"], [latest(100)]),
        # Moving a tag: untag first, then tag.
        ([latest(100), rev("s-00001", 0, "blue")], [], [("s-00002", "blue")], ["blue"],
         [latest(100), rev("s-00002", 0, "blue")]),
        # Re-tagging the same revision with its own tag is a no-op.
        ([latest(100), rev("s-00001", 0, "old")], [], [("s-00001", "old")], [],
         [latest(100), rev("s-00001", 0, "old")]),
        # A second tag on a tagged revision adds a target (kn).
        ([latest(100), rev("s-00001", 0, "a")], [], [("s-00001", "b")], [],
         [latest(100), rev("s-00001", 0, "a"), rev("s-00001", 0, "b")]),
        # All traffic moved off @latest: its untagged target goes.
        ([latest(50), rev("s-00001", 50)], [("s-00001", 100)], [], [], [rev("s-00001", 100)]),
    ],
)
def test_compute_traffic_follows_kn(
    current: list[dict[str, Any]] | None, traffic: list[tuple[str, int]],
    tags: list[tuple[str, str]], untags: list[str], expected: list[dict[str, Any]],
) -> None:
    assert service.compute_traffic(current, traffic=traffic, tags=tags, untags=untags,
                                   service="s", revisions=REVS) == expected


@pytest.mark.parametrize(
    ("current", "traffic", "tags", "untags", "message"),
    [
        (LATEST_100, [], [], ["nope"], "--untag: tag(s) nope not present for any revisions"),
        ([latest(100), rev("s-00001", 0, "old")], [], [("s-00002", "old")], [],
         "--tag s-00002=old: the tag exists already; add --untag old to move it"),
        ([latest(100, "cur")], [], [("@latest", "new")], [],
         "--tag @latest=new: the latest revision has the tag 'cur' already; add --untag cur"),
        (LATEST_100, [], [("s-00009", "x")], [], "--tag s-00009=x: service s has no revision"),
        (LATEST_100, [("s-00009", 100)], [], [],
         "--traffic s-00009=100: service s has no revision or tag 's-00009'"),
    ],
)
def test_compute_traffic_refusals(
    current: list[dict[str, Any]], traffic: list[tuple[str, int]],
    tags: list[tuple[str, str]], untags: list[str], message: str,
) -> None:
    with pytest.raises(errors.Invalid) as failure:
        service.compute_traffic(current, traffic=traffic, tags=tags, untags=untags,
                                service="s", revisions=REVS)
    assert message in str(failure.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["nope"], "--tag 'nope': expected REVISION=TAG or @latest=TAG"),
        (["@latest=a,@latest=b"], "--tag: @latest is given twice"),
    ],
)
def test_bad_tags(values: list[str], message: str) -> None:
    with pytest.raises(errors.Invalid) as failure:
        service.parse_tags(values)
    assert message in str(failure.value)


def svc_status(ready: str | None, *, reason: str = "", message: str = "", observed: int = 1,
               generation: int = 1) -> dict[str, Any]:
    conditions = [] if ready is None else [
        {"type": "Ready", "status": ready, "reason": reason, "message": message}]
    return {"metadata": {"name": "s", "generation": generation},
            "status": {"observedGeneration": observed, "conditions": conditions,
                       "latestReadyRevisionName": "s-00001"}}


class Clock:
    """Time that moves only when the waiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def waiting(states: list[dict[str, Any]], *, timeout: float = 600.0) -> tuple[Any, str]:
    clock, out = Clock(), io.StringIO()
    answers = iter(states)
    last: list[dict[str, Any]] = []

    def get() -> dict[str, Any]:
        last[:] = [next(answers, last[0] if last else states[-1])]
        return last[0]

    try:
        result: Any = service.wait_ready(get, "service 's'", timeout=timeout, out=out,
                                         clock=clock, sleep=clock.sleep)
    except service.NotReady as failure:
        result = failure
    return result, out.getvalue()


def test_wait_prints_progress_then_ready() -> None:
    states = [
        svc_status(None, observed=0),  # not reconciled yet
        svc_status("Unknown", reason="RevisionMissing", message="Configuration is waiting"),
        svc_status("Unknown", reason="RevisionMissing", message="Configuration is waiting"),
        svc_status("Unknown", reason="IngressNotConfigured", message="Ingress has not yet"),
        svc_status("True"),
    ]
    result, out = waiting(states)
    assert result == states[-1]
    assert out.splitlines() == [
        "  0.500s Configuration is waiting",
        "  1.000s ...",
        "  1.500s Ingress has not yet",
        "  2.000s Ready to serve.",
    ]


def test_a_status_for_an_older_generation_is_not_ready() -> None:
    result, _ = waiting([svc_status("True", observed=1, generation=2)], timeout=1)
    assert isinstance(result, service.NotReady)
    assert str(result) == "timeout: service 's' not ready after 1 seconds"


def test_ready_false_that_lasts_the_error_window_fails_with_reason_and_message() -> None:
    failed = svc_status("False", reason="RevisionFailed",
                        message='Revision "s-00001" failed: CommandRequired')
    result, out = waiting([failed])
    assert isinstance(result, service.NotReady)
    assert str(result) == ("service 's' is not ready: RevisionFailed: "
                           'Revision "s-00001" failed: CommandRequired')
    assert len(out.splitlines()) == 5  # 0, 0.5 ... 2.0 s: kn's 2 s error window


def test_ready_false_that_recovers_within_the_window_is_not_a_failure() -> None:
    flap = svc_status("False", reason="X", message="flap")
    result, _ = waiting([flap, flap, svc_status("Unknown"), svc_status("True")])
    assert not isinstance(result, service.NotReady)


@pytest.mark.parametrize(
    ("reason", "message", "expected"),
    [("", "no replicas", "service 's' is not ready: no replicas"),
     ("RevisionFailed", "", "service 's' is not ready: RevisionFailed"),
     ("", "", "service 's' is not ready: Ready=False")],
)
def test_failure_line_without_reason_or_message(reason: str, message: str, expected: str) -> None:
    result, _ = waiting([svc_status("False", reason=reason, message=message)])
    assert str(result) == expected


def test_timeout_names_the_last_reason() -> None:
    stuck = svc_status("Unknown", reason="RevisionMissing", message="waiting for s-00001")
    result, _ = waiting([stuck], timeout=3)
    assert str(result) == ("timeout: service 's' not ready after 3 seconds: "
                           "Ready=Unknown RevisionMissing: waiting for s-00001")


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("", "Service 's' created to latest revision 's-00002' is available at URL:\nhttp://a"),
        ("s-00002", "Service 's' with latest revision 's-00002' (unchanged) is available at "
                    "URL:\nhttp://a"),
    ],
)
def test_ready_line(before: str, expected: str) -> None:
    obj = {"status": {"latestReadyRevisionName": "s-00002", "url": "http://s.ns.svc",
                      "address": {"url": "http://a"}}}
    assert service.ready_line("s", obj, "created", before) == expected


def test_sort_revisions_by_service_then_newest_generation() -> None:
    def r(name: str, svc: str, generation: str) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": "ns", "labels": {
            service.SERVICE_LABEL: svc, service.GENERATION_LABEL: generation}}}

    items = [r("a-00001", "a", "1"), r("b-00002", "b", "2"), r("a-00010", "a", "10"),
             r("a-00002", "a", "2")]
    assert [x["metadata"]["name"] for x in service.sort_revisions(items)] == [
        "a-00010", "a-00002", "a-00001", "b-00002"]


@pytest.mark.parametrize(
    ("percent", "ready", "expected"),
    [(100, "True", "100%"), (0, "True", "   +"), (50, "False", " 50!"), (0, "Unknown", "   ?")],
)
def test_describe_bullets(percent: int, ready: str, expected: str) -> None:
    assert service.bullet(percent, ready) == expected


def owning(spec_traffic: list[dict[str, Any]], status_traffic: list[dict[str, Any]]
           ) -> dict[str, Any]:
    return {"metadata": {"name": "s"}, "spec": {"traffic": spec_traffic},
            "status": {"traffic": status_traffic}}


@pytest.mark.parametrize(
    ("svc", "expected"),
    [
        (owning([latest(100)], [{"revisionName": "s-00002", "percent": 100}]), None),
        (owning([latest(50), rev("s-00001", 50)],
                [{"revisionName": "s-00002", "percent": 50},
                 {"revisionName": "s-00001", "percent": 50}]),
         "revision 's-00001' has 50% of its traffic in service 's': first run "
         "ripple service update s --traffic ..."),
        (owning([latest(100), rev("s-00001", 0, "old")], []),
         "revision 's-00001' has the tag 'old' in service 's': first run "
         "ripple service update s --untag old"),
    ],
)
def test_revision_delete_refuses_a_revision_in_the_traffic(
    svc: dict[str, Any], expected: str | None
) -> None:
    assert revision.in_use("s-00001", svc) == expected
