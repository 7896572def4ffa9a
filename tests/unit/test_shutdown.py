"""`shutdown.ending_streams`: once the worker is stopping, a request whose body was read
sees its client hang up, and a stream so ended is closed with its last chunk; a body still
arriving and an answer being computed are left to uvicorn's graceful timeout. Driven as
plain ASGI calls, and once through the API server's real watch (`apiserver`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from controllers.platforms.local import apiserver, shutdown
from ripple.store import MemoryResourceStore
from tests.unit.test_apiserver import KINDS, admit, resolve

SCOPE = {"type": "http", "method": "GET", "path": "/s", "headers": []}
LAST = {"type": "http.response.body", "body": b"", "more_body": False}


class Client:
    """A client that sends `body` (chunks) and then stays, and records what it is sent."""

    def __init__(self, *body: bytes, finish: bool = True) -> None:
        self.messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in body]
        if finish:
            self.messages.append({"type": "http.request", "body": b"", "more_body": False})
        self.sent: list[dict[str, Any]] = []
        self.first_sent = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        if self.messages:
            return self.messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        self.first_sent.set()


async def closing(scope: Any, receive: Any, send: Any) -> None:
    """A stream that, told of a hang-up, closes its answer itself."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    while (await receive())["type"] == "http.request":
        pass  # reads its body, then waits for the disconnect
    await send({"type": "http.response.body", "body": b"bye\n", "more_body": False})


async def tail(scope: Any, receive: Any, send: Any) -> None:
    """As `broker.tailing`: the answer starts, then only a hang-up ends it."""
    message = await receive()
    assert message["type"] == "http.request" and not message.get("more_body")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"line\n", "more_body": True})
    while (await receive())["type"] != "http.disconnect":
        pass


async def echo(scope: Any, receive: Any, send: Any) -> None:
    """Reads the whole body, then answers it in one message."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def test_a_stream_ends_with_its_last_chunk_once_stopping() -> None:
    stopping, client = asyncio.Event(), Client()
    serving = asyncio.ensure_future(shutdown.ending_streams(tail, stopping)(SCOPE, client.receive, client.send))
    await asyncio.wait_for(client.first_sent.wait(), 1)
    await asyncio.sleep(0.01)
    assert not serving.done()  # a tail goes on until its client hangs up...
    stopping.set()  # ...or the worker stops
    await asyncio.wait_for(serving, 1)
    assert [m.get("body") for m in client.sent] == [None, b"line\n", b""]
    assert client.sent[-1] == LAST


async def test_an_already_stopping_worker_ends_a_new_stream_at_once() -> None:
    stopping, client = asyncio.Event(), Client()
    stopping.set()
    await asyncio.wait_for(shutdown.ending_streams(tail, stopping)(SCOPE, client.receive, client.send), 1)
    assert client.sent[-1] == LAST


async def test_a_body_still_arriving_is_read_whole_while_stopping() -> None:
    stopping, client = asyncio.Event(), Client(b"a", b"b")
    stopping.set()
    await asyncio.wait_for(shutdown.ending_streams(echo, stopping)(SCOPE, client.receive, client.send), 1)
    assert client.sent == [{"type": "http.response.start", "status": 200, "headers": []},
                           {"type": "http.response.body", "body": b"ab"}]  # no extra chunk


async def test_an_answer_that_ended_itself_gets_no_extra_chunk() -> None:
    stopping, client = asyncio.Event(), Client()
    stopping.set()
    await asyncio.wait_for(shutdown.ending_streams(closing, stopping)(SCOPE, client.receive, client.send), 1)
    assert [m.get("body") for m in client.sent] == [None, b"bye\n"]


async def test_a_client_that_hangs_up_first_is_told_so() -> None:
    """Before the stop, messages pass as they come: a real disconnect ends the tail."""
    stopping = asyncio.Event()
    messages = [{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(shutdown.ending_streams(tail, stopping)(SCOPE, receive, send), 1)
    assert sent[-1]["body"] == b"line\n"  # no closing chunk of ours: the client is gone


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
async def test_other_scopes_pass_untouched(kind: str) -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["type"], receive, send))

    receive, send = object(), object()
    await shutdown.ending_streams(app, asyncio.Event())({"type": kind}, receive, send)
    assert seen == [(kind, receive, send)]


async def test_the_api_servers_watch_ends_when_stopping() -> None:
    store = MemoryResourceStore(resolve=resolve)
    api = apiserver.make_api(store, kinds=KINDS, admit=admit)
    stopping, client = asyncio.Event(), Client()
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/apis/eventing.knative.dev/v1/namespaces/default/brokers",
             "raw_path": b"", "query_string": b"watch=true", "root_path": "",
             "client": ("127.0.0.1", 1), "server": ("test", 80), "headers": []}
    serving = asyncio.ensure_future(shutdown.ending_streams(api, stopping)(scope, client.receive, client.send))
    await asyncio.wait_for(client.first_sent.wait(), 5)
    await asyncio.sleep(0.05)
    assert not serving.done() and client.sent[0]["status"] == 200
    stopping.set()
    await asyncio.wait_for(serving, 5)
    assert client.sent[-1] == LAST
