"""wrk, the closed-loop load generator of P1: found, installed when missing, run, parsed.

`ensure()` returns the wrk binary, installing Debian's package (`apt-get install -y wrk`,
after an `apt-get update` if the first try fails) when it is missing and we are root;
None when that is impossible, and P1 then falls back to `bench.loadgen` processes.
`run()` posts the benchmark event and returns what wrk's `done` hook reports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench import events

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"connect":%d,' ..
    '"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def ensure(log: Any = print) -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log("wrk is missing and cannot be installed here (not root, or no apt-get)")
        return None
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    log("wrk is missing: apt-get install -y wrk")
    for attempt in range(2):
        try:
            done = subprocess.run(install, env=env, check=False, capture_output=True, timeout=300)
        except subprocess.TimeoutExpired:
            break
        if done.returncode == 0 and shutil.which("wrk"):
            return shutil.which("wrk")
        if attempt == 0:
            log("apt-get install failed; running apt-get update first")
            subprocess.run(["apt-get", "update", "-q"], env=env, check=False,
                           capture_output=True, timeout=300)
    log("could not install wrk")
    return None


def script() -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = '{events.DATA.decode()}'"]
    for name, value in events.headers("wrk-1", "bench.ingress").items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    return "\n".join(lines) + "\n" + _DONE


def run(binary: str, url: str, *, connections: int = 32, threads: int = 1,
        duration: float = 10.0) -> dict[str, Any]:
    """One wrk run; `rate` counts only 2xx answers (202 for an ingress)."""
    with tempfile.TemporaryDirectory(prefix="ripple-bench-wrk-") as tmp:
        lua = Path(tmp) / "post.lua"
        lua.write_text(script())
        argv = [binary, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
                "--timeout", "10s", "-s", str(lua), url]
        done = subprocess.run(argv, check=False, capture_output=True, text=True,
                              timeout=duration + 60)
    for line in done.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            out: dict[str, Any] = json.loads(line[len("BENCHJSON "):])
            seconds = out["duration_us"] / 1e6
            ok = out["requests"] - out["status_errors"]
            out.update(seconds=seconds, ok=ok, rate=ok / seconds if seconds else 0.0)
            return out
    return {"rate": 0.0, "ok": 0, "error": (done.stderr or done.stdout)[-500:]}
