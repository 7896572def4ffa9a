"""Readiness probes of a replica: Knative's readinessProbe on one machine.

Called by `serving.runtime`. `probe_of(container, function=...)` reads the serving
container's `readinessProbe` (pure); `check(probe, host, port)` runs it once.

- `httpGet` (path, httpHeaders, scheme http): ready on a 2xx or 3xx answer, as kubelet.
- `tcpSocket`: ready when the port accepts a connection.
- No probe: Knative's default, a TCP probe of the port. A function revision's default is
  the host's own `GET /healthz`, which answers 200 only once `init` ran.
- `exec` needs a container to run in: refused (`ProbeError`), so the report names it.

The port is always the replica's `$PORT`: Knative only lets a probe name the container's
own port (which on one machine is the one the runtime picked), so `port` is not read.

Timing, in the manner of Knative's queue-proxy: until a replica's probe first passes it
is probed aggressively (every `AGGRESSIVE` seconds) unless `periodSeconds` is set, after
`initialDelaySeconds`; once ready it is probed every `periodSeconds` (default 10), and
`failureThreshold` (default 3) failures in a row make it not ready again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any

AGGRESSIVE = 0.025
"""Seconds between probes before the first pass: a command replica's start costs one
interval at most (Ripple's number: Knative's queue-proxy also probes far below a second)."""
DEFAULT_PERIOD = 10.0
DEFAULT_FAILURE_THRESHOLD = 3
DEFAULT_TIMEOUT = 1.0
HEALTH_PATH = "/healthz"  # serving.hosting.HEALTH_PATH


class ProbeError(ValueError):
    """A readinessProbe this runtime cannot run; the message names the field."""


@dataclasses.dataclass(frozen=True)
class Probe:
    kind: str = "tcp"                     # "tcp" or "http"
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    period: float | None = None           # None: aggressive until first ready, then default
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    initial_delay: float = 0.0
    timeout: float = DEFAULT_TIMEOUT

    def interval(self, ready: bool) -> float:
        if self.period is not None:
            return self.period
        return DEFAULT_PERIOD if ready else AGGRESSIVE


def probe_of(container: dict[str, Any], *, function: bool = False) -> Probe:
    spec = container.get("readinessProbe")
    if not isinstance(spec, dict) or not spec:
        return Probe(kind="http", path=HEALTH_PATH) if function else Probe()
    timing = dict(
        period=_seconds(spec, "periodSeconds", None),
        failure_threshold=int(_seconds(spec, "failureThreshold", DEFAULT_FAILURE_THRESHOLD) or 1),
        initial_delay=_seconds(spec, "initialDelaySeconds", 0.0) or 0.0,
        timeout=_seconds(spec, "timeoutSeconds", DEFAULT_TIMEOUT) or DEFAULT_TIMEOUT,
    )
    if isinstance(spec.get("httpGet"), dict):
        get = spec["httpGet"]
        if str(get.get("scheme", "HTTP")).upper() != "HTTP":
            raise ProbeError("readinessProbe.httpGet.scheme: only HTTP runs on one machine")
        headers = tuple((str(h.get("name")), str(h.get("value", "")))
                        for h in get.get("httpHeaders") or [] if isinstance(h, dict))
        path = str(get.get("path") or "/")
        return Probe(kind="http", path=path if path.startswith("/") else "/" + path,
                     headers=headers, **timing)  # type: ignore[arg-type]
    if "exec" in spec:
        raise ProbeError("readinessProbe.exec: needs a container; use httpGet or tcpSocket")
    return Probe(kind="tcp", **timing)  # type: ignore[arg-type]


def _seconds(spec: dict[str, Any], field: str, default: float | None) -> float | None:
    value = spec.get(field)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


async def check(probe: Probe, host: str, port: int) -> bool:
    """One probe: True when the replica passes it."""
    try:
        return await asyncio.wait_for(_check(probe, host, port), probe.timeout)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
        return False


async def _check(probe: Probe, host: str, port: int) -> bool:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        if probe.kind == "tcp":
            return True
        lines = [f"GET {probe.path} HTTP/1.1", f"Host: {host}:{port}",
                 "User-Agent: kube-probe/ripple", "Connection: close",
                 *(f"{k}: {v}" for k, v in probe.headers)]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        status_line = await reader.readline()
        parts = status_line.split()
        return len(parts) >= 2 and parts[1].isdigit() and 200 <= int(parts[1]) < 400
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
