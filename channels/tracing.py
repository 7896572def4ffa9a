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

import redis.asyncio as aioredis
import redis.exceptions

from ripple import cloudevents as ce
from ripple import keys, redisclient, telemetry, traces
from ripple.cloudevents import records
from ripple.settings import TraceSettings

from channels import identities, outcomes

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.1
MAX_BUFFERED = 50_000
MAX_PREFIXES = 10_000
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_STR = json.encoder.encode_basestring  # the C string encoder: a JSON string literal

# KEYS: the trace list of each record of one shard, in order (an event's list twice if it
# has two records). ARGV[1]: TTL (ms); ARGV[2]: hops kept per list; ARGV[3]: the records,
# newline-separated (JSON never holds a raw newline). One argument for all the records:
# each argument costs its packing, and that was most of a flush's cost. A list is trimmed
# only when it outgrows `max_hops` (rare): an LTRIM per record was a quarter of the
# server's time per record (and one more command in its append-only file).
_RECORD = """
local ttl, keep = ARGV[1], tonumber(ARGV[2])
local i = 0
for record in string.gmatch(ARGV[3], '[^\\n]+') do
  i = i + 1
  local key = KEYS[i]
  if redis.call('RPUSH', key, record) > keep then
    redis.call('LTRIM', key, -keep, -1)
  end
  redis.call('PEXPIRE', key, ttl)
end
return i
"""

_ACTIONS = {"ack": "delivered", "reply": "replied", "retry": "retry", "dead-letter": "dead-letter",
            "drop": "dropped"}


class Tracer:
    def __init__(self, client: aioredis.Redis | None, settings: TraceSettings, *, worker: str = "",
                 spans: telemetry.Spans | None = None) -> None:
        self.redis, self.settings, self.worker, self.spans = client, settings, worker, spans
        self.enabled = client is not None and settings.sample > 0
        self._threshold = int(settings.sample * 2**32)
        self._buffer: list[tuple[str, str]] = []
        """(event id, encoded hop), encoded to bytes and keyed at the flush."""
        self._flushing: asyncio.Future[None] | None = None
        self._script = client.register_script(_RECORD) if client is not None else None
        self.dropped = 0
        self._worker = f',"worker":{_STR(worker)}' if worker else ""
        self._prefixes: dict[object, str] = {}
        """The encoded constant part of the hops of each log and (target, phase, url)."""

    def sampled(self, event_id: str) -> bool:
        return self._threshold >= 2**32 or zlib.crc32(event_id.encode("utf-8", "surrogatepass")) < self._threshold

    # -- hops ------------------------------------------------------------------------------
    # A hop is encoded by hand: its constant part (where, who) once per log or target, the
    # event's strings with the C string encoder. A JSONEncoder over a dict per hop cost about
    # as much as encoding the event itself.
    def accepted(self, log_stream: str, entry_id: bytes, attributes: Mapping[str, object],
                 matched: list[str]) -> None:
        """The fan-out of `log_stream` copied the entry to `matched` (maybe none)."""
        event_id = attributes.get("id")
        if not isinstance(event_id, str) or not self.sampled(event_id):
            return
        source, type_ = str(attributes.get("source", "")), str(attributes.get("type", ""))
        at = time.time()
        prefix = self._prefixes.get(log_stream)
        if prefix is None:
            self._bound_prefixes()
            prefix = self._prefixes[log_stream] = f',"log":{_STR(log_label(log_stream))}{self._worker}'
        record = (f'{{"hop":"accepted","at":{at!r},"id":{_STR(event_id)},"source":{_STR(source)},'
                  f'"type":{_STR(type_)}{prefix},"entry":"{entry_id.decode()}","matched":[{",".join(map(_STR, matched))}]}}')
        self._add(event_id, record)
        if self.spans is not None:
            self._span({"hop": traces.ACCEPTED, "at": at, "id": event_id, "source": source, "type": type_,
                        "log": log_label(log_stream), "entry": entry_id.decode(), "matched": matched},
                       attributes.get("traceparent"))

    def attempt(self, target: identities.TargetKey, event: ce.CloudEvent, phase: str, url: str, retries_done: int,
                status: int | None, error: str | None, action: str, delay: float,
                reply: ce.CloudEvent | None, started: float, latency: float) -> None:
        """One delivery attempt of `event` and what was decided of it."""
        attributes = event.attributes
        event_id = attributes.get("id")
        if not isinstance(event_id, str) or not self.sampled(event_id):
            return
        outcome = _ACTIONS.get(action, action)
        if phase == "dead-letter" and outcome == "delivered":
            outcome = "dead-lettered"
        source, type_ = str(attributes.get("source", "")), str(attributes.get("type", ""))
        where = (target, phase, url)
        prefix = self._prefixes.get(where)
        if prefix is None:
            self._bound_prefixes()
            prefix = self._prefixes[where] = (
                f',"target":{_STR(str(target))},"phase":{_STR(phase)},'
                f'"url":{_STR(outcomes.sanitize_destination(url))}{self._worker}')
        extra = ""
        if action == "retry":
            extra += f',"delay":{round(delay, 3)!r}'
        if error:
            extra += f',"error":{_STR(error[:200])}'
        replied = None
        if reply is not None:
            replied = {"id": str(reply.attributes.get("id", "")), "source": str(reply.attributes.get("source", "")),
                       "type": str(reply.attributes.get("type", ""))}
            extra += f',"reply":{_ENCODE(replied)}'
        record = (f'{{"hop":"attempt","at":{started!r},"id":{_STR(event_id)},"source":{_STR(source)},'
                  f'"type":{_STR(type_)}{prefix},"attempt":{retries_done + 1},'
                  f'"status":{"null" if status is None else int(status)},"latency":{round(latency, 6)!r},'
                  f'"outcome":"{outcome}"{extra}}}')
        self._add(event_id, record)
        if self.spans is not None:
            hop: traces.Hop = {"hop": traces.ATTEMPT, "at": started, "id": event_id, "source": source,
                               "type": type_, "target": str(target), "phase": phase,
                               "url": outcomes.sanitize_destination(url),
                               "attempt": retries_done + 1, "status": status, "latency": latency,
                               "outcome": outcome}
            if action == "retry":
                hop["delay"] = delay
            if error:
                hop["error"] = error
            if replied is not None:
                hop["reply"] = replied
            self._span(hop, attributes.get("traceparent"))

    def _bound_prefixes(self) -> None:
        if len(self._prefixes) >= MAX_PREFIXES:  # targets come and go: start over, rarely
            self._prefixes.clear()

    def _span(self, hop: traces.Hop, traceparent: object) -> None:
        assert self.spans is not None
        try:
            self.spans.record(hop, traceparent)
        except Exception:  # a span is never worth a delivery
            log.exception("could not record a span")

    def _add(self, event_id: str, record: str) -> None:
        if len(self._buffer) >= MAX_BUFFERED:
            self.dropped += 1
            return
        self._buffer.append((event_id, record))
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
        """Write every buffered record now: one script per shard, all in one pipeline of
        EVALSHAs (a pipeline holding redis-py `Script`s is not a lean one: it asks SCRIPT
        EXISTS first, then sends each command through redis-py's slow path)."""
        batch, self._buffer = self._buffer, []
        if not batch or self.redis is None or self._script is None:
            return
        shards: dict[int, tuple[list[str], list[str]]] = {}
        for event_id, record in batch:
            shard = keys.trace_shard(event_id)
            found = shards.get(shard)
            if found is None:
                found = shards[shard] = ([], [])
            found[0].append(keys.event_trace(event_id, shard))
            found[1].append(record)
        ttl_ms, keep = int(self.settings.ttl * 1000), self.settings.max_hops
        commands = [("EVALSHA", self._script.sha, len(lists), *lists, ttl_ms, keep,
                     "\n".join(records).encode("utf-8", "surrogatepass"))
                    for lists, records in shards.values()]
        try:
            for _ in range(2):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for command in commands:
                        pipe.execute_command(*command)
                    replies = await pipe.execute(raise_on_error=False)
                missing = [c for c, r in zip(commands, replies) if isinstance(r, redis.exceptions.NoScriptError)]
                for reply in replies:
                    if isinstance(reply, Exception) and not isinstance(reply, redis.exceptions.NoScriptError):
                        raise reply
                if not missing:
                    return
                await self.redis.script_load(_RECORD)  # a new or restarted server: once, then again
                commands = missing
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
