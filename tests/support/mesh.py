"""Run `ripple up` as a real process for e2e tests, and drive it over HTTP and the CLI.

`Mesh` starts the installed `ripple` console script with its own data dir and a free port,
waits for /healthz, and can SIGKILL and restart it on the same data dir (the embedded
Valkey survives the kill and is adopted, as in production). It finds the API token as a
user's CLI does, in the config file `ripple up` writes (`RIPPLE_CONFIG`, set for every
test by tests/conftest.py), and sends it on the control API's paths (`get`, `request`);
`post` and `send_event` go to the data plane without it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

RIPPLE = str(Path(sys.executable).with_name("ripple"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mesh:
    def __init__(self, data_dir: Path, *, workers: int = 1, extra: list[str] | None = None,
                 env: dict[str, str] | None = None, host: str = "127.0.0.1",
                 api_port: int | None = None, scheme: str = "http") -> None:
        """`host` and `api_port`: the data plane's address, and the API's own listener
        (on 127.0.0.1) when it has one; `url` is the API's, `data_url` the data plane's."""
        self.data_dir, self.workers, self.extra = data_dir, workers, extra or []
        self.host, self.api_port, self.scheme = host, api_port, scheme
        self.port = free_port()
        self.env = dict(os.environ, **(env or {}))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "ripple.log"

    @property
    def url(self) -> str:
        if self.api_port is not None:
            return f"{self.scheme}://127.0.0.1:{self.api_port}"
        return self.data_url

    @property
    def data_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> "Mesh":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [RIPPLE, "up", "--port", str(self.port), "--data-dir", str(self.data_dir),
                "--workers", str(self.workers), *self.extra]
        if self.host != "127.0.0.1":
            argv += ["--host", self.host]
        if self.api_port is not None:
            argv += ["--api-port", str(self.api_port)]
        logged = self.log.stat().st_size if self.log.exists() else 0  # a restart appends
        self.proc = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "ab"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"ripple up exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.data_url + "/healthz", timeout=1,
                                            context=self.ssl_context) as r:
                    # With --workers 2 a child worker can answer before worker 0, the one
                    # `ripple up` process, serves: until it announces, a signal is one
                    # "while starting" (exit 128 + signal), not a drain (exit 0).
                    if r.status == 200 and b"Ripple is up at" in self.log.read_bytes()[logged:]:
                        return self
                    time.sleep(0.05)
            except OSError:
                time.sleep(0.1)
        raise AssertionError("ripple up did not become healthy:\n" + self.log.read_text()[-3000:])

    @property
    def token(self) -> str:
        from ripple.cli import credentials

        token = credentials.lookup(self.url, credentials.config_path(self.env))
        assert token, f"ripple up recorded no token for {self.url}"
        return token

    @property
    def auth(self) -> dict[str, str]:
        """The header of a request to the control API."""
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, *, token: bool = True,
                timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
        """Any request; with the API token unless `token=False`. Every status comes back."""
        wanted = dict(self.auth if token else {}, **(headers or {}))
        request = urllib.request.Request(self.url + path, data=body, headers=wanted, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self.ssl_context) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    ssl_context: Any = None
    """The `ssl.SSLContext` that trusts this mesh's certificate, when it serves HTTPS."""

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def cli(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([RIPPLE, *args], input=input, text=True, capture_output=True,
                                env=dict(self.env, RIPPLE_SERVER=self.url), timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"ripple {' '.join(args)} failed {result.returncode}: {result.stderr}")
        return result

    def apply(self, manifest: str) -> None:
        self.cli("apply", "-f", "-", input=manifest)

    def get(self, path: str) -> Any:
        request = urllib.request.Request(self.url + path, headers=self.auth)
        with urllib.request.urlopen(request, timeout=5, context=self.ssl_context) as r:
            return json.loads(r.read())

    def metrics(self) -> str:
        """The Prometheus text of /metrics (of the worker that answers)."""
        with urllib.request.urlopen(self.data_url + "/metrics", timeout=5, context=self.ssl_context) as r:
            return r.read().decode()

    def sample(self, name: str, **labels: str) -> float:
        """The value of the metric sample `name` with these labels (0 when absent)."""
        from prometheus_client.parser import text_string_to_metric_families

        for family in text_string_to_metric_families(self.metrics()):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return 0.0

    def wait_ready(self, path: str, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        obj: dict = {}
        while time.monotonic() < deadline:
            try:
                obj = self.get(path)
            except urllib.error.HTTPError:
                obj = {}
            conditions = (obj.get("status") or {}).get("conditions") or []
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                return obj
            time.sleep(0.05)
        raise AssertionError(f"{path} not Ready: {json.dumps(obj.get('status'))}")

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.data_url + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.ssl_context) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def send_event(self, path: str, event_id: str, *, type: str = "dev.example.test",
                   data: bytes = b'{"n": 1}', extensions: dict[str, str] | None = None) -> int:
        headers = {"ce-specversion": "1.0", "ce-id": event_id, "ce-source": "/tests",
                   "ce-type": type, "content-type": "application/json"}
        headers.update({f"ce-{k}": v for k, v in (extensions or {}).items()})
        return self.post(path, data, headers)[0]
