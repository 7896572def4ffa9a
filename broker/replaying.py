"""Replay: copy the events of a Broker's retained log into its Triggers' queues again.

Called by the replay endpoint (`controllers.platforms.local.operations`), which the CLI's
`ripple event replay` and the console use. The log keeps entries behind the fan-out for
the Broker's retention window (`channels.retention`); a replay reads the window's part the
request names (XRANGE, a page at a time), matches each entry against the Triggers (a
`FilterIndex` of the named Trigger, or of every Trigger of the Broker: a Trigger's filter
always applies, see `ripple.api.eventing.replays`) and XADDs a copy, with the extension
`ripplereplay`, to each matching Trigger's queue. From there the normal engine delivers
it: retries, the dead-letter sink, replies. A page is one pipeline in the Broker's hash
tag. A replay asked to `stop` (its client closed the stream: Ctrl-C) ends at the next page
boundary: it has enqueued whole pages only, its last progress says exactly how many
copies, and what it enqueued is delivered. Nothing undoes those: the copies already in a
Trigger's queue are delivered as any event is, a slow subscriber taking them at its pace.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis

from ripple import cloudevents as ce
from ripple import errors, keys, redisclient
from ripple.api.eventing.replays import EXTENSION, ReplayRequest
from ripple.cloudevents import records

from broker import filters
from channels.queues import Entry

PAGE = 256


@dataclass(frozen=True)
class Progress:
    id: str
    scanned: int
    """Log entries read so far."""
    replayed: int
    """Copies enqueued so far (an event matching two Triggers counts twice)."""
    fraction: float
    """How much of the time range has been read, 0 to 1."""
    oldest: float | None
    """Epoch seconds of the log's oldest entry (None: empty): events before it are gone."""
    done: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "scanned": self.scanned, "replayed": self.replayed,
                "fraction": round(self.fraction, 4), "oldest": self.oldest, "done": self.done}


def index_of(triggers: list[dict[str, Any]], request: ReplayRequest) -> filters.FilterIndex:
    """The filters a replay matches with: the named Trigger's, or every Trigger's of the
    Broker. `errors.NotFound` for a named Trigger that is not the Broker's."""
    index = filters.FilterIndex()
    for trigger in triggers:
        name = trigger["metadata"]["name"]
        if trigger["spec"].get("broker") == request.broker and request.trigger in (None, name):
            index.put(name, trigger["spec"])
    if request.trigger is not None and not len(index):
        raise errors.NotFound(f"trigger {request.trigger!r} of broker {request.broker!r} "
                              f"not found in namespace {request.namespace!r}")
    return index


def replayed(fields: records.Fields, replay_id: str) -> records.Fields:
    """The queue entry of one replayed event: the log entry with `ripplereplay` set."""
    event = ce.from_record(fields)
    event.attributes[EXTENSION] = replay_id
    return ce.to_record(event, records.headers_of(fields))


def fraction(reached_ms: int, since_ms: int, until_ms: int, oldest_ms: int, newest_ms: int) -> float:
    """How far a replay that has read up to `reached_ms` is through its window, 0 to 1: by
    time, over the part of the window the log holds (`--since 1h` over a log that starts a
    minute ago is through once it has read that minute, not at 2%)."""
    low, high = max(since_ms, oldest_ms), min(until_ms, newest_ms)
    if high <= low:
        return 1.0 if reached_ms >= low else 0.0
    return min(1.0, max(0.0, (reached_ms - low) / (high - low)))


def _ms(entry_id: bytes) -> int:
    return int(entry_id.split(b"-")[0])


async def replay(client: aioredis.Redis, request: ReplayRequest, triggers: list[dict[str, Any]],
                 *, stop: asyncio.Event | None = None) -> AsyncIterator[Progress]:
    """Enqueue the matching events, yielding the progress after each page; once `stop` is
    set, end after the page under way (the last progress then is not `done`)."""
    index = index_of(triggers, request)
    stream = keys.broker_log(request.namespace, request.broker)
    since_ms, until_ms = int(request.since * 1000), int(request.until * 1000)
    start, scanned, copies = f"{since_ms}-0", 0, 0
    try:
        oldest = cast(list[Entry], await client.xrange(stream, count=1))
        newest = cast(list[Entry], await client.xrevrange(stream, count=1))
        oldest_s = _ms(oldest[0][0]) / 1000 if oldest else None
        bounds = (since_ms, until_ms, _ms(oldest[0][0]) if oldest else since_ms,
                  _ms(newest[0][0]) if newest else until_ms)
        while True:
            page = cast(list[Entry], await client.xrange(stream, start, f"{until_ms}-18446744073709551615",
                                                          count=PAGE))
            if not page:
                break
            copies += await _enqueue(client, request, index, page)
            scanned += len(page)
            start = "(" + page[-1][0].decode()
            yield Progress(request.id, scanned, copies, fraction(_ms(page[-1][0]), *bounds), oldest_s)
            if len(page) < PAGE:
                break
            if stop is not None and stop.is_set():
                return
    except redisclient.UNAVAILABLE as exc:
        raise redisclient.translate(exc) from exc
    yield Progress(request.id, scanned, copies, 1.0, oldest_s, done=True)


async def _enqueue(client: aioredis.Redis, request: ReplayRequest, index: filters.FilterIndex,
                   page: list[Entry]) -> int:
    copies = 0
    async with client.pipeline(transaction=False) as pipe:
        for _, fields in page:
            if not fields:
                continue
            attributes = records.RecordAttributes(fields)
            if request.type is not None and attributes.get("type") != request.type:
                continue
            names = index.match(attributes)
            if not names:
                continue
            record = replayed(fields, request.id)
            for name in names:
                pipe.xadd(keys.broker_queue(request.namespace, request.broker, name),
                          record)  # type: ignore[arg-type]
                copies += 1
        if copies:
            await pipe.execute()
    return copies
