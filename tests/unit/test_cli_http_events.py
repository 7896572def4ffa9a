"""`event send` and `event tail` over HTTP, against the fake API: ce-* headers and streams."""

from __future__ import annotations

import json
import time

import pytest
from test_cli_fakeapi import EVENTS, State, api, ripple

from ripple.cli import client

__all__ = ["api"]  # the fixture, imported for pytest


def test_event_send_binary_mode(api: tuple[str, State], capsys: pytest.CaptureFixture[str]) -> None:
    url, state = api
    ripple(url, "broker", "create", "default")
    capsys.readouterr()
    state.seen.clear()
    assert (
        ripple(
            url,
            "event",
            "send",
            "--to",
            "broker:default",
            "--type",
            "dev.x",
            "--source",
            "/me",
            "--id",
            "abc",
            "--data",
            '{"msg": "hi"}',
            "--extension",
            "traceparent=00-1-2-01",
            "--extension",
            "team=a b",
        )
        == 0
    )
    assert capsys.readouterr().out == f"Event sent to {url}/default/default: id=abc, status 202\n"
    sent = state.seen[-1]
    assert (sent.method, sent.path, sent.body) == ("POST", "/default/default", b'{"msg": "hi"}')
    ce = {k: v for k, v in sent.headers.items() if k.startswith("ce-")}
    assert ce.pop("ce-time").endswith("Z")
    assert ce == {
        "ce-specversion": "1.0",
        "ce-id": "abc",
        "ce-type": "dev.x",
        "ce-source": "/me",
        "ce-traceparent": "00-1-2-01",
        "ce-team": "a%20b",
    }
    assert sent.headers["content-type"] == "application/json"


def test_event_send_text_and_uuid(
    api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    assert (
        ripple(
            url,
            "event",
            "send",
            "--to",
            f"{url}/default/default",
            "--type",
            "t",
            "--source",
            "s",
            "--data",
            "plain words",
        )
        == 0
    )
    sent = state.seen[-1]
    assert sent.headers["content-type"] == "text/plain"
    assert len(sent.headers["ce-id"]) == 36  # a uuid4
    assert f"id={sent.headers['ce-id']}, status 202" in capsys.readouterr().out


def test_event_send_failures(api: tuple[str, State], capsys: pytest.CaptureFixture[str]) -> None:
    url, state = api
    assert ripple(url, "event", "send", "--to", "broker:nope", "--type", "t", "--source", "s") == 1
    assert capsys.readouterr().err == (  # the controller's resolver, and its words
        "Error: --to 'broker:nope': Broker default/nope (eventing.knative.dev/v1) not found\n"
    )
    state.ingress_status = 400
    assert (
        ripple(
            url, "event", "send", "--to", f"{url}/default/default", "--type", "t", "--source", "s"
        )
        == 1
    )
    assert capsys.readouterr().err == (
        f"Error: {url}/default/default answered 400: bad event: no ce-type\n"
    )


def test_event_tail(api: tuple[str, State], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = api
    assert ripple(url, "event", "tail", "broker:default") == 0
    assert capsys.readouterr().out.splitlines() == [
        '-  dev.x  /s  e1  {"n":1}',
        "-  dev.y  /s  e2  hi",
    ]
    assert ripple(url, "event", "tail", "broker:default", "-o", "json") == 0
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == EVENTS
    assert ripple(url, "event", "tail", "broker:gone") == 1
    assert capsys.readouterr().err == "Error: broker default/gone not found\n"


def test_stream_lines_arrive_while_the_stream_is_open(api: tuple[str, State]) -> None:
    url, state = api
    lines = client.Client(url).stream_lines("/tail/chunked")
    started = time.monotonic()
    assert next(lines) == b'{"id": "live"}\n'
    assert time.monotonic() - started < 2  # not held back until the server ends the stream
    state.first_read.set()
    assert list(lines) == [b'{"id": "later"}\n']


# --- issue #16: kn-plugin-event's forms of `event send` -----------------------------------


@pytest.mark.parametrize("target", [
    ["--to", "Broker:eventing.knative.dev/v1:default"],
    ["--to", "broker:default"],
    ["--to-url", "URL/default/default"],
])
def test_event_send_kn_forms_and_defaults(
    api: tuple[str, State], capsys: pytest.CaptureFixture[str], target: list[str]
) -> None:
    # Before: `--to Kind:apiVersion:name`, `--to-url` and `-f` were refused, and --type and
    # --source were required where kn defaults them.
    url, state = api
    ripple(url, "broker", "create", "default")
    capsys.readouterr()
    state.seen.clear()
    target = [t.replace("URL", url) for t in target]
    assert ripple(url, "event", "send", *target, "-f", "player.id=p1", "-f", "player.game=2345",
                  "--field", "points=4.5", "-f", "ok=true", "--raw-field", "code=007") == 0
    assert capsys.readouterr().out.startswith(f"Event sent to {url}/default/default: id=")
    sent = state.seen[-1]
    assert (sent.method, sent.path) == ("POST", "/default/default")
    assert sent.json() == {"player": {"id": "p1", "game": 2345}, "points": "4.5", "ok": True,
                           "code": "007"}
    assert sent.headers["ce-type"] == "dev.knative.cli.plugin.event.generic"
    assert sent.headers["ce-source"].startswith("ripple-event/v")
    assert sent.headers["content-type"] == "application/json"


def test_event_send_without_data_sends_kn_s_empty_object(
    api: tuple[str, State], capsys: pytest.CaptureFixture[str]
) -> None:
    url, state = api
    ripple(url, "broker", "create", "default")
    assert ripple(url, "event", "send", "--to", "broker:default") == 0
    assert state.seen[-1].body == b"{}"


@pytest.mark.parametrize("argv, says", [
    (["--to", "Broker:eventing.knative.dev/v1:app=x"], "a label selector is not supported"),
    (["--to", "Trigger:eventing.knative.dev/v1:default"],
     "Error: --to 'Trigger:eventing.knative.dev/v1:default': "),
    (["--to-url", "broker:default"], "--to-url 'broker:default': not an http(s):// URL"),
    (["--to", "broker:default", "-f", "a=1", "-f", "a.b=2"], "'a' already holds a value"),
    (["--to", "broker:default", "-f", "nokey"], "expected PATH=VALUE"),
    (["--to", "broker:default", "--raw-field", "a=1", "--data", "x"], "not both"),
])
def test_event_send_kn_form_errors_are_one_line(
    api: tuple[str, State], capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    url, _ = api
    ripple(url, "broker", "create", "default")
    assert ripple(url, "event", "send", *argv) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("Error: ") and says in line
