"""serving.zygote's pure pieces: the wire encoding and the exit status it reports."""

from __future__ import annotations

import json
import os

import pytest

from serving import zygote


@pytest.mark.parametrize("message", [
    {"id": 1, "op": "fork", "port": 0, "env": {"K": "v w"}},
    {"exited": 4242, "returncode": -15},
])
def test_one_json_object_per_line(message) -> None:
    line = zygote.encode(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == message


def status_of(exit_code: int | None = None, signal: int | None = None) -> int:
    """A raw wait status as waitpid returns it on Linux."""
    return signal if signal is not None else (exit_code or 0) << 8


@pytest.mark.parametrize("status, code", [
    (status_of(0), 0),
    (status_of(75), 75),                # recycled after a timeout
    (status_of(signal=15), -15),        # as subprocess reports a signal
    (status_of(signal=9), -9),
])
def test_returncode(status, code) -> None:
    assert os.WIFEXITED(status) or os.WIFSIGNALED(status)
    assert zygote.returncode(status) == code
