"""The control API's token: made by `ripple up`, found by the CLI, as kind writes a kubeconfig.

`ripple up` calls `ensure_token(data_dir)` (a random token in `<data-dir>/token`, mode
0600, made once and kept across restarts) and `record(servers, token)`, which writes one
context per server URL into the user's Ripple config file. Every client command
(`ripple.cli.main`) calls `token_for(server)`: `--token`, else `RIPPLE_TOKEN`, else the
context recorded for that server. So the CLI of the user who ran `ripple up` needs no
flag, and elsewhere the token is given explicitly.

The config file is `$RIPPLE_CONFIG`, else `$XDG_CONFIG_HOME/ripple/config.yaml`, else
`~/.config/ripple/config.yaml`; it is YAML, mode 0600, rewritten atomically under a lock:

    apiVersion: ripple.dev/v1
    kind: Config
    contexts:
    - name: 127.0.0.1:8080
      server: http://127.0.0.1:8080
      token: 9f2c...
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ripple import errors

TOKEN_FILE = "token"
TOKEN_BYTES = 32
CONFIG_ENV = "RIPPLE_CONFIG"
TOKEN_ENV = "RIPPLE_TOKEN"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "ripple" / "config.yaml"


def ensure_token(data_dir: Path) -> tuple[str, Path]:
    """The data dir's API token, made on first use: (token, its file)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / TOKEN_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)  # a copy restored with looser rights is tightened again
        token = path.read_text().strip()
        if not token:
            raise errors.Invalid(f"{path}: the API token file is empty; delete it to make a new one")
        return token, path
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return token, path


def server_key(url: str) -> str:
    """A server URL as contexts are matched: scheme, host and port, `localhost` as 127.0.0.1."""
    parts = urllib.parse.urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower()
    if host == "localhost":
        host = "127.0.0.1"
    port = parts.port or (443 if scheme == "https" else 80)
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def read_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    import yaml  # here: `ripple --help` and a command given --token never read YAML

    try:
        config = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise errors.Invalid(f"{path}: not a Ripple config file: {exc}") from None
    if not isinstance(config, dict) or not isinstance(config.get("contexts", []), list):
        raise errors.Invalid(f"{path}: not a Ripple config file: contexts must be a list")
    return config


def lookup(server: str, path: Path | None = None) -> str | None:
    """The token recorded for `server`, if any."""
    key = server_key(server)
    for context in read_config(path or config_path()).get("contexts", []):
        if isinstance(context, dict) and server_key(str(context.get("server", ""))) == key:
            token = context.get("token")
            return str(token) if token else None
    return None


def token_for(server: str, flag: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The token the CLI sends to `server`: the flag, else RIPPLE_TOKEN, else the config."""
    env = os.environ if env is None else env
    return flag or env.get(TOKEN_ENV) or lookup(server, config_path(env))


def record(servers: Sequence[str], token: str, path: Path | None = None) -> Path:
    """Write (or replace) one context per server URL; the other contexts are kept."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _locked(path):
        config = read_config(path)
        keys = {server_key(s) for s in servers}
        kept = [c for c in config.get("contexts", [])
                if not (isinstance(c, dict) and server_key(str(c.get("server", ""))) in keys)]
        added = [{"name": server_key(s).split("://", 1)[1], "server": s.rstrip("/"), "token": token}
                 for s in dict.fromkeys(servers)]
        config.update({"apiVersion": "ripple.dev/v1", "kind": "Config", "contexts": kept + added})
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        import yaml

        with os.fdopen(fd, "w") as out:
            yaml.safe_dump(config, out, sort_keys=False)
        os.replace(temporary, path)
    return path


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Several `ripple up` may start at once: each rewrites the file under this lock."""
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
