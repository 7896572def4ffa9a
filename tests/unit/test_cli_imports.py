"""What a `ripple` command imports before it does anything: its start-up time is mostly
imports. The resource API (`ripple.api`, every kind, with the CESQL compiler and croniter)
cost a third of a second and came in through one module-level import (`ripple event
replay`'s); the server's stack (FastAPI, uvicorn, redis, aiohttp) must never come in.
Each command's heavy modules are imported in the function that runs it.

Checked in a fresh interpreter per command, by module names, not by time: deterministic
on any machine.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

SERVER_SIDE = (
    "fastapi", "starlette", "uvicorn", "pydantic", "aiohttp", "redis", "kopf", "kubernetes",
    "ripple.api", "ripple.cesql", "croniter", "dateutil",
    "controllers.platforms", "channels", "broker", "sources", "serving",
)
"""Never loaded by a client command's start-up (`ripple up`, `operator` and `completion`,
which builds `up`'s flags, are the server's)."""
TRANSPORT = ("yaml", "http.client", "urllib.request", "email")
"""The client's own (the config file, HTTP): not loaded by a command that sends nothing."""

PROBE = """
import contextlib, io, json, sys
from ripple.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
    try:
        code = main.main(sys.argv[1:])
    except SystemExit as stop:
        code = stop.code
print(json.dumps({"code": code, "stderr": err.getvalue(), "modules": sorted(sys.modules)}))
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def imported_by(*argv: str) -> tuple[int, str, set[str]]:
    """(exit code, stderr, modules) of `ripple ARGV` against a server that is not there."""
    env = dict(os.environ, RIPPLE_SERVER=f"http://127.0.0.1:{closed_port()}", RIPPLE_TOKEN="t")
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                          env=env, timeout=60, check=True)
    result = json.loads(done.stdout)
    return result["code"], result["stderr"], set(result["modules"])


def loaded(modules: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(r for r in roots if any(m == r or m.startswith(r + ".") for m in modules))


@pytest.mark.parametrize("argv", [
    ["--help"], ["dlq", "--help"], ["event", "send", "--help"], ["demo", "ci", "--help"],
])
def test_help_loads_neither_the_server_nor_the_transport(argv: list[str]) -> None:
    code, _, modules = imported_by(*argv)
    assert code == 0
    assert loaded(modules, SERVER_SIDE + TRANSPORT) == []


@pytest.mark.parametrize("argv", [
    ["dlq", "list"], ["dlq", "show", "evt-1"], ["get", "brokers"], ["event", "tail", "broker:b"],
    ["event", "send", "--to", "broker:b"], ["trigger", "list"], ["version"],
])
def test_a_client_command_loads_no_server_module(argv: list[str]) -> None:
    code, stderr, modules = imported_by(*argv)
    assert code in (0, 1), stderr  # 1: "Error: cannot reach ..." (nothing listens there)
    assert loaded(modules, SERVER_SIDE) == []


def test_the_probe_sees_what_a_command_loads() -> None:
    """`event replay` checks --since with the server's parser: it loads the resource API."""
    code, stderr, modules = imported_by("event", "replay", "broker:b", "--since", "10m")
    assert code == 1 and "cannot reach" in stderr, stderr
    assert "ripple.api" in loaded(modules, SERVER_SIDE)
