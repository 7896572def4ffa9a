"""serving.hosting in-process: one Host on a loopback port, driven by raw HTTP/1.1.

The process-level behaviour (exiting to be recycled, SIGTERM, the watchdog, the zygote) is
in tests/integration/test_function_host.py; here `Host.serve` returns the exit code the
process would leave with.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from serving import functions, hosting
from tests.support import http11

HANDLERS = Path(__file__).resolve().parent.parent / "support" / "functions" / "handlers.py"


@contextlib.asynccontextmanager
async def hosted(function: functions.Function | str, timeout: float = 10.0,
                 ) -> AsyncIterator[tuple[hosting.Host, int, asyncio.Task[int]]]:
    if isinstance(function, str):
        function = functions.load(f"{HANDLERS}:{function}")
    sock = hosting.bind("127.0.0.1", 0)
    host = hosting.Host(function, timeout=timeout)
    serving = asyncio.ensure_future(host.serve(sock))
    try:
        yield host, sock.getsockname()[1], serving
    finally:
        host.stop()
        await asyncio.wait_for(serving, 10)
        sock.close()


async def test_binary_event_and_init_once_per_process() -> None:
    async with hosted("echo") as (_, port, _):
        first = await http11.event(port, {"a": 1})
        second = await http11.event(port, {"a": 2}, ce_type="other")
    assert first.status == 200 and first.headers["content-type"] == "application/json"
    assert first.json()["data"] == {"a": 1} and second.json()["type"] == "other"
    # init ran once; what it built is the same object for every request
    assert first.json()["inits"] == second.json()["inits"] == 1
    assert first.json()["connection"] == second.json()["connection"]


async def test_structured_event() -> None:
    body = json.dumps({"specversion": "1.0", "id": "s-1", "source": "/s", "type": "structured",
                       "data": {"k": "v"}}).encode()
    async with hosted("echo") as (_, port, _):
        answer = await http11.request(
            port, headers={"content-type": "application/cloudevents+json"}, body=body)
    assert answer.status == 200
    assert answer.json()["type"] == "structured" and answer.json()["data"] == {"k": "v"}


async def test_a_returned_cloudevent_is_a_binary_reply() -> None:
    async with hosted("reply") as (_, port, _):
        answer = await http11.event(port, {"n": 1})
    assert answer.status == 200
    assert answer.headers["ce-type"] == "reply.dev.ripple.test"
    assert answer.headers["ce-source"] == "/handlers"
    assert answer.headers["ce-subject"] == "caf%C3%A9%20bar"
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"got": {"n": 1}}


@pytest.mark.parametrize("name, status, content_type, body", [
    ("raw", 200, "application/octet-stream", b"\x00\x01raw"),
    ("nothing", 202, None, b""),
    ("async_echo", 200, "application/json", b'{"async": true, "id": "e-1"}'),
    ("bad_return", 500, "application/json",
     b'{"error": "TypeError: a handler returns a CloudEvent, dict, list, bytes, str, Response or None, not int"}'),
])
async def test_returns(name, status, content_type, body) -> None:
    async with hosted(name) as (_, port, _):
        answer = await http11.event(port, {})
    assert (answer.status, answer.headers.get("content-type"), answer.body) == (status, content_type, body)


@pytest.mark.parametrize("name, method, target, status, body", [
    ("web", "GET", "/p?x=1", 200, {"method": "GET", "path": "/p", "query": {"x": "1"}, "body": ""}),
    ("web", "PUT", "/", 200, {"method": "PUT", "path": "/", "query": {}, "body": "hello"}),
    ("web_nothing", "POST", "/", 204, None),
    ("web_teapot", "GET", "/", 418, None),
])
async def test_http_functions(name, method, target, status, body) -> None:
    async with hosted(name) as (_, port, _):
        answer = await http11.request(port, method, target, body=b"hello" if method == "PUT" else b"")
    assert answer.status == status
    if body is not None:
        assert answer.json() == body
    if name == "web_teapot":
        assert answer.body == b"short and stout" and answer.headers["x-pot"] == "tea"


async def test_not_a_cloudevent_is_400() -> None:
    async with hosted("echo") as (_, port, _):
        answer = await http11.request(port, headers={"content-type": "application/json"}, body=b"{}")
    assert answer.status == 400 and answer.json()["error"].startswith("not a CloudEvent")


async def test_an_exception_is_500_with_the_traceback_in_the_log(caplog) -> None:
    caplog.set_level(logging.ERROR, logger="serving.hosting")
    async with hosted("boom") as (_, port, _):
        answer = await http11.event(port, {})
    assert answer.status == 500
    assert answer.json() == {"error": "ValueError: the handler broke"}
    record = next(r for r in caplog.records if r.exc_info)
    assert "second line not shown" in logging.Formatter().formatException(record.exc_info)
    assert "Traceback" in caplog.text


async def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    async with hosted("async_echo") as (_, port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answers = []
        for i in range(3):
            writer.write(http11.encode("POST", "/", {**http11.EVENT_HEADERS, "ce-id": f"k-{i}"},
                                       b"{}", close=False))
            answers.append(await http11.read_answer(reader))
        writer.close()
    assert [a.json()["id"] for a in answers] == ["k-0", "k-1", "k-2"]


async def test_healthz_waits_for_init_and_requests_wait_too() -> None:
    release = asyncio.Event()

    async def init(context: functions.Context) -> None:
        await release.wait()
        context.user_data["ready"] = True

    def handler(event: Any, context: functions.Context) -> dict[str, Any]:
        return {"ready": context.user_data["ready"]}

    async with hosted(functions.make_function("h", handler, init)) as (host, port, _):
        assert (await http11.request(port, "GET", hosting.HEALTH_PATH)).status == 503
        early = asyncio.ensure_future(http11.event(port, {}))
        while not host.waiting_for_init:     # the early request arrived and is held
            await asyncio.sleep(0.005)
        release.set()
        assert (await early).json() == {"ready": True}
        health = await http11.request(port, "GET", hosting.HEALTH_PATH)
    assert (health.status, health.body) == (200, b"ok")


async def test_a_failing_init_exits_1_before_serving(caplog) -> None:
    function = functions.load(f"{HANDLERS.parent / 'badinit.py'}:handler")
    async with hosted(function) as (_, _, serving):
        assert await asyncio.wait_for(serving, 10) == hosting.EXIT_INIT_FAILED
    assert "cannot reach the database" in caplog.text


@pytest.mark.parametrize("name", ["stuck", "stuck_async"])
async def test_a_stuck_handler_gets_504_and_the_host_recycles(name) -> None:
    import importlib

    try:
        async with hosted(name, timeout=0.3) as (_, port, serving):
            answer = await http11.event(port, {})
            assert answer.status == 504
            assert answer.json() == {"error": "the handler ran past its timeout of 0.3s"}
            assert await asyncio.wait_for(serving, 10) == hosting.EXIT_RECYCLE
            with pytest.raises(OSError):     # it stopped accepting
                await http11.event(port, {})
    finally:
        importlib.import_module("handlers").STUCK.set()   # let the stuck thread go


async def test_stop_drains_the_request_in_flight_and_refuses_new_ones() -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def handler(event: Any) -> dict[str, str]:
        entered.set()
        await release.wait()
        return {"done": "yes"}

    async with hosted(functions.make_function("slow", handler)) as (host, port, serving):
        in_flight = asyncio.ensure_future(http11.event(port, {}))
        await entered.wait()
        host.stop(0)
        with pytest.raises(OSError):
            await http11.event(port, {})
        assert not serving.done()
        release.set()
        assert (await in_flight).json() == {"done": "yes"}
        assert await asyncio.wait_for(serving, 10) == 0


@pytest.mark.parametrize("text, seconds", [(None, hosting.DEFAULT_TIMEOUT), ("", hosting.DEFAULT_TIMEOUT),
                                           ("2.5", 2.5), ("30", 30.0)])
def test_timeout_from_env(text, seconds, monkeypatch) -> None:
    monkeypatch.delenv(hosting.TIMEOUT_ENV, raising=False)
    if text is not None:
        monkeypatch.setenv(hosting.TIMEOUT_ENV, text)
    assert hosting.timeout_from_env() == seconds


@pytest.mark.parametrize("text", ["0", "-1", "soon", "nan"])
def test_timeout_from_env_names_the_variable(text) -> None:
    from ripple import errors

    with pytest.raises(errors.Invalid, match=f"RIPPLE_TIMEOUT_SECONDS='{text}'"):
        hosting.timeout_from_env(text)


@pytest.mark.parametrize("failure, text", [
    (ValueError("x\ny"), "ValueError: x"),
    (KeyError(), "KeyError"),
    (RuntimeError("a" * 500), "RuntimeError: " + "a" * 186),
])
def test_short(failure, text) -> None:
    assert hosting.short(failure) == text


def test_bind_picks_a_free_port() -> None:
    sock = hosting.bind("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0 and sock.family == socket.AF_INET
    finally:
        sock.close()
