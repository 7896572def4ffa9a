"""Recording the hops of each event: the data plane's side of `ripple event trace`.

One `Tracer` per process, handed to the fan-outs (`channels.fanout`: where an event was
accepted and which queues it was copied to) and the dispatchers (`channels.dispatching`:
every delivery attempt, its status, latency, outcome and reply). The record formats are
`ripple.traces.Hop`.

Cost on the hot path: recording only appends the encoded record to a buffer; a flush every
`FLUSH_INTERVAL` writes the whole buffer in one pipeline, with one script per shard
(`keys.trace_bucket`) that appends each event's records to its field in the minute's bucket,
bounded to `max_hops`; the bucket lives `ttl` past its minute. A trace is evidence, not data: a flush that fails is logged
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
from collections.abc import Iterable, Mapping
from typing import cast

import redis.asyncio as aioredis
import redis.exceptions

from ripple import cloudevents as ce
from ripple import keys, redisclient, telemetry, traces
from ripple.cloudevents import jsonformat, records
from ripple.settings import TraceSettings

from channels import identities, outcomes

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.1
MAX_BUFFERED = 50_000
MAX_PREFIXES = 10_000
_STR = json.encoder.encode_basestring  # the C string encoder: a JSON string literal

# KEYS[1]: the bucket (`keys.trace_bucket`), KEYS[2]: its shard's index (`keys.trace_buckets`).
# ARGV[1]: the bucket's expiry (epoch ms); ARGV[2]: now (epoch ms); ARGV[3]: hops kept per
# event id and bucket; ARGV[4]: the fields (`keys.trace_field`), newline-separated; ARGV[5]:
# their new hops, one JSON record per line, the fields' groups separated by "\30" (JSON
# holds neither raw character). Two arguments for all the records: each argument costs its
# packing, and that was most of a flush's cost. The split is a plain find: a pattern costs
# the server more than the hash writes. A field already in the bucket (a hop recorded by
# another flush or process within the minute) gets the new hops appended; a value that may
# hold more than `keep` hops (each record is longer than 64 bytes) is trimmed to its newest.
# The bucket's TTL and its place in the index are set by its first flush.
_RECORD = r"""
local bucket, index = KEYS[1], KEYS[2]
local keep = tonumber(ARGV[3])
local fields, values, n = {}, {}, 0
local ids, hops, a, b = ARGV[4], ARGV[5], 1, 1
repeat
  local x = string.find(ids, '\n', a, true)
  local y = string.find(hops, '\30', b, true)
  n = n + 1
  fields[n] = string.sub(ids, a, x and x - 1)
  values[n] = string.sub(hops, b, y and y - 1)
  a, b = x and x + 1, y and y + 1
until x == nil
local function newest(v)
  local _, breaks = string.gsub(v, '\n', '\n')
  local at = 0
  for _ = 1, breaks + 1 - keep do at = string.find(v, '\n', at + 1, true) end
  return string.sub(v, at + 1)
end
for first = 1, n, 1000 do
  local last = math.min(first + 999, n)
  local old = redis.call('HMGET', bucket, unpack(fields, first, last))
  local args = {}
  for i = first, last do
    local v, was = values[i], old[i - first + 1]
    if was then v = was .. '\n' .. v end
    if #v > keep * 64 then v = newest(v) end
    args[#args + 1] = fields[i]
    args[#args + 1] = v
  end
  redis.call('HSET', bucket, unpack(args))
end
if redis.call('PTTL', bucket) < 0 then
  redis.call('PEXPIREAT', bucket, ARGV[1])
  redis.call('ZADD', index, ARGV[1], bucket)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. ARGV[2])
end
return n
"""

_ACTIONS = {"ack": "delivered", "reply": "replied", "retry": "retry", "dead-letter": "dead-letter",
            "drop": "dropped"}


class Tracer:
    def __init__(self, client: aioredis.Redis | None, settings: TraceSettings, *, worker: str = "",
                 spans: telemetry.Spans | None = None) -> None:
        self.redis, self.settings, self.worker, self.spans = client, settings, worker, spans
        self.enabled = client is not None and settings.sample > 0
        self._threshold = int(settings.sample * 2**32)
        self._ids: list[str] = []
        self._records: list[str] = []
        """The event id and encoded hop of each record, encoded to bytes and keyed at the
        flush. Two lists of strings, not a list of pairs: a pair per record would be a
        container the garbage collector tracks, and thousands survive each collection."""
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
            extra += f',"reply":{jsonformat.flat_json(replied)}'
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
        if len(self._ids) >= MAX_BUFFERED:
            self.dropped += 1
            return
        self._ids.append(event_id)
        self._records.append(record)
        if self._flushing is None:
            self._flushing = asyncio.ensure_future(self._flush_later())

    # -- writing ---------------------------------------------------------------------------
    async def _flush_later(self) -> None:
        try:
            await asyncio.sleep(FLUSH_INTERVAL)
            await self.flush()
        finally:
            self._flushing = None
            if self._ids:
                self._flushing = asyncio.ensure_future(self._flush_later())

    async def flush(self) -> None:
        """Write every buffered record now: one script per shard into the current minute's
        bucket, all in one pipeline of EVALSHAs (a pipeline holding redis-py `Script`s is
        not a lean one: it asks SCRIPT EXISTS first, then sends each command through
        redis-py's slow path)."""
        ids, records, self._ids, self._records = self._ids, self._records, [], []
        if not ids or self.redis is None or self._script is None:
            return
        shards: dict[int, dict[str, list[str]]] = {}
        for event_id, record in zip(ids, records):
            shard = keys.trace_shard(event_id)
            found = shards.get(shard)
            if found is None:
                found = shards[shard] = {}
            earlier = found.get(event_id)
            if earlier is None:
                found[event_id] = [record]
            else:  # an id a producer reuses: joined once, below
                earlier.append(record)
        now = time.time()
        bucket = int(now // keys.TRACE_BUCKET_SECONDS)
        expires = int(((bucket + 1) * keys.TRACE_BUCKET_SECONDS + self.settings.ttl) * 1000)
        commands = [("EVALSHA", self._script.sha, 2, keys.trace_bucket(shard, bucket), keys.trace_buckets(shard),
                     expires, int(now * 1000), self.settings.max_hops,
                     "\n".join(map(keys.trace_field, hops)).encode("utf-8", "surrogatepass"),
                     "\x1e".join(map("\n".join, hops.values())).encode("utf-8", "surrogatepass"))
                    for shard, hops in shards.items()]
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
            log.warning("trace records not written", extra={"records": len(ids), "error": str(exc)})
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


async def read(client: aioredis.Redis, event_id: str, limit: int = TraceSettings.max_hops) -> list[traces.Hop]:
    """Every hop recorded for events with this id, oldest first, at most the newest `limit`:
    the id's field in each live bucket of its shard."""
    field = keys.trace_field(event_id)
    with redisclient.translated():
        buckets = cast(list[bytes], await client.zrangebyscore(
            keys.trace_buckets(keys.trace_shard(event_id)), int(time.time() * 1000), "+inf"))
        if not buckets:
            return []
        async with client.pipeline(transaction=False) as pipe:
            for bucket in buckets:
                pipe.hget(bucket, field)
            values = await pipe.execute()
    return parse(v for v in values if v)[-limit:]


def parse(values: Iterable[bytes]) -> list[traces.Hop]:
    """The hops in bucket values (one JSON record per line), oldest first; a line that is
    not a record is skipped."""
    hops: list[traces.Hop] = []
    for value in values:
        for line in value.split(b"\n"):
            try:
                hops.append(json.loads(line))
            except ValueError:
                continue
    hops.sort(key=lambda hop: hop.get("at", 0.0))
    return hops
