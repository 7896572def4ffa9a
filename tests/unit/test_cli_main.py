"""Argument parsing of every `ripple` command, and main's error contract."""

from __future__ import annotations

import argparse

import pytest

from ripple.cli import main
from ripple.cli.commands import apply, broker, event, resources, trigger


def parse(argv: list[str]) -> argparse.Namespace:
    return main.build_parser(with_up=main.command_of(argv) == "up").parse_args(argv)


@pytest.mark.parametrize(
    "argv, handler, expected",
    [
        (["apply", "-f", "a.yaml"], apply.run_apply, {"filename": ["a.yaml"], "namespace": None}),
        (
            ["apply", "-f", "a", "-f", "-", "-n", "x", "-R"],
            apply.run_apply,
            {"filename": ["a", "-"], "namespace": "x", "recursive": True},
        ),
        (
            ["get", "brokers"],
            resources.run_get,
            {"kind": "brokers", "name": None, "all_namespaces": False, "output": None},
        ),
        (
            ["get", "trigger", "t1", "-n", "ns", "-o", "yaml"],
            resources.run_get,
            {"kind": "trigger", "name": "t1", "namespace": "ns", "output": "yaml"},
        ),
        (
            ["get", "ksvc", "-A", "-o", "json"],
            resources.run_get,
            {"all_namespaces": True, "output": "json"},
        ),
        (
            ["describe", "broker", "default"],
            resources.run_describe,
            {"kind": "broker", "name": "default", "output": None},
        ),
        (["describe", "broker", "b", "-o", "url"], resources.run_describe, {"output": "url"}),
        (
            ["delete", "broker", "a", "b"],
            resources.run_delete,
            {"kind": "broker", "names": ["a", "b"], "filename": []},
        ),
        (
            ["delete", "-f", "dir/", "--ignore-not-found"],
            resources.run_delete,
            {"kind": None, "filename": ["dir/"], "ignore_not_found": True},
        ),
        (
            ["broker", "create", "b"],
            broker.run_create,
            {"name": "b", "broker_class": None, "dl_sink": None, "retry": None},
        ),
        (
            [
                "broker",
                "create",
                "b",
                "--class",
                "Kafka",
                "--dl-sink",
                "ksvc:dlq",
                "--retry",
                "3",
                "--backoff-policy",
                "linear",
                "--backoff-delay",
                "PT1S",
                "--timeout",
                "PT2S",
                "-n",
                "x",
            ],
            broker.run_create,
            {
                "broker_class": "Kafka",
                "dl_sink": "ksvc:dlq",
                "retry": 3,
                "backoff_policy": "linear",
                "backoff_delay": "PT1S",
                "timeout": "PT2S",
                "namespace": "x",
            },
        ),
        (["broker", "list", "-A"], broker.run_list, {"all_namespaces": True}),
        (["broker", "ls"], broker.run_list, {"all_namespaces": False}),
        (
            ["broker", "describe", "b", "-o", "json"],
            broker.run_describe,
            {"name": "b", "output": "json"},
        ),
        (["broker", "delete", "b"], broker.run_delete, {"name": "b"}),
        (
            ["trigger", "create", "t", "--sink", "ksvc:hello"],
            trigger.run_create,
            {"name": "t", "broker": "default", "filter": None, "sink": "ksvc:hello"},
        ),
        (
            [
                "trigger",
                "create",
                "t",
                "-b",
                "b2",
                "--filter",
                "type=x",
                "--filter",
                "source=y",
                "-s",
                "http://x",
            ],
            trigger.run_create,
            {"broker": "b2", "filter": ["type=x", "source=y"], "sink": "http://x"},
        ),
        (
            ["trigger", "update", "t", "--filter", "type-"],
            trigger.run_update,
            {"filter": ["type-"], "sink": None},
        ),
        (["trigger", "list", "-b", "default"], trigger.run_list, {"broker": "default"}),
        (["trigger", "describe", "t"], trigger.run_describe, {"name": "t"}),
        (
            ["trigger", "delete", "t", "-n", "ns"],
            trigger.run_delete,
            {"name": "t", "namespace": "ns"},
        ),
        (
            ["event", "send", "--to", "broker:default", "--type", "t", "--source", "s"],
            event.run_send,
            {
                "to": "broker:default",
                "type": "t",
                "source": "s",
                "id": None,
                "data": None,
                "extension": None,
                "content_type": None,
            },
        ),
        (
            [
                "event",
                "send",
                "--to",
                "http://x",
                "--type",
                "t",
                "--source",
                "s",
                "--id",
                "i",
                "--data",
                "@f.json",
                "--extension",
                "a=b",
                "--extension",
                "c=d",
                "--content-type",
                "text/csv",
                "-n",
                "ns",
            ],
            event.run_send,
            {"id": "i", "data": "@f.json", "extension": ["a=b", "c=d"], "content_type": "text/csv"},
        ),
        (
            ["event", "tail", "broker:default"],
            event.run_tail,
            {"target": "broker:default", "output": None},
        ),
        (["event", "tail", "broker:b", "-o", "json"], event.run_tail, {"output": "json"}),
        (["version"], main.run_version, {}),
        (["up"], main.run_up, {}),
    ],
)
def test_parse(argv: list[str], handler: object, expected: dict) -> None:
    args = parse(argv)
    assert args.handler is handler
    assert {k: getattr(args, k) for k in expected} == expected


@pytest.mark.parametrize(
    "argv, server",
    [
        (["get", "brokers"], "http://127.0.0.1:8080"),
        (["--server", "http://a:1", "get", "brokers"], "http://a:1"),
        (["get", "brokers", "--server", "http://b:2"], "http://b:2"),
        (["--server", "http://a:1", "get", "brokers", "--server", "http://b:2"], "http://b:2"),
    ],
)
def test_server_flag(argv: list[str], server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RIPPLE_SERVER", raising=False)
    assert parse(argv).server == server


def test_server_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIPPLE_SERVER", "http://env:3")
    assert parse(["get", "brokers"]).server == "http://env:3"


@pytest.mark.parametrize(
    "argv",
    [
        ["get"],
        ["apply"],
        ["broker", "create"],
        ["trigger", "create", "t"],  # --sink is required
        ["event", "send"],  # --to or --to-url is required
        ["get", "brokers", "-o", "table"],
        ["broker", "create", "b", "--retry", "many"],
        ["broker", "create", "b", "--backoff-policy", "random"],
    ],
)
def test_parse_rejects(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse(argv)
    assert caught.value.code == 2


@pytest.mark.parametrize(
    "argv, command",
    [
        ([], None),
        (["up"], "up"),
        (["--server", "http://x", "up", "--port", "1"], "up"),
        (["--server=http://x", "get", "b"], "get"),
        (["-h"], None),
    ],
)
def test_command_of(argv: list[str], command: str | None) -> None:
    assert main.command_of(argv) == command


def test_up_gets_its_own_flags_when_it_exists() -> None:
    up = pytest.importorskip("ripple.cli.up")
    args = parse(["up", "--port", "9999"])
    assert args.handler is main.run_up and args.port == 9999
    assert callable(up.run)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["version"]) == 0
    assert capsys.readouterr().out.startswith("Version:  ")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["delete", "broker"], "Error: delete needs KIND NAME..., KIND --all, or -f FILE|DIR|-"),
        (["delete"], "Error: delete needs KIND NAME..., KIND --all, or -f FILE|DIR|-"),
        (["trigger", "update", "t"], "Error: nothing to update: give --filter or --sink"),
        (
            ["event", "tail", "ksvc:x"],
            "Error: event tail follows a broker or a channel: give broker:NAME or channel:NAME, not 'ksvc:x'",
        ),
        (["apply", "-f", "/nope.yaml"], 'Error: the path "/nope.yaml" does not exist'),
    ],
)
def test_errors_are_one_line_and_exit_1(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main.main(argv) == 1
    assert capsys.readouterr().err == message + "\n"


# --- issue #16: --version, bare help, completion, `get --help` from the registry ----------


def test_version_flag_prints_the_version_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    from ripple import __version__

    with pytest.raises(SystemExit) as caught:
        main.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"ripple {__version__}\n"


@pytest.mark.parametrize("argv, shows", [
    ([], "usage: ripple [-h] [--version] [--server SERVER] [--token TOKEN] COMMAND"),
    (["trigger"], "usage: ripple trigger [-h] VERB"),
    (["source"], "usage: ripple source [-h] KIND"),
    (["source", "ping"], "usage: ripple source ping [-h] VERB"),
    (["--server", "http://x:1", "event"], "usage: ripple event [-h] VERB"),
])
def test_a_bare_command_prints_its_help_and_exits_0(
    argv: list[str], shows: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "the following arguments are required: COMMAND" and exit 2, as for any typo.
    assert main.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith(shows)
    assert "positional arguments:" in out or "options:" in out


@pytest.mark.parametrize("shell, marker", [
    ("bash", "-F _shtab_ripple ripple"),
    ("zsh", "#compdef ripple"),
])
def test_completion_scripts_cover_every_command(
    shell: str, marker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main.main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert marker in script
    for word in ("apply", "trigger", "wait", "--all-namespaces", "--to-url", "--recursive"):
        assert word in script, word


def test_get_help_lists_the_kinds_the_registry_serves(capsys: pytest.CaptureFixture[str]) -> None:
    # Before: `get --help` offered `ksvc` while the server did not serve it. The list now
    # comes from the kind table the API server's discovery is built from.
    import ripple.api
    from ripple.api import registry

    with pytest.raises(SystemExit) as caught:
        main.main(["get", "--help"])
    assert caught.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    listed = help_text.split("kinds served: ", 1)[1]
    for kind in registry.kinds():
        assert kind.singular in listed
    words = [w.strip("(),") for w in listed.split()]
    for word in words:
        assert registry.by_name(word)  # every word offered is one `get` resolves
    assert ripple.api  # imported for its registrations


from ripple.cli.commands.trigger import edit_exact_filters  # noqa: E402


@pytest.mark.parametrize("filters, flags, expected", [
    ([{"exact": {"type": "a"}}], ["type=b"], [{"exact": {"type": "b"}}]),
    ([{"exact": {"type": "a"}}], ["source=s"], [{"exact": {"type": "a"}}, {"exact": {"source": "s"}}]),
    ([{"exact": {"type": "a", "source": "s"}}], ["type-"], [{"exact": {"source": "s"}}]),
    ([{"exact": {"type": "a"}}, {"cesql": "true"}], ["type-"], [{"cesql": "true"}]),
    ([{"any": [{"exact": {"type": "a"}}]}], ["type=b"],
     [{"any": [{"exact": {"type": "a"}}]}, {"exact": {"type": "b"}}]),
])
def test_edit_exact_filters(filters: list, flags: list[str], expected: list) -> None:
    assert edit_exact_filters(filters, flags) == expected


def test_edit_exact_filters_does_not_mutate_its_input() -> None:
    filters = [{"exact": {"type": "a"}}]
    edit_exact_filters(filters, ["type=b", "x=y"])
    assert filters == [{"exact": {"type": "a"}}]
