"""The Redis/Valkey resource store: where `ripple up` keeps every resource.

Built by the composition root with the shared `redis.asyncio.Redis`, and called by the
API server, the informers and the local reconcilers. Layout (names from `ripple.keys`):

- `keys.resources(apiVersion, plural)`: a hash, field `namespace/name`, value the JSON.
- `keys.RESOURCE_VERSION`: the global counter; every write takes the next value.
- `keys.RESOURCE_CHANGES`: a stream (MAXLEN ~ 10000) with one entry per write, whose
  entry ID is `<resourceVersion>-0`. `watch(since=N)` is therefore `XREAD` from `N-0`:
  exactly the changes after N, and a first entry above N+1 means history was trimmed.

Every write is one Lua script that compares the stored JSON with the one the new object
was computed from, takes the next version and writes the hash and the stream together,
so a concurrent writer can never slip between the check and the act. The keys share the
hash tag `{res}`, so on a Redis Cluster the script stays in one slot; a store written
before the tag is renamed once by `migrate`. Redis errors that
mean "not now" (`redisclient.UNAVAILABLE`, the one list) become `errors.StoreUnavailable`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis.asyncio

from ripple import keys, rediscluster, redisclient
from ripple.store import objects
from ripple.store.protocols import ChangeType, Resolver, WatchEvent, default_resolver

if TYPE_CHECKING:
    from ripple.api.registry import Kind

log = logging.getLogger(__name__)

# ARGV: field, JSON the write was computed from ('' = must be absent), head, tail (the new
# JSON around its resourceVersion), change type, kind id, stream MAXLEN.
# The stream entry goes first: if XADD fails nothing else is written, so the stream's
# versions stay contiguous and a gap always means trimming.
_WRITE = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if current then return {'exists', 0} end
elseif current ~= ARGV[2] then
  return {'changed', 0}
end
local rv = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
local srv = string.format('%d', rv)
local value = ARGV[3] .. srv .. ARGV[4]
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], srv .. '-0',
           'type', ARGV[5], 'kind', ARGV[6], 'object', value)
redis.call('SET', KEYS[2], srv)
if ARGV[5] == 'DELETED' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], value)
end
return {'ok', rv}
"""

# KEYS: (old name, new name) pairs, the version counter's first. Renames each old key that
# exists, unless the new counter exists already (migrated, by another worker or an earlier
# start): then nothing is touched. One script, so no worker ever sees half a store.
_MIGRATE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local moved = 0
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[i + 1])
    moved = moved + 1
  end
end
return moved
"""


async def migrate(client: redis.asyncio.Redis) -> int:
    """Rename the store's keys from before they had the `{res}` hash tag (`ripple:res:rv`
    -> `ripple:{res}:rv`, `keys.UNTAGGED_RESOURCES`), once, so that a data dir or a Redis
    written by an earlier Ripple still holds its resources. How many keys moved (0: nothing
    to do, -1: another process did it first). Called by each worker before it reads the
    store. A cluster is skipped: Ripple ran on one only once the keys had their tag, and a
    RENAME across slots would be refused anyway."""
    if rediscluster.is_cluster(client):
        return 0
    version = keys.untagged(keys.RESOURCE_VERSION)
    with _translated():
        if not await client.exists(version):
            return 0
        found = [_text(k) async for k in client.scan_iter(match=keys.UNTAGGED_RESOURCES + "*",
                                                         count=1000)]
        names = [version, *sorted(set(found) - {version})]
        pairs = [part for old in names
                 for part in (old, keys.RESOURCES + old[len(keys.UNTAGGED_RESOURCES):])]
        moved = int(await client.eval(_MIGRATE, len(pairs), *pairs))
    if moved > 0:
        log.info("resource store keys given their hash tag", extra={"keys": moved})
    elif moved < 0:
        log.warning("an earlier Ripple's resource store keys left as they are: the store has "
                    "today's", extra={"keys": names})
    return moved


# A write recomputed this many times under contention gives up as a conflict.
_MAX_ATTEMPTS = 32


def _translated() -> contextlib.AbstractContextManager[None]:
    return redisclient.translated("resource store")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _entries(reply: Any) -> list[Any]:
    """The (id, fields) entries of a one-stream XREAD reply, in either protocol."""
    if isinstance(reply, dict):  # RESP3: {stream: [entries]}, one more list deep
        return [
            e
            for batch in reply.values()
            for e in (batch[0] if batch and isinstance(batch[0], list) else batch)
        ]
    return [e for _stream, batch in reply or [] for e in batch]


def _split(obj: dict[str, Any]) -> tuple[str, str]:
    """The JSON of `obj` cut where its resourceVersion goes, which only the script knows."""
    token = uuid.uuid4().hex
    obj["metadata"]["resourceVersion"] = token
    head, found, tail = json.dumps(obj, separators=(",", ":")).partition(f'"{token}"')
    assert found, "the resourceVersion placeholder is in the JSON"
    return head + '"', '"' + tail


class RedisResourceStore:
    """A `ResourceStore` on Redis/Valkey, one server or a Cluster (every key in `{res}`'s
    slot); `migrate` first, on a store an earlier Ripple wrote."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        resolve: Resolver | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        history: int = 10_000,
        block_ms: int = 1_000,
    ) -> None:
        self._redis = client
        self._resolve = resolve or default_resolver
        self._clock = clock
        self._history = history
        # Short blocks keep a watcher under any socket_timeout the client was given.
        self._block_ms = block_ms
        self._write = client.register_script(_WRITE)

    @staticmethod
    def _hash(kind: Kind) -> str:
        return keys.resources(kind.api_version, kind.plural)

    async def get(self, kind: Kind, namespace: str | None, name: str) -> dict[str, Any]:
        with _translated():
            raw = await self._redis.hget(
                self._hash(kind), objects.field(namespace if kind.namespaced else "", name)
            )
        if raw is None:
            raise objects.not_found(kind, name)
        obj: dict[str, Any] = json.loads(raw)
        return obj

    async def list(self, kind: Kind, namespace: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in await self.list_json(kind, namespace)]

    async def list_json(self, kind: Kind, namespace: str | None = None) -> Sequence[bytes]:
        with _translated():
            everything = await self._redis.hgetall(self._hash(kind))
        prefix = None if namespace is None else objects.field(namespace, "")
        found = sorted((_text(key), raw) for key, raw in everything.items())
        return [raw if isinstance(raw, bytes) else raw.encode() for key, raw in found
                if prefix is None or key.startswith(prefix)]

    async def current_version(self) -> str:
        with _translated():
            value = await self._redis.get(keys.RESOURCE_VERSION)
        return "0" if value is None else _text(value)

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj = objects.canonical(obj)
        kind, namespace, name = objects.locate(obj, self._resolve)
        new = objects.stamp_created(obj, namespace, 0, self._clock())
        outcome, stored = await self._commit(kind, objects.field(namespace, name), "", new, "ADDED")
        if outcome == "exists":
            raise objects.already_exists(kind, name)
        return stored

    async def update(self, obj: dict[str, Any]) -> dict[str, Any]:
        return await self._replace(obj, objects.stamp_updated)

    async def update_status(
        self, obj: dict[str, Any], *, current: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self._replace(obj, objects.stamp_status, current)

    async def _replace(
        self,
        obj: dict[str, Any],
        stamp: Callable[[dict[str, Any], dict[str, Any], int], dict[str, Any]],
        current: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        obj = objects.canonical(obj)
        kind, namespace, name = objects.locate(obj, self._resolve)
        key = objects.field(namespace, name)
        for attempt in range(_MAX_ATTEMPTS):
            old: dict[str, Any]
            if attempt == 0 and current is not None:
                # The caller's copy, as the store wrote it (the same dumps): the script
                # compares it with what is stored, so a stale one is refused and read.
                raw, old = json.dumps(current, separators=(",", ":")), current
            else:
                raw = await self._read(kind, key, name)
                old = json.loads(raw)
            objects.check_preconditions(kind, old, obj)
            new = stamp(old, obj, int(old["metadata"]["resourceVersion"]))
            if objects.same_but_version(old, new):
                return old
            outcome, stored = await self._commit(kind, key, raw, new, "MODIFIED")
            if outcome == "ok":
                return stored
        raise objects.modified(kind, name, "too many concurrent writers")

    async def delete(
        self, kind: Kind, namespace: str | None, name: str, *, uid: str | None = None
    ) -> dict[str, Any]:
        key = objects.field(namespace if kind.namespaced else "", name)
        for _ in range(_MAX_ATTEMPTS):
            raw = await self._read(kind, key, name)
            old = json.loads(raw)
            objects.check_uid(kind, old, uid)  # the script's compare-and-set keeps it true
            gone = objects.stamp_deleted(old, 0)
            outcome, stored = await self._commit(kind, key, raw, gone, "DELETED")
            if outcome == "ok":
                return stored
        raise objects.modified(kind, name, "too many concurrent writers")

    async def _read(self, kind: Kind, key: str, name: str) -> str:
        with _translated():
            raw = await self._redis.hget(self._hash(kind), key)
        if raw is None:
            raise objects.not_found(kind, name)
        return _text(raw)

    async def _commit(
        self, kind: Kind, key: str, expected: str, new: dict[str, Any], change: ChangeType
    ) -> tuple[str, dict[str, Any]]:
        """Run the write script: ("ok", stored) or ("exists" | "changed", new)."""
        head, tail = _split(new)
        with _translated():
            outcome, rv = await self._write(
                keys=[self._hash(kind), keys.RESOURCE_VERSION, keys.RESOURCE_CHANGES],
                args=[
                    key,
                    expected,
                    head,
                    tail,
                    change,
                    objects.kind_id(kind.api_version, kind.kind),
                    self._history,
                ],
            )
        new["metadata"]["resourceVersion"] = str(rv)
        return _text(outcome), new

    async def watch(
        self, kinds: Sequence[Kind] | None = None, *, since: str | None = None
    ) -> AsyncIterator[WatchEvent]:
        wanted = objects.kind_ids(kinds)
        last = objects.parse_version(await self.current_version() if since is None else since)
        while True:
            with _translated():
                reply: Any = await self._redis.xread(
                    {keys.RESOURCE_CHANGES: f"{last}-0"}, count=500, block=self._block_ms
                )
            for entry_id, fields in _entries(reply):
                rv = int(_text(entry_id).partition("-")[0])
                if rv > last + 1:
                    raise objects.too_old(str(last), rv - 1)
                last = rv
                data = {_text(k): v for k, v in fields.items()}
                if wanted is None or _text(data["kind"]) in wanted:
                    change = objects.CHANGE_TYPES[_text(data["type"])]
                    yield WatchEvent(type=change, object=json.loads(data["object"]))
