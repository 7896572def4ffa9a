"""`ripple event display` as a process: it replies with `--reply`, and refuses a bad flag
in one line, with no traceback. (A taken port: tests/e2e/test_up_robustness.py.)"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request

import pytest

from tests.support.mesh import RIPPLE, free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def display(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([RIPPLE, "event", "display", *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def post(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=b'{"n": 1}', method="POST",
        headers={"ce-specversion": "1.0", "ce-id": "d-1", "ce-type": "dev.example.in",
                 "ce-source": "/tests", "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()


def listening(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
    except urllib.error.HTTPError:
        return True  # a GET is not an event: any answer means it listens
    except OSError:
        return False
    return True


def test_reply_and_the_request_line() -> None:
    port = free_port()
    proc = display("--port", str(port), "--reply", "dev.example.out")
    try:
        wait_until(lambda: listening(port), what="the display listens")
        status, headers, body = post(port, "/step-1")
        assert status == 200 and body == b'{"n": 1}'
        assert headers["ce-type"] == "dev.example.out"
        assert headers["ce-source"] == "/event-display/step-1"
        assert headers["ce-id"] != "d-1" and headers["content-type"] == "application/json"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0  # SIGTERM stops it cleanly
    assert "Request: POST /step-1" in out
    assert f"Reply: type dev.example.out, id {headers['ce-id']}, source /event-display/step-1" in out


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--port", "99999", "argument --port: '99999' is not a port: an integer from 0 to 65535"),
    ("--port", "-1", "argument --port: '-1' is not a port: an integer from 0 to 65535"),
    ("--port", "http", "argument --port: 'http' is not a port: an integer from 0 to 65535"),
    ("--reply", " ", "argument --reply: the reply's type must be a non-empty string"),
])
def test_a_bad_flag_is_a_usage_error(flag: str, value: str, message: str) -> None:
    result = subprocess.run([RIPPLE, "event", "display", flag, value],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(message)
    assert "Traceback" not in result.stderr
