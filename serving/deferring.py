"""Async invocation, as OpenFaaS does it: `Prefer: respond-async` (issue #10 item 4).

The router (`serving.routing`) hands a request that prefers an asynchronous answer to
`Queue.enqueue`: the whole request (method, path, query, headers, body, and the
`X-Callback-Url`) goes into a Redis stream, and the caller gets 202 with `X-Call-Id` only
once the stream has it. `Invoker` (run by the platform as a supervised task, one per
process, all in one consumer group) reads the stream and sends each request back through
the router's own port without the Prefer header, so it takes the synchronous path:
traffic split, activator, breaker, stats. Then:

- an answer of 5xx or 429, or no answer at all, is tried again after 1, 2, 4, 8 s
  (`BACKOFF` doubling), up to `MAX_ATTEMPTS` attempts in all; the retry waits in a sorted
  set (`keys.SERVING_INVOCATION_RETRIES`) and a Lua script moves it back into the stream
  when it is due, so a retry survives a restart;
- the final answer (any other status, or the last attempt's) is POSTed to the callback URL
  when one was given, as OpenFaaS's queue-worker posts it: the function's body and
  content type, `X-Call-Id`, `X-Function-Status`, `X-Duration-Seconds`. The callback is
  posted once; a failed callback is logged;
- only then is the entry acknowledged and deleted: delivery is at least once. An entry
  whose invoker died mid-way is claimed by another after `CLAIM_IDLE` seconds (longer than
  the longest revision timeout, so a slow request is not run twice). An invoker's own
  reclaim takes back what it is still running too (XAUTOCLAIM goes by idle time alone): it
  skips those entries, so it never runs one entry twice at once.

Keys: `ripple.keys.SERVING_INVOCATIONS` (stream, group `INVOKER_GROUP`) and
`SERVING_INVOCATION_RETRIES`. Each stream entry has one field, `invocation`: JSON with the
body in base64.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from ripple import keys, redisclient

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = 1.0
CLAIM_IDLE = 630.0
"""Seconds before a read but unacknowledged entry is taken over: Knative's
`max-revision-timeout-seconds` (600) and a margin."""
MAX_BODY = 8 * 1024 * 1024
CONCURRENCY = 64
FIELD = b"invocation"

_MOVE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('XADD', KEYS[1], '*', 'invocation', member)
end
return #due
"""


def prefers_async(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a `Prefer` header asks for `respond-async` (RFC 7240)."""
    for key, value in headers:
        if key == b"prefer" and b"respond-async" in value.lower():
            return True
    return False


def make_invocation(method: str, target: str, headers: list[tuple[bytes, bytes]],
                    body: bytes) -> dict[str, Any]:
    """The stored form of one request. `Prefer` is left out, so the invoker's request takes
    the synchronous path; Host stays, so a request addressed by Host is routed the same."""
    kept = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers
            if k not in (b"prefer", b"content-length", b"connection",
                         b"transfer-encoding", b"x-callback-url")]
    callback = next((v.decode("latin-1") for k, v in headers if k == b"x-callback-url"), "")
    return {"id": uuid.uuid4().hex, "method": method, "target": target, "headers": kept,
            "body": base64.b64encode(body).decode(), "callback": callback, "attempt": 1,
            "accepted": time.time()}


def retry_delay(attempt: int, backoff: float = BACKOFF) -> float:
    """Seconds before attempt `attempt + 1`: 1, 2, 4, 8 s after the 1st, 2nd, 3rd, 4th."""
    return float(backoff * 2 ** (attempt - 1))


def retryable(status: int | None) -> bool:
    """None: no answer (refused, reset, timed out)."""
    return status is None or status >= 500 or status == 429


class Queue:
    """The Redis side: every operation is one command, one transaction or one script."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._move_due = client.register_script(_MOVE_DUE)

    async def enqueue(self, invocation: dict[str, Any]) -> str:
        with redisclient.translated():
            await self.client.xadd(keys.SERVING_INVOCATIONS,
                                   {FIELD: json.dumps(invocation).encode()})
        return str(invocation["id"])

    async def ensure_group(self) -> None:
        with redisclient.translated():  # before ResponseError: READONLY and OOM are ones too
            try:
                await self.client.xgroup_create(keys.SERVING_INVOCATIONS, keys.INVOKER_GROUP,
                                                id="0", mkstream=True)
            except aioredis.ResponseError as exc:
                if isinstance(exc, redisclient.UNAVAILABLE) or "BUSYGROUP" not in str(exc):
                    raise

    async def read(self, consumer: str, count: int,
                   block_ms: int) -> list[tuple[bytes, dict[str, Any]]]:
        with redisclient.translated():
            answer: Any = await self.client.xreadgroup(keys.INVOKER_GROUP, consumer,
                                                       {keys.SERVING_INVOCATIONS: ">"},
                                                       count=count, block=block_ms)
        return [(entry, json.loads(fields[FIELD])) for _, entries in answer or []
                for entry, fields in entries if FIELD in fields]

    async def reclaim(self, consumer: str, min_idle: float) -> list[tuple[bytes, dict[str, Any]]]:
        with redisclient.translated():
            answer: Any = await self.client.xautoclaim(keys.SERVING_INVOCATIONS, keys.INVOKER_GROUP,
                                                       consumer, int(min_idle * 1000), "0-0", count=100)
        return [(entry, json.loads(fields[FIELD])) for entry, fields in answer[1]
                if fields and FIELD in fields]

    async def done(self, entry: bytes) -> None:
        with redisclient.translated():
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.xack(keys.SERVING_INVOCATIONS, keys.INVOKER_GROUP, entry)
                pipe.xdel(keys.SERVING_INVOCATIONS, entry)
                await pipe.execute()

    async def retry(self, entry: bytes, invocation: dict[str, Any], due: float) -> None:
        """Park the next attempt until `due` and drop this one, in one transaction."""
        with redisclient.translated():
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.zadd(keys.SERVING_INVOCATION_RETRIES, {json.dumps(invocation): due})
                pipe.xack(keys.SERVING_INVOCATIONS, keys.INVOKER_GROUP, entry)
                pipe.xdel(keys.SERVING_INVOCATIONS, entry)
                await pipe.execute()

    async def move_due(self, now: float, limit: int = 100) -> int:
        with redisclient.translated():
            moved = await self._move_due(
                keys=[keys.SERVING_INVOCATIONS, keys.SERVING_INVOCATION_RETRIES], args=[now, limit])
        return int(moved)


class Invoker:
    """Runs the queued invocations through the router at `base_url` (Ripple's own port)."""

    def __init__(self, queue: Queue, base_url: str, *, consumer: str = "",
                 max_attempts: int = MAX_ATTEMPTS, backoff: float = BACKOFF,
                 claim_idle: float = CLAIM_IDLE, clock: Callable[[], float] = time.time,
                 concurrency: int = CONCURRENCY, trust: ssl.SSLContext | None = None) -> None:
        """`trust`: how to verify an https `base_url` (the mesh's own certificate); None:
        the system's trust store."""
        self.queue, self.base_url = queue, base_url.rstrip("/")
        self.trust: ssl.SSLContext | bool = trust if trust is not None else True
        self.consumer = consumer or f"invoker-{uuid.uuid4().hex[:8]}"
        self.max_attempts, self.backoff, self.claim_idle = max_attempts, backoff, claim_idle
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[bytes] = set()
        """Entries this invoker is running: its own reclaim hands them back when they run
        longer than `claim_idle`."""

    async def run(self) -> None:
        """Until cancelled; the platform supervises it."""
        await self.queue.ensure_group()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
            try:
                while True:
                    await self.queue.move_due(self.clock())
                    entries = await self.queue.reclaim(self.consumer, self.claim_idle)
                    entries += await self.queue.read(self.consumer, 16, 200)
                    for entry, invocation in entries:
                        if entry in self._running:
                            continue
                        self._running.add(entry)
                        await self._slots.acquire()
                        task = asyncio.create_task(self._guarded(session, entry, invocation))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
            finally:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _guarded(self, session: aiohttp.ClientSession, entry: bytes,
                       invocation: dict[str, Any]) -> None:
        try:
            await self.invoke(session, entry, invocation)
        except Exception:
            # Left unacknowledged: another invoker claims it after `claim_idle`.
            log.exception("async invocation %s failed", invocation.get("id"))
        finally:
            self._running.discard(entry)
            self._slots.release()

    async def invoke(self, session: aiohttp.ClientSession, entry: bytes,
                     invocation: dict[str, Any]) -> None:
        started = time.monotonic()
        status: int | None = None
        body, content_type = b"", ""
        try:
            async with session.request(
                    invocation["method"], self.base_url + invocation["target"],
                    headers=invocation["headers"], data=base64.b64decode(invocation["body"]),
                    allow_redirects=False, ssl=self.trust) as response:
                status = response.status
                body = await response.read()
                content_type = response.headers.get("content-type", "")
        except (aiohttp.ClientError, OSError) as exc:
            log.info("async invocation %s: attempt %d failed: %s",
                     invocation["id"], invocation["attempt"], exc)
        attempt = int(invocation["attempt"])
        if retryable(status) and attempt < self.max_attempts:
            nxt = {**invocation, "attempt": attempt + 1}
            await self.queue.retry(entry, nxt, self.clock() + retry_delay(attempt, self.backoff))
            return
        if invocation.get("callback"):
            await self._call_back(session, invocation, status, body, content_type,
                                  time.monotonic() - started)
        await self.queue.done(entry)

    async def _call_back(self, session: aiohttp.ClientSession, invocation: dict[str, Any],
                         status: int | None, body: bytes, content_type: str,
                         seconds: float) -> None:
        headers = {"X-Call-Id": invocation["id"],
                   "X-Function-Status": str(status if status is not None else 503),
                   "X-Duration-Seconds": f"{seconds:.6f}"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            async with session.post(invocation["callback"], data=body, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=30)) as answer:
                await answer.read()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("async invocation %s: callback to %s failed: %s",
                        invocation["id"], invocation["callback"], exc)

