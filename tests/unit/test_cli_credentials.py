"""`ripple.cli.credentials`: the API token in the data dir, the user's config file, and
which token the CLI sends to which server (issue #15)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from ripple import errors
from ripple.cli import credentials


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_token_is_made_once_private_and_kept(tmp_path: Path) -> None:
    token, path = credentials.ensure_token(tmp_path / "data")
    assert path == tmp_path / "data" / "token" and mode(path) == 0o600
    assert len(token) >= 40
    path.chmod(0o644)
    assert credentials.ensure_token(tmp_path / "data") == (token, path)  # kept across restarts
    assert mode(path) == 0o600  # and tightened again
    assert credentials.ensure_token(tmp_path / "other")[0] != token


def test_an_empty_token_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n")
    with pytest.raises(errors.Invalid, match="token"):
        credentials.ensure_token(tmp_path)


@pytest.mark.parametrize("url, key", [
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ("http://localhost:8080", "http://127.0.0.1:8080"),
    ("HTTP://LocalHost:8080/x", "http://127.0.0.1:8080"),
    ("https://mesh.example", "https://mesh.example:443"),
    ("http://mesh.example", "http://mesh.example:80"),
    ("http://[::1]:8080", "http://[::1]:8080"),
])
def test_server_key(url: str, key: str) -> None:
    assert credentials.server_key(url) == key


def test_record_writes_one_context_per_server_and_keeps_the_others(tmp_path: Path) -> None:
    config = tmp_path / "ripple" / "config.yaml"
    credentials.record(["http://127.0.0.1:8080"], "a", config)
    credentials.record(["http://127.0.0.1:9090", "https://tunnel.example"], "b", config)
    assert mode(config) == 0o600
    credentials.record(["http://localhost:8080/"], "c", config)  # the same server: replaced
    loaded = yaml.safe_load(config.read_text())
    assert loaded["kind"] == "Config"
    assert sorted((c["server"], c["token"]) for c in loaded["contexts"]) == [
        ("http://127.0.0.1:9090", "b"), ("http://localhost:8080", "c"), ("https://tunnel.example", "b")]
    assert credentials.lookup("http://127.0.0.1:8080", config) == "c"
    assert credentials.lookup("https://tunnel.example/", config) == "b"
    assert credentials.lookup("http://127.0.0.1:1", config) is None
    assert credentials.lookup("http://127.0.0.1:1", tmp_path / "none.yaml") is None


def test_a_broken_config_file_is_one_line_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("contexts: {a: [")
    with pytest.raises(errors.Invalid, match=str(config)):
        credentials.lookup("http://127.0.0.1:8080", config)
    config.write_text("contexts: 3\n")
    with pytest.raises(errors.Invalid, match="contexts must be a list"):
        credentials.record(["http://127.0.0.1:8080"], "t", config)


def test_config_path() -> None:
    assert credentials.config_path({"RIPPLE_CONFIG": "/x/c.yaml", "XDG_CONFIG_HOME": "/y"}) == Path("/x/c.yaml")
    assert credentials.config_path({"XDG_CONFIG_HOME": "/y"}) == Path("/y/ripple/config.yaml")
    assert credentials.config_path({}) == Path.home() / ".config" / "ripple" / "config.yaml"


def test_token_for_prefers_the_flag_then_the_environment_then_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    credentials.record(["http://127.0.0.1:8080"], "recorded", config)
    env = {"RIPPLE_CONFIG": str(config)}
    server = "http://127.0.0.1:8080"
    assert credentials.token_for(server, "flag", {**env, "RIPPLE_TOKEN": "env"}) == "flag"
    assert credentials.token_for(server, None, {**env, "RIPPLE_TOKEN": "env"}) == "env"
    assert credentials.token_for(server, None, env) == "recorded"
    assert credentials.token_for("http://127.0.0.1:1", None, env) is None


@pytest.mark.parametrize("url, headers, expected", [
    ("http://127.0.0.1:8080/apis", {}, "Bearer tok"),
    ("http://127.0.0.1:8080/default/b", {}, "Bearer tok"),  # the same server's data plane
    ("http://127.0.0.1:8080/default/b", {"authorization": "Bearer ingress"}, "Bearer ingress"),
    ("http://127.0.0.1:9000/sink", {}, None),  # another host never sees the API token
    ("http://127.0.0.1:80800/apis", {}, None),  # a prefix of the server is not the server
    ("https://127.0.0.1:8080/apis", {}, None),
])
def test_the_client_sends_the_token_to_its_server_only(url: str, headers: dict[str, str],
                                                       expected: str | None) -> None:
    from ripple.cli.client import Client

    sent = Client("http://127.0.0.1:8080", token="tok")._authorized(url, headers)
    got = next((v for k, v in sent.items() if k.lower() == "authorization"), None)
    assert got == expected
    assert Client("http://127.0.0.1:8080")._authorized(url, {}) == {}
