"""`ripple up`'s security flags (issue #15): bad ones are one line naming the flag, and the
settings they make (the API's own listener, TLS)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from ripple.cli import up


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    up.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def pem(tmp_path: Path) -> Path:
    path = tmp_path / "not-a-cert.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    return path


@pytest.mark.parametrize("argv, problem", [
    ((), None),
    (("--api-port", "9090"), None),
    (("--tls-cert", "c.pem"), "--tls-cert and --tls-key: give both or neither"),
    (("--tls-key", "k.pem"), "--tls-cert and --tls-key: give both or neither"),
    (("--tls-cert", "/nope/c.pem", "--tls-key", "/nope/k.pem"), "--tls-cert /nope/c.pem: no such file"),
    (("--api-port", "0"), "--api-port 0: must be a port number, 1 to 65535"),
    (("--api-port", "70000"), "--api-port 70000: must be a port number, 1 to 65535"),
    (("--api-host", "127.0.0.1"), "--api-host needs --api-port (the API's own listener)"),
])
def test_bad_flags_are_one_line(argv: tuple[str, ...], problem: str | None) -> None:
    assert up.check_security_arguments(parse(*argv)) == problem


def test_a_file_that_is_no_certificate_is_refused(pem: Path) -> None:
    problem = up.check_security_arguments(parse("--tls-cert", str(pem), "--tls-key", str(pem)))
    assert problem is not None and problem.startswith("--tls-cert/--tls-key: not a usable")
    assert "\n" not in problem


@pytest.mark.parametrize("argv, api_url, base_url, separate", [
    ((), "http://127.0.0.1:8080", "http://127.0.0.1:8080", False),
    (("--host", "0.0.0.0"), "http://127.0.0.1:8080", "http://127.0.0.1:8080", False),
    (("--host", "0.0.0.0", "--api-port", "9090"), "http://127.0.0.1:9090", "http://127.0.0.1:8080", True),
    (("--host", "127.0.0.2", "--api-port", "9090"), "http://127.0.0.1:9090", "http://127.0.0.2:8080", True),
    (("--api-port", "8080"), "http://127.0.0.1:8080", "http://127.0.0.1:8080", False),  # the same listener
    (("--api-port", "9090", "--api-host", "10.0.0.1"), "http://10.0.0.1:9090", "http://127.0.0.1:8080", True),
    (("--tls-cert", "c", "--tls-key", "k"), "https://127.0.0.1:8080", "https://127.0.0.1:8080", False),
])
def test_settings(argv: tuple[str, ...], api_url: str, base_url: str, separate: bool) -> None:
    settings = up.settings_from(parse(*argv), "t")
    assert (settings.api_url, settings.base_url, settings.api_separate) == (api_url, base_url, separate)
    assert settings.api.token == "t"
