"""Ripple's dead-letter store: every event that failed for good, kept where it can be seen
and sent again.

Knative drops an event whose retries ran out when no dead-letter sink is set, and so did
Ripple. Now the delivery engine (`channels.dispatching`) moves such an event into the
store of its Trigger, Subscription or source instead; also a reply that ran out of hops
(its original is kept), and, when the dead-letter sink itself failed for good, the event
it was meant to get. One store is one Redis stream (`ripple.keys.*_dead_letters`) with an
index of its event ids beside it (`ripple.keys.dead_letter_index`), in the hash tag of the
queue it serves, so the move out of the queue (`Queues.bury`) and back (`redrive`) are
each one script in one Cluster slot (`channels.deadletter_scripts`):

    queue entry --retries exhausted--> ADD: XADD store + index + trims + XACK + XDEL queue
    Kafka record --retries exhausted--> ADD without a queue entry (`keep`), then the adapter
                                        commits the record's offset
    store entry --redrive------------> XADD queue (the event's own fields, n=0) + XDEL store
                                       + its index member

An entry keeps the event's own fields (`records.EVENT_FIELDS`) and what a dead-letter sink
would have been told (`knativeerrorcode`, `knativeerrordest`, `knativeerrordata`, with
`outcomes.error_attributes`' rules), plus the reason, the attempts and the target; its
stream id is the time it was dead-lettered. Bounds (`ripple.api.dead_letter_bounds`): a
count and an age, enforced by every add and by every read (`trim`), so an idle store does
not keep old entries past their retention. Every read is bounded: a page of a store, or
the entries an id names (`find`: by store id, or through the index by event id), never a
walk of a whole store to find one entry.

A redrive is at least once and never loses an entry: the script puts the event back in
the queue and deletes it from the store atomically; the normal engine then delivers it
with its retries, and an event that fails for good again comes back here. The operations
below serve the API (`controllers.platforms.local.operations`), which the CLI
(`ripple dlq`) and the console use.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, AsyncIterator, Callable, Sequence, cast

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.client import Pipeline

from ripple import cloudevents as ce
from ripple import keys, redisclient
from ripple.api.dead_letter_bounds import Bounds
from ripple.cloudevents import records

from channels import deadletter_scripts as scripts
from channels import outcomes
from channels.identities import TargetKey
from channels.locations import Location


@dataclass(frozen=True)
class DeadLetters:
    """One target's store, as its `Target` carries it."""

    stream: str
    failures: str
    """The hash of last errors; this target's is field `field`."""
    field: str
    bounds: Bounds

    @property
    def index(self) -> str:
        return keys.dead_letter_index(self.stream)


def keys_of(store: DeadLetters | None) -> list[str]:
    """A store's keys, the stream and its index (none for no store): what is deleted with
    its target."""
    return [store.stream, store.index] if store is not None else []


def of(location: Location, bounds: Bounds) -> DeadLetters:
    return DeadLetters(location.dead_letters, location.failures, location.key.name, bounds)


def entry(original: records.Fields, *, errors: dict[str, str], reason: str, attempts: int,
          target: TargetKey) -> records.Fields:
    """The store entry of an event that failed for good (`original`: its own fields;
    `errors`: the knativeerror* attributes, as `outcomes.error_attributes` makes them)."""
    record = {k: v for k, v in original.items() if k in records.EVENT_FIELDS}
    record[records.ERROR_CODE] = errors.get("knativeerrorcode", "500").encode()
    record[records.ERROR_DESTINATION] = errors.get("knativeerrordest", "").encode()
    if "knativeerrordata" in errors:
        record[records.ERROR_DATA] = errors["knativeerrordata"].encode()
    record[records.ERROR_REASON] = reason.encode()
    record[records.ATTEMPTS] = str(attempts).encode()
    record[records.TARGET] = str(target).encode()
    return record


def adding(store: DeadLetters, record: records.Fields, *, last_error: bytes, now: float,
           queue: tuple[str, bytes] | None = None) -> tuple[Any, ...]:
    """The command that keeps `record` in the store (`deadletter_scripts.ADD`): the entry and
    its index member, the store trimmed to its bounds, the target's last error and
    dead-letter count, and with `queue` (its stream and the entry's id) the queue entry
    acknowledged and deleted, all in one script. An EVAL, not an EVALSHA: it runs inside
    `Queues`' MULTI/EXEC, where a server that lost its scripts would answer NOSCRIPT at EXEC,
    after the other moves of the transaction had run."""
    event_id = scripts.event_id_of(record) or b""
    stream, entry_id = queue if queue is not None else ("", b"")
    keys_ = [store.stream, store.index, store.failures, *([stream] if queue is not None else [])]
    flat = [part for field in record.items() for part in field]
    return ("EVAL", scripts.ADD, len(keys_), *keys_, store.bounds.max_entries, min_id(store.bounds, now),
            scripts.TRIM_BATCH, store.field, total_field(store.field), last_error, entry_id,
            keys.DELIVERY_GROUP, event_id, *flat)


async def keep(client: aioredis.Redis, store: DeadLetters, record: records.Fields, *,
               last_error: bytes, now: float) -> None:
    """Keep an event that failed for good and has no queue entry to move (a Kafka record,
    delivered in place by `channels.inplace`): `adding` without a queue. Raises
    `errors.StoreUnavailable` when Redis cannot take it; the caller still holds the event."""
    try:
        await client.execute_command(*adding(store, record, last_error=last_error, now=now))
    except redisclient.UNAVAILABLE as exc:
        raise redisclient.translate(exc) from exc


def last_error(*, code: int | None, destination: str, reason: str, now: float) -> bytes:
    """The value of a target's field in its failures hash (what `describe` shows)."""
    return json.dumps({"code": code,
                       "destination": outcomes.sanitize_destination(destination) if destination else "",
                       "message": reason, "time": _iso(now)}, separators=(",", ":")).encode()


def total_field(name: str) -> str:
    """The failures hash's field counting a target's dead letters ever (beside `name`,
    its last error; a resource name holds no `/`)."""
    return f"{name}/dead-lettered"


def min_id(bounds: Bounds, now: float) -> str:
    """The oldest stream id the age bound keeps (`0-0`, none older, for a retention reaching
    back before 1970)."""
    return f"{max(0, int((now - bounds.retention) * 1000))}-0"


def event_id(fields: records.Fields) -> str:
    """An entry's event id ('' when it has none)."""
    found = scripts.event_id_of(fields)
    return found.decode("utf-8", "replace") if found is not None else ""


def view(entry_id: bytes, fields: records.Fields, target: str) -> dict[str, Any]:
    """One entry as the API shows it: the event in structured mode with the knativeerror*
    attributes a dead-letter sink gets, and the failure's facts."""
    event = ce.from_record(fields)
    errors = {"knativeerrorcode": fields.get(records.ERROR_CODE, b"500").decode(),
              "knativeerrordest": fields.get(records.ERROR_DESTINATION, b"").decode()}
    if records.ERROR_DATA in fields:
        errors["knativeerrordata"] = fields[records.ERROR_DATA].decode()
    millis = int(entry_id.split(b"-")[0])
    return {
        "id": entry_id.decode(),
        "target": target,
        "event": ce.to_json_dict(outcomes.with_attributes(event, errors)),
        "code": int(errors["knativeerrorcode"]),
        "destination": errors["knativeerrordest"],
        "reason": fields.get(records.ERROR_REASON, b"").decode(),
        "attempts": int(fields.get(records.ATTEMPTS, b"0")),
        "time": _iso(millis / 1000),
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def label(key: TargetKey) -> str:
    """How the CLI names a target: `trigger:NAME`, `subscription:NAME`, `pingsource:NAME`."""
    return f"{str(key.kind).lower()}:{key.name}"


PAGE = 1000

Entries = list[tuple[bytes, records.Fields]]


class Store:
    """The operations over every target's store (the API's side; the engine writes through
    `Queues.bury`). Raises `errors.StoreUnavailable` when Redis cannot answer."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self._trim = client.register_script(scripts.TRIM)
        self._find = client.register_script(scripts.FIND)
        self._index = client.register_script(scripts.INDEX)
        self._redrive = client.register_script(scripts.REDRIVE)
        self._purge = client.register_script(scripts.PURGE)

    async def ever_held(self, locations: Sequence[Location]) -> list[bool]:
        """Whether each target's store ever took an entry, in one round trip whatever their
        number: the dead-lettered counter (`total_field`) is incremented by the adding
        script itself, so a store that holds entries has a counter (and a store that held
        some, then was redriven, purged or trimmed, still has). One HMGET per failures
        hash, i.e. per Broker, Channel or source: a reader of 1,000 Triggers parses one
        reply, not 1,000."""
        fields: dict[str, list[str]] = {}
        for where in locations:
            fields.setdefault(where.failures, []).append(total_field(where.key.name))
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for failures, names in fields.items():
                    pipe.hmget(failures, names)
                answers = await pipe.execute()
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        counted = {(failures, name): value
                   for (failures, names), values in zip(fields.items(), answers)
                   for name, value in zip(names, values)}
        return [bool(counted.get((w.failures, total_field(w.key.name)))) for w in locations]

    async def listing(self, stores: Sequence[tuple[Location, Bounds]], *, limit: int = PAGE,
                      newest: bool = False, now: float | None = None) -> list[tuple[int, Entries]]:
        """Each store's length and first `limit` entries, oldest first (`newest`: its last
        `limit`, newest first), after trimming it to its bounds: (0, []) for a store that
        never held any (`ever_held`). Two round trips whatever the number of stores: the
        counters, then one pipeline of TRIM + XLEN + XRANGE over the stores that ever held
        an entry (and a few more for a store with more than `TRIM_BATCH` entries past its
        bounds)."""
        held = await self.ever_held([where for where, _ in stores])
        read = [(where, bounds) for (where, bounds), h in zip(stores, held) if h]
        now = time.time() if now is None else now

        def reading(pipe: Pipeline, chosen: Sequence[tuple[Location, Bounds]]) -> None:
            for where, _ in chosen:
                pipe.xlen(where.dead_letters)
                if newest:
                    pipe.xrevrange(where.dead_letters, count=limit)
                else:
                    pipe.xrange(where.dead_letters, count=limit)

        def trimming_and_reading(pipe: Pipeline) -> None:
            self._trims(pipe, read, now)
            reading(pipe, read)

        answers = await self._pipelined(trimming_and_reading) if read else []
        again = [(where, bounds) for (where, bounds), more in zip(read, answers) if more]
        found = {where.dead_letters: (int(answers[len(read) + 2 * i]), answers[len(read) + 2 * i + 1])
                 for i, (where, _) in enumerate(read)}
        if again:  # past their bounds by more than a batch: trimmed through, then read again
            await self.trim(again, now=now)
            reread = await self._pipelined(lambda pipe: reading(pipe, again))
            found.update({where.dead_letters: (int(reread[2 * i]), reread[2 * i + 1])
                          for i, (where, _) in enumerate(again)})
        return [found.get(where.dead_letters, (0, [])) for where, _ in stores]

    def _trims(self, pipe: Pipeline, stores: Sequence[tuple[Location, Bounds]], now: float) -> None:
        for where, bounds in stores:
            pipe.execute_command("EVALSHA", self._trim.sha, 2, where.dead_letters, where.dead_letter_index,
                                 bounds.max_entries, min_id(bounds, now), scripts.TRIM_BATCH)

    async def trim(self, stores: Sequence[tuple[Location, Bounds]], *, now: float | None = None) -> None:
        """Trim the stores to their bounds, entries and index members, all the way (a batch
        per store per round trip)."""
        now = time.time() if now is None else now
        left = list(stores)
        while left:
            more = await self._pipelined(lambda pipe: self._trims(pipe, left, now))
            left = [store for store, m in zip(left, more) if m]

    async def entries(self, location: Location, bounds: Bounds, *, limit: int = PAGE,
                      now: float | None = None) -> Entries:
        """The target's entries, oldest first, after trimming it to its bounds."""
        await self.trim([(location, bounds)], now=now)
        try:
            return cast(Entries, await self.redis.xrange(location.dead_letters, count=limit))
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc

    async def find(self, stores: Sequence[tuple[Location, Bounds]], wanted: Sequence[str], *,
                   now: float | None = None) -> list[Entries]:
        """Each store's entries whose store id or event id is one of `wanted`, after
        trimming it to its bounds: two round trips whatever the number of stores (the
        counters, then one FIND script per store that ever held an entry), each a bounded
        read (an XRANGE of one id per store id, a ZRANGEBYLEX of the index and at most
        `LOOKUP_LIMIT` entries per event id). A store written before its index existed is
        indexed first (`index`)."""
        held = await self.ever_held([where for where, _ in stores])
        read = [(i, where, bounds) for i, ((where, bounds), h) in enumerate(zip(stores, held)) if h]
        now = time.time() if now is None else now
        store_ids = [w for w in dict.fromkeys(wanted) if scripts.is_store_id(w)]
        tail: list[str | int] = [scripts.LOOKUP_LIMIT, len(store_ids), *store_ids, *dict.fromkeys(wanted)]

        def finding(pipe: Pipeline) -> None:
            for _, where, bounds in read:
                pipe.execute_command("EVALSHA", self._find.sha, 2, where.dead_letters, where.dead_letter_index,
                                     bounds.max_entries, min_id(bounds, now), scripts.TRIM_BATCH, *tail)

        replies = await self._pipelined(finding) if read else []
        found: list[Entries] = [[] for _ in stores]
        for (i, where, bounds), reply in zip(read, replies):
            if not int(reply[0]):  # an index still being built: build it, then look again
                await self.index(where)
                try:
                    reply = await self._find(keys=[where.dead_letters, where.dead_letter_index],
                                             args=[bounds.max_entries, min_id(bounds, now), scripts.TRIM_BATCH, *tail])
                except redisclient.UNAVAILABLE as exc:
                    raise redisclient.translate(exc) from exc
            found[i] = [(entry_id, _fields(flat)) for entry_id, flat in (reply[1] if len(reply) > 1 else [])]
        return found

    async def index(self, location: Location, *, page: int = PAGE) -> None:
        """Index a store written before its index existed, `page` entries per script call,
        until its index holds every entry: what is added meanwhile is indexed by the
        adding script, what is removed leaves with its member, so the walk converges."""
        cursor: bytes | str = "-"
        try:
            while True:
                cursor = await self._index(keys=[location.dead_letters, location.dead_letter_index],
                                           args=[cursor, page])
                if not cursor:
                    return
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc

    async def pages(self, location: Location, bounds: Bounds, *, size: int = PAGE) -> AsyncIterator[Entries]:
        """Every entry present now, oldest first, a page at a time (trimmed to its bounds
        first). Entries added meanwhile (a redriven event that failed again) are not
        visited: the walk ends at the newest entry when it began."""
        await self.trim([(location, bounds)])
        try:
            newest = cast(Entries, await self.redis.xrevrange(location.dead_letters, count=1))
            if not newest:
                return
            end, start = newest[0][0], b"-"
            while True:
                page = cast(Entries, await self.redis.xrange(
                    location.dead_letters, min=start, max=end, count=size))
                if page:
                    yield page
                if len(page) < size or page[-1][0] == end:
                    return
                start = b"(" + page[-1][0]
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc

    async def redrive(self, location: Location, ids: Sequence[str], destination: str | None = None,
                      ) -> list[str]:
        """Put the entries `ids` (store ids) back in the target's queue (at once, each); the
        ids moved."""
        ids = [i for i in ids if scripts.is_store_id(i)]
        if not ids:
            return []
        try:
            moved = await self._redrive(keys=[location.dead_letters, location.stream, location.dead_letter_index],
                                        args=[destination or "", *ids])
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        return [m.decode() if isinstance(m, bytes) else str(m) for m in moved]

    async def purge(self, location: Location, ids: Sequence[str] | None = None) -> int:
        """Delete the entries `ids` (store ids), or every entry and the index (None); how
        many went."""
        try:
            if ids is None:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.xlen(location.dead_letters)
                    pipe.delete(location.dead_letters, location.dead_letter_index)
                    count, _ = await pipe.execute()
                return int(count)
            ids = [i for i in ids if scripts.is_store_id(i)]
            if not ids:
                return 0
            return int(await self._purge(keys=[location.dead_letters, location.dead_letter_index], args=ids))
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc

    async def _pipelined(self, build: Callable[[Pipeline], None]) -> list[Any]:
        """One pipeline (not a transaction) of reads and EVALSHAs of this module's scripts.
        A server that does not have them (new, restarted, failed over) answers NOSCRIPT
        to those: they are loaded and the whole pipeline is sent once more (its reads,
        trims and look-ups may run twice; none moves an entry)."""
        try:
            replies = await self._send(build)
            if any(isinstance(r, redis.exceptions.NoScriptError) for r in replies):
                for script in (self._trim, self._find):
                    await self.redis.script_load(script.script)
                replies = await self._send(build)
            for reply in replies:
                if isinstance(reply, Exception):
                    raise reply
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        return replies

    async def _send(self, build: Callable[[Pipeline], None]) -> list[Any]:
        async with self.redis.pipeline(transaction=False) as pipe:
            build(pipe)
            return list(await pipe.execute(raise_on_error=False))


def _fields(flat: list[bytes]) -> records.Fields:
    """A script's reply of an entry's fields (a flat list) as XRANGE's callback makes them."""
    return dict(zip(flat[::2], flat[1::2]))
