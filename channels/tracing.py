"""Recording the hops of each event: the data plane's side of `ripple event trace`.

One `Tracer` per process, handed to the fan-outs (`channels.fanout`: where an event was
accepted and which queues it was copied to) and the dispatchers (`channels.dispatching`:
every delivery attempt, its status, latency, outcome and reply). The record formats are
`ripple.traces.Hop`.

Cost on the hot path: recording only appends the encoded record to a buffer; a flush every
`FLUSH_INTERVAL` writes the whole buffer in one pipeline, with one script per hash tag
(`keys.event_trace`'s shards) that RPUSHes each record, trims each list to its last
`max_hops` and renews its TTL. A trace is evidence, not data: a flush that fails is logged
and dropped, a buffer over `MAX_BUFFERED` drops new records (counted), and a kill loses at
most the last flush interval. `sample` below 1 records a share of the events, decided by
the CRC-32 of the id so every process agrees on one event; 0 turns recording off.
When `ripple.telemetry` is configured each hop is also an OpenTelemetry span.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import zlib
from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis

from ripple import cloudevents as ce
from ripple import keys, redisclient, telemetry, traces
from ripple.cloudevents import records
from ripple.settings import TraceSettings

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.1
MAX_BUFFERED = 50_000
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

# KEYS: the trace lists of one shard. ARGV[1]: TTL (ms); ARGV[2]: hops kept per list; then
# per record the KEYS index of its list and the record.
_RECORD = """
local ttl, keep = ARGV[1], -tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('RPUSH', KEYS[tonumber(ARGV[i])], ARGV[i + 1])
end
for _, key in ipairs(KEYS) do
  redis.call('LTRIM', key, keep, -1)
  redis.call('PEXPIRE', key, ttl)
end
return #KEYS
"""

_ACTIONS = {"ack": "delivered", "reply": "replied", "retry": "retry", "dead-letter": "dead-letter",
            "drop": "dropped"}


class Tracer:
    def __init__(self, client: aioredis.Redis | None, settings: TraceSettings, *, worker: str = "",
                 spans: telemetry.Spans | None = None) -> None:
        self.redis, self.settings, self.worker, self.spans = client, settings, worker, spans
        self.enabled = client is not None and settings.sample > 0
        self._threshold = int(settings.sample * 2**32)
        self._buffer: list[tuple[str, bytes]] = []
        self._flushing: asyncio.Future[None] | None = None
        self._script = client.register_script(_RECORD) if client is not None else None
        self.dropped = 0

    def sampled(self, event_id: str) -> bool:
        return self._threshold >= 2**32 or zlib.crc32(event_id.encode("utf-8", "surrogatepass")) < self._threshold

    # -- hops ------------------------------------------------------------------------------
    def accepted(self, log_stream: str, entry_id: bytes, attributes: Mapping[str, object],
                 matched: list[str]) -> None:
        """The fan-out of `log_stream` copied the entry to `matched` (maybe none)."""
        event_id = attributes.get("id")
        if not isinstance(event_id, str) or not self.sampled(event_id):
            return
        hop: traces.Hop = {"hop": traces.ACCEPTED, "at": time.time(), "id": event_id,
                           "source": str(attributes.get("source", "")), "type": str(attributes.get("type", "")),
                           "log": log_label(log_stream), "entry": entry_id.decode(), "matched": matched}
        self._add(hop, attributes.get("traceparent") if self.spans is not None else None)

    def attempt(self, target: str, event: ce.CloudEvent, phase: str, url: str, retries_done: int,
                status: int | None, error: str | None, action: str, delay: float,
                reply: ce.CloudEvent | None, started: float, latency: float) -> None:
        """One delivery attempt of `event` and what was decided of it."""
        event_id = event.attributes.get("id")
        if not isinstance(event_id, str) or not self.sampled(event_id):
            return
        outcome = _ACTIONS.get(action, action)
        if phase == "dead-letter" and outcome == "delivered":
            outcome = "dead-lettered"
        hop: traces.Hop = {"hop": traces.ATTEMPT, "at": started, "id": event_id,
                           "source": str(event.attributes.get("source", "")),
                           "type": str(event.attributes.get("type", "")), "target": target,
                           "phase": phase, "url": url, "attempt": retries_done + 1, "status": status,
                           "latency": round(latency, 6), "outcome": outcome}
        if action == "retry":
            hop["delay"] = round(delay, 3)
        if error:
            hop["error"] = error[:200]
        if reply is not None:
            hop["reply"] = {"id": str(reply.attributes.get("id", "")),
                            "source": str(reply.attributes.get("source", "")),
                            "type": str(reply.attributes.get("type", ""))}
        self._add(hop, event.attributes.get("traceparent"))

    def _add(self, hop: traces.Hop, traceparent: object) -> None:
        if self.worker:
            hop["worker"] = self.worker  # type: ignore[typeddict-unknown-key]
        if self.spans is not None:
            try:
                self.spans.record(hop, traceparent)
            except Exception:  # a span is never worth a delivery
                log.exception("could not record a span")
        if len(self._buffer) >= MAX_BUFFERED:
            self.dropped += 1
            return
        self._buffer.append((keys.event_trace(hop["id"]), _ENCODE(hop).encode("utf-8")))
        if self._flushing is None:
            self._flushing = asyncio.ensure_future(self._flush_later())

    # -- writing ---------------------------------------------------------------------------
    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(FLUSH_INTERVAL)
            await self.flush()
        finally:
            self._flushing = None
            if self._buffer:
                self._flushing = asyncio.ensure_future(self._flush_later())

    async def flush(self) -> None:
        """Write every buffered record now."""
        batch, self._buffer = self._buffer, []
        if not batch or self.redis is None or self._script is None:
            return
        shards: dict[str, tuple[dict[str, int], list[Any]]] = {}
        for key, record in batch:
            lists, args = shards.setdefault(keys.hash_tag(key), ({}, []))
            args += (lists.setdefault(key, len(lists) + 1), record)
        ttl_ms, keep = int(self.settings.ttl * 1000), self.settings.max_hops
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for lists, args in shards.values():
                    await self._script(keys=list(lists), args=[ttl_ms, keep, *args], client=pipe)
                await pipe.execute()
        except redisclient.UNAVAILABLE as exc:
            log.warning("trace records not written", extra={"records": len(batch), "error": str(exc)})
        except Exception:
            log.exception("trace records not written")

    async def close(self) -> None:
        if self._flushing is not None:
            self._flushing.cancel()
        await self.flush()


OFF = Tracer(None, TraceSettings(sample=0.0))
"""The tracer of a process that records nothing (tests, and `--trace-sample 0`)."""


def log_label(stream: str) -> str:
    """`broker:NS/NAME` or `channel:NS/NAME` for a log's key."""
    kind = "broker" if stream.startswith(keys.BROKERS) else "channel"
    return f"{kind}:{keys.hash_tag(stream)}"


async def read(client: aioredis.Redis, event_id: str) -> list[traces.Hop]:
    """Every hop recorded for events with this id, oldest first."""
    try:
        raw = await client.lrange(keys.event_trace(event_id), 0, -1)  # type: ignore[misc]
    except redisclient.UNAVAILABLE as exc:
        raise redisclient.translate(exc) from exc
    hops: list[traces.Hop] = []
    for item in raw:
        try:
            hops.append(json.loads(item))
        except ValueError:
            continue
    return hops
