"""Async invocation through the router on real sockets and a real Valkey: `Prefer:
respond-async` answers 202 at once, the request is stored in Redis, the invoker runs it
through the router with retries, and the answer is POSTed to `X-Callback-Url`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
import uvicorn
from aiohttp import web

from ripple import keys
from serving import deferring, hosting, routing, traffic
from serving.routing import RevisionKey
from tests.support.waiting import until

NS = "ns"
KEY = RevisionKey(NS, "foo-00001")


def free_port() -> int:
    sock = hosting.bind("127.0.0.1", 0)
    try:
        return int(sock.getsockname()[1])
    finally:
        sock.close()


@contextlib.asynccontextmanager
async def app(handler) -> AsyncIterator[str]:
    application = web.Application()
    application.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class Function:
    """A replica that fails `failures` times with `status`, then echoes; a call waits while
    `released` is clear."""

    def __init__(self, failures: int = 0, status: int = 503) -> None:
        self.failures, self.status, self.calls = failures, status, 0
        self.released = asyncio.Event()
        self.released.set()

    async def __call__(self, request: web.Request) -> web.Response:
        self.calls += 1
        await self.released.wait()
        body = await request.read()
        if self.calls <= self.failures:
            return web.Response(status=self.status, text="not now")
        return web.json_response({"path": request.raw_path, "method": request.method,
                                  "body": body.decode(), "call": self.calls,
                                  "prefer": request.headers.get("prefer")})


class Callbacks:
    def __init__(self) -> None:
        self.posts: list[tuple[dict, bytes]] = []

    async def __call__(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.read()))
        return web.Response(status=200)


@contextlib.asynccontextmanager
async def bed(redis_client, function: Function, **invoker) -> AsyncIterator[tuple]:
    table = traffic.Table()
    table.set_route({"metadata": {"name": "foo", "namespace": NS},
                     "status": {"traffic": [{"revisionName": KEY.name, "percent": 100}]}})
    endpoints = routing.StaticEndpoints()
    endpoints.set_revision(KEY)
    queue = deferring.Queue(redis_client)
    router = routing.Router(table, endpoints, rng=random.Random(1), invocations=queue)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(router, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning", loop="asyncio",
                                           proxy_headers=False))
    serving = asyncio.create_task(server.serve())
    callbacks = Callbacks()
    await until(lambda: server.started)
    try:
        async with app(function) as replica, app(callbacks) as callback:
            endpoints.set_ready(KEY, [replica])
            base = f"http://127.0.0.1:{port}"

            @contextlib.asynccontextmanager
            async def invoking() -> AsyncIterator[None]:
                task = asyncio.create_task(
                    deferring.Invoker(queue, base, backoff=0.05, **invoker).run())
                try:
                    yield
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

            yield base, f"http://{callback}/done", callbacks, invoking
    finally:
        server.should_exit = True
        await serving
        await router.close()


def emptied(redis_client) -> Callable[[], Awaitable[bool]]:
    """The stream is empty: the invoker acknowledged and deleted every entry, which it does
    only after the callback was posted, so a test waits for this before it stops the
    invoker (stopping it between the two leaves the entry for a later reclaim)."""
    async def check() -> bool:
        return await redis_client.xlen(keys.SERVING_INVOCATIONS) == 0
    return check


async def post_async(url: str, callback: str, body: bytes = b"hello") -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(
            url, data=body, headers={"Prefer": "respond-async",
                                     "X-Callback-Url": callback}) as answer:
        return answer.status, dict(answer.headers)


async def test_respond_async_is_202_then_the_answer_is_posted_back(redis_client) -> None:
    async with bed(redis_client, Function()) as (base, callback, callbacks, invoking):
        async with invoking():
            status, headers = await post_async(f"{base}/serving/ns/foo/x?q=1", callback)
            assert status == 202
            await until(lambda: len(callbacks.posts) == 1)
            await until(emptied(redis_client), what="the entry acknowledged and deleted")
    sent, body = callbacks.posts[0]
    assert sent["X-Call-Id"] == headers["x-call-id"]
    assert sent["X-Function-Status"] == "200"
    assert float(sent["X-Duration-Seconds"]) >= 0
    assert json.loads(body) == {"path": "/x?q=1", "method": "POST", "body": "hello",
                                "call": 1, "prefer": None}


async def test_stored_durably_before_any_invoker_runs(redis_client) -> None:
    async with bed(redis_client, Function()) as (base, callback, callbacks, invoking):
        status, _ = await post_async(f"{base}/serving/ns/foo", callback)
        assert status == 202
        assert await redis_client.xlen(keys.SERVING_INVOCATIONS) == 1
        async with invoking():
            await until(lambda: len(callbacks.posts) == 1)
    assert callbacks.posts[0][0]["X-Function-Status"] == "200"


async def test_an_entry_of_a_dead_invoker_is_claimed_by_another(redis_client) -> None:
    function = Function()
    async with bed(redis_client, function, claim_idle=0.05) as (base, callback, callbacks,
                                                                invoking):
        await post_async(f"{base}/serving/ns/foo", callback)
        queue = deferring.Queue(redis_client)
        await queue.ensure_group()
        assert len(await queue.read("died-mid-way", 10, 100)) == 1  # read, never acknowledged
        async with invoking():
            await until(lambda: len(callbacks.posts) == 1)
            await until(emptied(redis_client), what="the entry acknowledged and deleted")
    assert callbacks.posts[0][0]["X-Function-Status"] == "200"
    assert function.calls == 1 and len(callbacks.posts) == 1


async def test_an_invoker_does_not_run_again_what_it_is_running(redis_client) -> None:
    # A call longer than claim_idle: the invoker's own XAUTOCLAIM hands the entry back to it
    # on every turn of its loop while the first run of it is still waiting for the answer.
    function = Function()
    function.released.clear()
    async with bed(redis_client, function, claim_idle=0.05) as (base, callback, callbacks,
                                                                invoking):
        async with invoking():
            await post_async(f"{base}/serving/ns/foo", callback)

            async def reclaimed_twice() -> bool:
                pending = await redis_client.xpending_range(
                    keys.SERVING_INVOCATIONS, keys.INVOKER_GROUP, "-", "+", 1)
                return bool(pending) and pending[0]["times_delivered"] >= 3
            await until(reclaimed_twice, what="the running entry reclaimed twice")
            function.released.set()
            await until(lambda: len(callbacks.posts) == 1)
            await until(emptied(redis_client), what="the entry acknowledged and deleted")
    assert function.calls == 1 and len(callbacks.posts) == 1


async def test_retries_a_5xx_until_it_succeeds(redis_client) -> None:
    function = Function(failures=2)
    async with bed(redis_client, function) as (base, callback, callbacks, invoking):
        async with invoking():
            await post_async(f"{base}/serving/ns/foo", callback)
            await until(lambda: len(callbacks.posts) == 1)
    assert callbacks.posts[0][0]["X-Function-Status"] == "200"
    assert json.loads(callbacks.posts[0][1])["call"] == 3
    assert await redis_client.zcard(keys.SERVING_INVOCATION_RETRIES) == 0


async def test_gives_up_after_max_attempts_and_posts_the_last_answer(redis_client) -> None:
    function = Function(failures=10, status=500)
    async with bed(redis_client, function, max_attempts=2) as (base, callback, callbacks,
                                                               invoking):
        async with invoking():
            await post_async(f"{base}/serving/ns/foo", callback)
            await until(lambda: len(callbacks.posts) == 1)
            await until(emptied(redis_client), what="the entry acknowledged and deleted")
    assert callbacks.posts[0][0]["X-Function-Status"] == "500"
    assert callbacks.posts[0][1] == b"not now"
    assert function.calls == 2


async def test_a_4xx_is_final(redis_client) -> None:
    function = Function(failures=1, status=400)
    async with bed(redis_client, function) as (base, callback, callbacks, invoking):
        async with invoking():
            await post_async(f"{base}/serving/ns/foo", callback)
            await until(lambda: len(callbacks.posts) == 1)
    assert callbacks.posts[0][0]["X-Function-Status"] == "400"
    assert function.calls == 1


async def test_unknown_route_is_404_and_not_stored(redis_client) -> None:
    async with bed(redis_client, Function()) as (base, callback, _, _invoking):
        status, _ = await post_async(f"{base}/serving/ns/nope", callback)
        assert status == 404
        assert await redis_client.exists(keys.SERVING_INVOCATIONS) == 0


@pytest.mark.parametrize("headers, want", [
    ([(b"prefer", b"respond-async")], True),
    ([(b"prefer", b"wait=10, Respond-Async")], True),
    ([(b"prefer", b"return=minimal")], False),
    ([], False),
])
def test_prefers_async(headers: list, want: bool) -> None:
    assert deferring.prefers_async(headers) is want


@pytest.mark.parametrize("attempt, delay", [(1, 1.0), (2, 2.0), (4, 8.0)])
def test_retry_delay(attempt: int, delay: float) -> None:
    assert deferring.retry_delay(attempt) == delay


@pytest.mark.parametrize("status, want", [(None, True), (500, True), (503, True), (429, True),
                                          (200, False), (202, False), (404, False)])
def test_retryable(status: int | None, want: bool) -> None:
    assert deferring.retryable(status) is want
