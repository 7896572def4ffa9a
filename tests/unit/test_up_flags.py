"""`ripple up`'s flags: each bad one is a single line and exit code 2, before anything
starts; and the data-dir lock (`ripple.embedded.DataDirLock`) that refuses a second
instance, naming the first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ripple import embedded
from ripple.cli import main, up


def parse_up(*flags: str) -> object:
    return main.build_parser(with_up=True).parse_args(["up", *flags])


@pytest.mark.parametrize("flags, message", [
    (["--port", "99999"], "Error: ripple up: argument --port: 99999 is not a port number (1-65535)"),
    (["--port", "0"], "Error: ripple up: argument --port: 0 is not a port number (1-65535)"),
    (["--port", "http"], "Error: ripple up: argument --port: 'http' is not a port number (1-65535)"),
    (["--redis-url", "localhost:6379"],
     "Error: ripple up: argument --redis-url: 'localhost:6379' is not a Redis URL; write it as "
     "redis://HOST:PORT/DB, e.g. redis://localhost:6379/0, or redis+cluster://HOST:PORT "
     "(rediss+cluster:// for TLS) for a cluster"),
    (["--redis-url", "redis://localhost:99999/0"],
     "Error: ripple up: argument --redis-url: 'redis://localhost:99999/0' is not a Redis URL: bad port"),
    (["--redis-url", "redis+cluster://cache:7000/2"],
     "Error: ripple up: argument --redis-url: 'redis+cluster://cache:7000/2': a Redis Cluster has "
     "one database, 0; drop '/2'"),
    (["--redis-url", "redis+cluster://a:7000,:7001"],
     "Error: ripple up: argument --redis-url: 'redis+cluster://a:7000,:7001' names no host in a "
     "seed; write it as redis+cluster://HOST:PORT (rediss+cluster:// for TLS)"),
    (["--redis-url", "rediss+cluster://:7000"],
     "Error: ripple up: argument --redis-url: 'rediss+cluster://:7000' names no host; write it as "
     "redis+cluster://HOST:PORT (rediss+cluster:// for TLS)"),
    (["--redis-url", "redis+cluster://cache:70000"],
     "Error: ripple up: argument --redis-url: 'redis+cluster://cache:70000' is not a Redis Cluster "
     "URL: bad port"),
    (["--redis-url", "unix+cluster:///run/valkey.sock"],
     "Error: ripple up: argument --redis-url: 'unix+cluster:///run/valkey.sock' is not a Redis URL; "
     "write it as redis://HOST:PORT/DB, e.g. redis://localhost:6379/0, or redis+cluster://HOST:PORT "
     "(rediss+cluster:// for TLS) for a cluster"),
    (["--log-level", "loud"],
     "Error: ripple up: argument --log-level: 'loud' is not a log level "
     "(choose from debug, info, warning, error, critical)"),
    (["--log-format", "xml"],
     "Error: ripple up: argument --log-format: 'xml' is not a log format (choose from auto, human, json)"),
    (["--workers", "0"], "Error: ripple up: argument --workers: '0' is not a positive whole number"),
])
def test_a_bad_flag_is_one_line_and_exit_2(flags: list[str], message: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as leaving:
        parse_up(*flags)
    assert leaving.value.code == 2
    assert capsys.readouterr().err == message + "\n"


@pytest.mark.parametrize("flags, field, value", [
    (["--log-level", "debug"], "log_level", "DEBUG"),
    (["--log-level", "Warning"], "log_level", "WARNING"),
    (["--log-format", "HUMAN"], "log_format", "human"),
    (["--port", "65535"], "port", 65535),
    (["--redis-url", "rediss://:pw@cache:6380/2"], "redis_url", "rediss://:pw@cache:6380/2"),
    (["--redis-url", "unix:///run/valkey.sock"], "redis_url", "unix:///run/valkey.sock"),
    (["--redis-url", "redis+cluster://cache:7000"], "redis_url", "redis+cluster://cache:7000"),
    (["--redis-url", "rediss+cluster://u:pw@cache:7000/0?ssl_ca_certs=/ca.pem"], "redis_url",
     "rediss+cluster://u:pw@cache:7000/0?ssl_ca_certs=/ca.pem"),
    ([], "keep_existing", False),
    (["-f", "x", "--keep-existing"], "keep_existing", True),
])
def test_good_flags(flags: list[str], field: str, value: object) -> None:
    assert getattr(parse_up(*flags), field) == value


@pytest.mark.parametrize("url, shown", [
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("redis://:secret@cache:6379/0", "redis://:***@cache:6379/0"),
    ("rediss://user:secret@cache:6380/1", "rediss://user:***@cache:6380/1"),
    ("rediss+cluster://user:secret@cache:7000", "rediss+cluster://user:***@cache:7000"),
])
def test_the_store_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert up.redacted(url) == shown


def test_a_second_lock_on_a_data_dir_is_refused_naming_the_holder(tmp_path: Path) -> None:
    first, second = embedded.DataDirLock(tmp_path / "d"), embedded.DataDirLock(tmp_path / "d")
    first.acquire("http://127.0.0.1:8080")
    try:
        with pytest.raises(embedded.DataDirBusy) as busy:
            second.acquire("http://127.0.0.1:9090")
        assert str(busy.value) == (
            f"data dir {tmp_path / 'd'} is in use by another 'ripple up' (pid {os.getpid()}, "
            f"serving http://127.0.0.1:8080); stop it, or give this one another --data-dir")
    finally:
        first.release()
    second.acquire("http://127.0.0.1:9090")  # free again once the holder lets go
    second.release()
    assert not (tmp_path / "d" / "ripple.lock").exists()


def test_a_bad_redis_url_in_the_environment_is_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RIPPLE_REDIS_URL", "localhost:6379")
    assert up.run(parse_up("--port", "1")) == 2  # type: ignore[arg-type]
    assert capsys.readouterr().err == (
        "Error: RIPPLE_REDIS_URL: 'localhost:6379' is not a Redis URL; write it as "
        "redis://HOST:PORT/DB, e.g. redis://localhost:6379/0, or redis+cluster://HOST:PORT "
        "(rediss+cluster:// for TLS) for a cluster\n")


def test_a_bad_cluster_url_in_the_environment_is_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RIPPLE_REDIS_URL", "redis+cluster://cache:7000/1")
    assert up.run(parse_up("--port", "1")) == 2  # type: ignore[arg-type]
    assert capsys.readouterr().err == (
        "Error: RIPPLE_REDIS_URL: 'redis+cluster://cache:7000/1': a Redis Cluster has one "
        "database, 0; drop '/1'\n")


def test_an_unknown_flag_of_up_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["up", "--bogus", "1"]) == 2
    assert capsys.readouterr().err == "Error: ripple up: unrecognized arguments: --bogus 1\n"
