"""Ripple's dead-letter store: every event that failed for good, kept where it can be seen
and sent again.

Knative drops an event whose retries ran out when no dead-letter sink is set, and so did
Ripple. Now the delivery engine (`channels.dispatching`) moves such an event into the
store of its Trigger, Subscription or source instead; also a reply that ran out of hops
(its original is kept), and, when the dead-letter sink itself failed for good, the event
it was meant to get. One store is one Redis stream (`ripple.keys.*_dead_letters`), in the
hash tag of the queue it serves, so the move out of the queue (`Queues.bury`) and back
(`redrive`) are each one transaction or script in one Cluster slot:

    queue entry --retries exhausted--> MULTI: XADD store MAXLEN =max + XTRIM MINID + XACK + XDEL queue
    Kafka record --retries exhausted--> MULTI: XADD store MAXLEN =max + XTRIM MINID (`keep`),
                                        then the adapter commits the record's offset
    store entry --redrive (Lua)------> XADD queue (the event's own fields, n=0) + XDEL store

An entry keeps the event's own fields (`records.EVENT_FIELDS`) and what a dead-letter sink
would have been told (`knativeerrorcode`, `knativeerrordest`, `knativeerrordata`, with
`outcomes.error_attributes`' rules), plus the reason, the attempts and the target; its
stream id is the time it was dead-lettered. Bounds (`ripple.api.dead_letter_bounds`): a
count, enforced exactly by every XADD, and an age, enforced by every XADD and by every
read (`trim`), so an idle store does not keep old entries past their retention.

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
from typing import Any, AsyncIterator, Sequence, cast

import redis.asyncio as aioredis

from ripple import cloudevents as ce
from ripple import redisclient
from ripple.api.dead_letter_bounds import Bounds
from ripple.cloudevents import records

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


async def keep(client: aioredis.Redis, store: DeadLetters, record: records.Fields, *,
               last_error: bytes, now: float) -> None:
    """Keep an event that failed for good and has no queue entry to move (a Kafka record,
    delivered in place by `channels.inplace`): XADD to the store within its bounds + the
    target's last error + its dead-letter count, in one transaction (one hash tag). Raises
    `errors.StoreUnavailable` when Redis cannot take it; the caller still holds the event."""
    try:
        async with client.pipeline(transaction=True) as pipe:
            pipe.xadd(store.stream, dict(record), maxlen=store.bounds.max_entries,  # type: ignore[arg-type]
                      approximate=False)
            pipe.xtrim(store.stream, minid=min_id(store.bounds, now), approximate=False)
            pipe.hset(store.failures, store.field, last_error)
            pipe.hincrby(store.failures, total_field(store.field), 1)
            await pipe.execute()
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
    """The oldest stream id the age bound keeps."""
    return f"{int((now - bounds.retention) * 1000)}-0"


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


# KEYS[1]: a store; KEYS[2]: its queue (one hash tag). ARGV[1]: a destination for every
# moved event, or ''; ARGV[2..]: store ids. Each entry still in the store is put back in the
# queue (its event fields only: a fresh entry, no retries done) and deleted from the store,
# in one script: never in both, never in neither. Returns the ids moved.
_REDRIVE = """
local moved = {}
for i = 2, #ARGV do
  local entries = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  if #entries > 0 then
    local fields = entries[1][2]
    local out = {}
    for j = 1, #fields, 2 do
      local name = fields[j]
      if name == '$A' or name == '$D' or name == '$H' or name == '$T' or name == '$S'
          or name == '$I' then
        out[#out + 1] = name
        out[#out + 1] = fields[j + 1]
      end
    end
    if ARGV[1] ~= '' then
      out[#out + 1] = '$U'
      out[#out + 1] = ARGV[1]
    end
    redis.call('XADD', KEYS[2], '*', unpack(out))
    redis.call('XDEL', KEYS[1], ARGV[i])
    moved[#moved + 1] = ARGV[i]
  end
end
return moved
"""
for _name, _field in (("$A", records.ATTRIBUTES), ("$D", records.DATA), ("$H", records.HEADERS),
                      ("$T", records.TYPE), ("$S", records.SOURCE), ("$I", records.ID),
                      ("$U", records.DESTINATION)):
    _REDRIVE = _REDRIVE.replace(_name, _field.decode())

PAGE = 1000


class Store:
    """The operations over every target's store (the API's side; the engine writes through
    `Queues.bury`). Raises `errors.StoreUnavailable` when Redis cannot answer."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self._redrive = client.register_script(_REDRIVE)

    async def ever_held(self, locations: Sequence[Location]) -> list[bool]:
        """Whether each target's store ever took an entry, in one round trip whatever their
        number: the dead-lettered counter (`total_field`) is incremented in the burying
        transaction itself, so a store that holds entries has a counter (and a store that
        held some, then was redriven, purged or trimmed, still has). One HMGET per failures
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
                      newest: bool = False, now: float | None = None
                      ) -> list[tuple[int, list[tuple[bytes, records.Fields]]]]:
        """Each store's length and first `limit` entries, oldest first (`newest`: its last
        `limit`, newest first), after trimming those past their age: (0, []) for a store that
        never held any (`ever_held`). Two round trips whatever the number of stores: the
        counters, then one pipeline of XTRIM + XLEN + XRANGE over the stores that ever held
        an entry."""
        held = await self.ever_held([where for where, _ in stores])
        read = [(where, bounds) for (where, bounds), h in zip(stores, held) if h]
        now = time.time() if now is None else now
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for where, bounds in read:
                    pipe.xtrim(where.dead_letters, minid=min_id(bounds, now), approximate=False)
                    pipe.xlen(where.dead_letters)
                    if newest:
                        pipe.xrevrange(where.dead_letters, count=limit)
                    else:
                        pipe.xrange(where.dead_letters, count=limit)
                answers = await pipe.execute() if read else []
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        found = {where.dead_letters: (int(answers[3 * i + 1]), answers[3 * i + 2])
                 for i, (where, _) in enumerate(read)}
        return [found.get(where.dead_letters, (0, [])) for where, _ in stores]

    async def entries(self, location: Location, bounds: Bounds, *, limit: int = PAGE,
                      now: float | None = None) -> list[tuple[bytes, records.Fields]]:
        """The target's entries, oldest first, after trimming those past their age."""
        try:
            await self.redis.xtrim(location.dead_letters, minid=min_id(bounds, now or time.time()),
                                   approximate=False)
            return cast(list[tuple[bytes, records.Fields]],
                        await self.redis.xrange(location.dead_letters, count=limit))
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc

    async def pages(self, location: Location, bounds: Bounds, *, size: int = PAGE,
                    ) -> AsyncIterator[list[tuple[bytes, records.Fields]]]:
        """Every entry present now, oldest first, a page at a time (trimmed to its age
        first). Entries added meanwhile (a redriven event that failed again) are not
        visited: the walk ends at the newest entry when it began."""
        try:
            await self.redis.xtrim(location.dead_letters, minid=min_id(bounds, time.time()),
                                   approximate=False)
            newest = cast(list[tuple[bytes, records.Fields]],
                          await self.redis.xrevrange(location.dead_letters, count=1))
            if not newest:
                return
            end, start = newest[0][0], b"-"
            while True:
                page = cast(list[tuple[bytes, records.Fields]], await self.redis.xrange(
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
        """Put the entries `ids` back in the target's queue (at once, each); the ids moved."""
        if not ids:
            return []
        try:
            moved = await self._redrive(keys=[location.dead_letters, location.stream],
                                        args=[destination or "", *ids])
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
        return [m.decode() if isinstance(m, bytes) else str(m) for m in moved]

    async def purge(self, location: Location, ids: Sequence[str] | None = None) -> int:
        """Delete the entries `ids`, or every entry (None); how many went."""
        try:
            if ids is None:
                count = int(await self.redis.xlen(location.dead_letters))
                await self.redis.delete(location.dead_letters)
                return count
            return int(await self.redis.xdel(location.dead_letters, *ids)) if ids else 0
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
