"""`ripple.logs`: levels in any case, the log format chosen by flag or by whether stderr is a
terminal, and the human line's layout."""

from __future__ import annotations

import io
import json
import logging

import pytest

from ripple import logs


@pytest.mark.parametrize("given, name", [
    ("debug", "DEBUG"), ("DEBUG", "DEBUG"), ("Info", "INFO"), (" warning ", "WARNING"),
    ("warn", "WARNING"), ("error", "ERROR"), ("CRITICAL", "CRITICAL"),
])
def test_levels_are_case_insensitive(given: str, name: str) -> None:
    assert logs.level_name(given) == name


@pytest.mark.parametrize("given", ["loud", "", "10", "trace"])
def test_an_unknown_level_names_the_choices(given: str) -> None:
    with pytest.raises(ValueError, match="is not a log level .choose from debug, info, warning, error, critical"):
        logs.level_name(given)


@pytest.mark.parametrize("given, name", [("auto", "auto"), ("HUMAN", "human"), ("Json", "json")])
def test_formats(given: str, name: str) -> None:
    assert logs.format_name(given) == name


def test_an_unknown_format_names_the_choices() -> None:
    with pytest.raises(ValueError, match="'xml' is not a log format .choose from auto, human, json"):
        logs.format_name("xml")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("fmt, stream, kind", [
    ("auto", Terminal(), logs.HumanFormatter),
    ("auto", io.StringIO(), logs.JSONFormatter),
    ("human", io.StringIO(), logs.HumanFormatter),
    ("json", Terminal(), logs.JSONFormatter),
])
def test_auto_is_human_on_a_terminal_and_json_elsewhere(fmt: str, stream: io.StringIO, kind: type) -> None:
    assert isinstance(logs.formatter_for(fmt, stream), kind)


def record(**extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("ripple.up", logging.WARNING, __file__, 1, "worker died; restarting", (), None)
    rec.__dict__.update(extra)
    return rec


def test_the_human_line_has_level_logger_message_and_fields() -> None:
    line = logs.HumanFormatter().format(record(worker=1, exit_code=-9, error="Connection refused"))
    assert line[8:] == (' WARNING ripple.up: worker died; restarting worker=1 exit_code=-9 '
                        'error="Connection refused"')


def test_the_json_line_keeps_its_fields() -> None:
    out = json.loads(logs.JSONFormatter().format(record(worker=1)))
    assert (out["level"], out["logger"], out["msg"], out["worker"]) == (
        "warning", "ripple.up", "worker died; restarting", 1)


def _record(name: str, msg: str = "Unable connect to %s", level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, "f.py", 1, msg, ("node 1",), None)


@pytest.mark.parametrize("steps, shown", [
    # (seconds, logger, message template) -> which records are shown, and `repeated` on each
    ([(0, "aiokafka", "a"), (1, "aiokafka", "a"), (2, "aiokafka", "a")], [(0, None)]),
    ([(0, "aiokafka", "a"), (1, "aiokafka", "a"), (31, "aiokafka", "a")], [(0, None), (31, 1)]),
    ([(0, "aiokafka", "a"), (31, "aiokafka", "a")], [(0, None), (31, None)]),
    ([(0, "aiokafka", "a"), (1, "aiokafka", "b"), (2, "aiokafka.conn", "a")], [(0, None), (1, None), (2, None)]),
    ([(0, "ripple.up", "a"), (1, "ripple.up", "a"), (2, "channels.fanout", "a"), (3, "channels.fanout", "a")],
     [(0, None), (1, None), (2, None), (3, None)]),  # Ripple's own: always
])
def test_a_library_repeating_itself_is_held_back_and_counted(steps, shown) -> None:
    now = [0.0]
    repeats = logs.Repeats(window=30.0, clock=lambda: now[0])
    passed = []
    for at, name, msg in steps:
        now[0] = at
        record = _record(name, msg)
        if repeats.filter(record):
            passed.append((at, getattr(record, "repeated", None)))
    assert passed == shown


def test_held_back_records_never_reach_the_stream(monkeypatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(logs.sys, "stderr", stream)
    logs.configure("INFO", "json")
    try:
        for _ in range(100):
            logging.getLogger("aiokafka.consumer").error("Unable connect to %s", "node 1")
        assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()] == ["Unable connect to node 1"]
    finally:
        logging.getLogger().handlers[:] = []
