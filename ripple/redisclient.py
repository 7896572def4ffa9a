"""The asyncio Redis client of every Ripple process: redis-py's, with hiredis's C command
packer and a lean command path (`LeanRedis`).

The composition root calls `connect`. redis-py's asyncio connection parses replies with
hiredis when it is installed, but packs commands in Python, joining its output buffer
once per argument: for the ingress's coalesced append (one script call carrying every
event of a flush, about 9 arguments per event) that measured 213 µs for 16 events, against
44 µs for `hiredis.pack_command` on the same arguments. hiredis takes str, bytes, int and
float (formatted as `repr` does, as redis-py's encoder does) and refuses anything else;
those commands, and any command at all when hiredis is missing, keep redis-py's packer.

It also holds the one list of redis-py errors that mean "the store cannot answer now"
(`UNAVAILABLE`) and their translation into `errors.StoreUnavailable` (`translate`). The
modules that call Redis (the resource store, `channels.queues`, `channels.appending`,
`channels.fanout`, `sources.publishing`, `sources.reporting`, `sources.ping.scheduler`,
`broker.tailing`) catch `UNAVAILABLE` around their awaited calls and raise `translate(exc)`;
above them only `ripple.errors` is caught. A `try` around an await costs nothing when
nothing is raised, so the hot path pays no context manager.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.client import EMPTY_RESPONSE, NEVER_DECODE
from redis.maint_notifications import MaintNotificationsConfig

from ripple import cancelling, errors, pooling, rediscluster, resp, storeurls

cancelling.install()  # redis-py sends every command through asyncio.wait_for: on 3.11 it can lose a cancel

_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _pack
except ImportError:  # pragma: no cover - hiredis is a dependency (redis[hiredis])
    _pack = None


class NotReplicated(redis.exceptions.RedisError):
    """A write the primary ran and its replicas did not confirm in time (`storeurls`)."""


UNAVAILABLE: tuple[type[BaseException], ...] = (
    NotReplicated,  # a write not yet on the replicas `?replica_acks=N` asks for
    redis.exceptions.ConnectionError,  # includes BusyLoadingError and MaxConnectionsError
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,  # a replica, or a primary demoted during a failover
    redis.exceptions.OutOfMemoryError,  # maxmemory reached
    redis.exceptions.MasterDownError,
    redis.exceptions.TryAgainError,  # Cluster: a slot in migration
    redis.exceptions.ClusterError,  # Cluster: CLUSTERDOWN, or redirected too many times
    redis.exceptions.AskError,  # Cluster: MOVED or ASK that no client followed (MovedError is one)
    redis.exceptions.SlotNotCoveredError,  # Cluster: a slot no node serves (yet)
    redis.exceptions.RedisClusterUnreachableError,  # Cluster: no node answered a refresh
    OSError,  # a socket error redis-py let through; also the builtin TimeoutError
)
"""Every error that means "the store cannot answer now, try again later"."""


def translate(exc: BaseException, *, delay: float = 1.0, what: str = "store") -> errors.StoreUnavailable:
    """The `ripple.errors` form of an `UNAVAILABLE` error: temporary, retry after `delay`;
    its `__cause__` is `exc` also where it is handed on rather than raised (a future's).
    `what`: the store it names (the resource store says so)."""
    translated = errors.StoreUnavailable(f"{what} unavailable: {type(exc).__name__}: {exc}",
                                         delay=delay)
    translated.__cause__ = exc
    return translated


@contextlib.contextmanager
def translated(what: str = "store") -> Iterator[None]:
    """Inside it, an `UNAVAILABLE` error is raised as `translate` makes it (its cause kept)."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise translate(exc, what=what) from exc


class HiredisPackingConnection(Connection):
    def pack_command(self, *args: Any) -> list[bytes]:
        if _pack is not None:
            first = args[0]
            # redis-py sends e.g. "CONFIG GET" as one argument; Redis wants two.
            if isinstance(first, str) and " " in first:
                args = (*first.split(), *args[1:])
            try:
                return [_pack(args)]
            except TypeError:
                pass
        return super().pack_command(*args)


HOT = frozenset({"XADD", "XREADGROUP", "XACK", "XDEL", "ZADD", "EVALSHA"})
"""The commands `LeanRedis` sends through `ripple.resp` when it has a lean pool: the
ingress's append script, the fan-out's and the queues' reads, acks and retries. None of
them changes connection state (no SELECT, WATCH, MULTI, CLIENT ...)."""


PIPELINED = HOT | {"XAUTOCLAIM", "XTRIM", "HSET", "HINCRBY", "DEL", "EVAL", "EVALSHA"}
"""The commands a `LeanPipeline` sends through `ripple.resp` (those of `channels.queues`'
pipelines and transactions: acks, retries, reclaims, and the dead-letter store's script,
an EVAL inside MULTI/EXEC; and the EVALSHAs of a pipeline of scripts); a pipeline holding
any other command, a WATCH or a redis-py `Script` to load is redis-py's."""


DURABLE = frozenset({"EVALSHA", "EVAL", "XADD"})
"""The writes whose confirmation Ripple passes on outside the store (an ingress's 202, a
webhook's answer, a Kafka offset committed once its record is a dead letter): a script or
an XADD sent on its own. With a store URL's `?replica_acks=N` (`ripple.storeurls`),
`LeanRedis` follows each with a `WAIT N` on the same connection and returns its reply only
once N replicas confirmed it. Pipelines and transactions only move what is already stored
(an ack, a retry, a dead letter): the replicas apply writes in the primary's order, so one
that lags has the event where it was."""


def _wait_for(acks: int) -> tuple[Any, ...]:
    return ("WAIT", acks, storeurls.REPLICA_TIMEOUT_MS)


def check_replicated(confirmed: Any, acks: int) -> None:
    """Raise `NotReplicated` unless WAIT's reply says `acks` replicas have the writes."""
    if isinstance(confirmed, redis.exceptions.ResponseError):
        raise NotReplicated(f"the store refused to wait for its replicas: {confirmed}")
    if not isinstance(confirmed, int) or confirmed < acks:
        raise NotReplicated(f"written, but {confirmed} of the {acks} replicas asked for "
                            f"(replica_acks) confirmed it within {storeurls.REPLICA_TIMEOUT_MS} ms")


def _replicated(replies: list[Any], acks: int) -> Any:
    """A command's raw reply from the [reply, WAIT's reply] of a lean link: raises
    `NotReplicated` unless it was an error reply (then nothing was written) or confirmed."""
    reply, confirmed = replies
    if not isinstance(reply, redis.exceptions.ResponseError):
        check_replicated(confirmed, acks)
    return reply


class LeanPipeline(Pipeline):
    """redis-py's pipeline, executed on a lean link when it can be: one write, the replies
    read in order, then redis-py's own rules (MULTI/EXEC: a queued error aborts and is
    raised, a nil EXEC is `WatchError`; the first error reply raised, annotated as
    redis-py does; response callbacks on the rest)."""

    lean: resp.Pool | None = None

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = self.command_stack
        lean = self.lean
        if (lean is None or not stack or self.watching or self.scripts or self.connection is not None
                or not all(args[0] in PIPELINED and EMPTY_RESPONSE not in options for args, options in stack)):
            return await super().execute(raise_on_error)
        try:
            packed = [_pack(args) for args, _ in stack]  # type: ignore[misc]  # only with hiredis
        except TypeError:
            return await super().execute(raise_on_error)
        try:
            if self.is_transaction or self.explicit_transaction:
                replies = await lean.execute_many(b"".join((_MULTI, *packed, _EXEC)), len(packed) + 2)
                response = self._unwrap(replies)
            else:
                response = await lean.execute_many(b"".join(packed), len(packed))
            if raise_on_error:
                self.raise_first_error(stack, response)
            return [reply if isinstance(reply, Exception) else self._callback(args, options, reply)
                    for reply, (args, options) in zip(response, stack)]
        finally:
            await self.reset()  # type: ignore[no-untyped-call]

    def _unwrap(self, replies: list[Any]) -> list[Any]:
        """The replies of a transaction's commands, from MULTI's, the QUEUEDs and EXEC's."""
        stack = self.command_stack
        errors = [] if not isinstance(replies[0], redis.exceptions.ResponseError) else [(0, replies[0])]
        for i, queued in enumerate(replies[1:-1]):
            if isinstance(queued, redis.exceptions.ResponseError):
                self.annotate_exception(queued, i + 1, stack[i][0])
                errors.append((i, queued))
        response = replies[-1]
        if isinstance(response, redis.exceptions.ResponseError):
            if errors and isinstance(response, redis.exceptions.ExecAbortError):
                raise errors[0][1] from response
            raise response
        if response is None:
            raise redis.exceptions.WatchError("Watched variable changed.")
        for i, error in errors:
            response.insert(i, error)
        if len(response) != len(stack):
            raise redis.exceptions.ResponseError("Wrong number of response items from pipeline execution")
        return list(response)

    def _callback(self, args: tuple[Any, ...], options: Mapping[str, Any], reply: Any) -> Any:
        callback = self.response_callbacks.get(args[0])
        if callback is None:
            return reply
        if "keys" in options:  # for redis-py's client-side cache only
            options = {name: value for name, value in options.items() if name != "keys"}
        return callback(reply, **options)


_MULTI = _pack(("MULTI",)) if _pack is not None else b""
_EXEC = _pack(("EXEC",)) if _pack is not None else b""


class LeanRedis(aioredis.Redis):
    """redis-py's client with a shorter road from a command to its connection.

    redis-py 8's `execute_command` wraps every command in a retry loop, an observability
    recorder (operation duration, error counts) and connection-scoped extensions; measured
    here, 103-114 µs of CPU per PING against 58-67 µs for the same connection's send and
    read. Ripple's clients never retry (`connect` makes them with 0 retries: a lost reply
    must surface, see `channels.dispatching`) and record their own metrics, so this sends
    and parses on a pooled connection directly. The connection still disconnects itself
    on any error, and response callbacks, scripts and pub/sub are redis-py's.

    With a lean pool (`lean`, set by `connect`), the `HOT` commands, and pipelines of
    `PIPELINED` ones (`LeanPipeline`), skip redis-py's connections altogether
    (`ripple.resp`): same replies after the same response callbacks, same exception types.
    """

    lean: resp.Pool | None = None
    replica_acks = 0
    """Replicas that must confirm a `DURABLE` command before its reply is returned."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        lean = self.lean
        acks = self.replica_acks if args[0] in DURABLE else 0
        if lean is not None and args[0] in HOT:
            try:
                packed = _pack(args)  # type: ignore[misc]  # `lean` is only set with hiredis
            except TypeError:
                pass
            else:
                if not acks:
                    return self._answer(await lean.execute(packed), args[0], options)
                replies = await lean.execute_many(packed + _pack(_wait_for(acks)), 2)  # type: ignore[misc]
                return self._answer(_replicated(replies, acks), args[0], options)
        if self.single_connection_client or self.connection is not None:
            # redis-py leaves execute_command and get_connection unannotated
            reply = await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
            if acks:  # the same connection: WAIT covers the command
                check_replicated(await super().execute_command(*_wait_for(acks)), acks)  # type: ignore[no-untyped-call]
            return reply
        pool = self.connection_pool
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            await conn.send_command(*args)
            if acks:
                await conn.send_command(*_wait_for(acks))
            try:
                reply = await self.parse_response(conn, args[0], **options)
            finally:
                if acks:  # read even after an error reply: the connection goes back clean
                    confirmed = await conn.read_response()
            if acks:
                check_replicated(confirmed, acks)
            return reply
        finally:
            await pool.release(conn)

    def send_now(self, *args: Any) -> asyncio.Future[Any] | None:
        """A `HOT` command written before this returns, on an idle lean link: the future of
        its raw reply (an error reply is a `ResponseError` in it, not raised; no response
        callback). None when it cannot go at once (no lean pool, no idle link, arguments
        hiredis cannot pack): then `execute_command`. A `DURABLE` command with replicas to
        wait for goes with its WAIT, and its future fails with `NotReplicated` as
        `execute_command` raises it."""
        lean = self.lean
        if lean is None or args[0] not in HOT:
            return None
        try:
            packed = _pack(args)  # type: ignore[misc]  # `lean` is only set with hiredis
        except TypeError:
            return None
        acks = self.replica_acks if args[0] in DURABLE else 0
        if not acks:
            return lean.send_now(packed)
        both = lean.send_now(packed + _pack(_wait_for(acks)), 2)  # type: ignore[misc]
        if both is None:
            return None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def settle(both: asyncio.Future[Any]) -> None:
            try:
                reply = _replicated(both.result(), acks)
            except BaseException as exc:
                answer.set_exception(exc)
                return
            answer.set_result(reply)

        both.add_done_callback(settle)
        return answer

    def _answer(self, reply: Any, command: str, options: dict[str, Any]) -> Any:
        """`parse_response` for a reply already read (bytes, no decoding)."""
        if isinstance(reply, redis.exceptions.ResponseError):
            if EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise reply
        callback = self.response_callbacks.get(command)
        if callback is None:
            return reply
        options.pop(EMPTY_RESPONSE, None)
        options.pop(NEVER_DECODE, None)  # nothing is decoded here anyway
        options.pop("keys", None)
        return callback(reply, **options)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        pipe = LeanPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.lean = self.lean
        return pipe

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self.lean is not None:
            self.lean.close()
        await super().aclose(close_connection_pool)


def connect(url: str, **options: Any) -> aioredis.Redis:
    """`redis.asyncio.Redis.from_url(url, **options)`, never retrying, with the faster packer
    (only for a plain `redis://` URL: TLS and unix sockets keep redis-py's own connection
    classes) and the lean command path (`ripple.resp`) for the `HOT` commands, unless
    `lean=False`, hiredis is missing, or replies are decoded. Both pools close the
    connections a burst opened once they are idle (`ripple.pooling`; `idle_timeout` and
    `keep_idle` tune it). A `redis+cluster://` URL gets a `rediscluster.ClusterClient`
    instead: redis-py's `RedisCluster`, whose hot commands, transactions and pipelines go
    on a client of this module per primary. The URL's `?replica_acks=N` (`ripple.storeurls`)
    sets `LeanRedis.replica_acks` on every single-node client made."""
    acks = storeurls.replica_acks(url)
    url = storeurls.for_redis_py(url)
    if rediscluster.is_cluster_url(url):
        return rediscluster.connect(url, replica_acks=acks, **options)
    lean = options.pop("lean", True)
    acks = options.pop("replica_acks", acks)  # a cluster's node clients get it this way
    single = options.pop("single_connection_client", False)
    if url.startswith("redis://"):
        options.setdefault("connection_class", HiredisPackingConnection)
    options.setdefault("retry", Retry(NoBackoff(), 0))
    # No CLIENT SETINFO on connect: two more commands for every new connection (a thousand
    # dispatchers open a thousand), whose only use is a name in CLIENT LIST; redis-py 8 also
    # read its own version from the package metadata for it, each time.
    options.setdefault("driver_info", None)
    # Nor CLIENT MAINT_NOTIFICATIONS (redis-py 8.2, RESP3), which Valkey refuses: one more
    # round trip, and one more error in its errorstats, per connection.
    options.setdefault("maint_notifications_config", MaintNotificationsConfig(enabled=False))
    pool = pooling.SweptConnectionPool.from_url(url, **options)
    client = LeanRedis(connection_pool=pool, single_connection_client=single)
    client.auto_close_connection_pool = True  # as `from_url` does: `aclose` closes the pool
    client.replica_acks = acks
    if lean and _pack is not None:
        client.lean = lean_pool(pool)
    return client


def lean_pool(pool: aioredis.ConnectionPool) -> resp.Pool | None:
    """A lean pool to the same server, with the same credentials, timeouts, size and idle
    sweep as redis-py's `pool`; None where the lean path does not apply."""
    kwargs = pool.connection_kwargs
    if kwargs.get("decode_responses"):
        return None
    if kwargs.get("client_name"):
        return None  # a name in CLIENT LIST is asked for: keep redis-py's connections
    try:
        endpoint = resp.Endpoint(pool.connection_class(**kwargs))
    except TypeError:
        return None
    if isinstance(pool, pooling.SweptConnectionPool):
        return resp.Pool(endpoint, pool.max_connections, idle_timeout=pool.idle_timeout,
                         keep_idle=pool.keep_idle)
    return resp.Pool(endpoint, pool.max_connections)
