"""Redis Cluster: the `redis+cluster://` store URL, its client, the start check, and a
connection to the one node that serves a key.

`redisclient.connect` hands a cluster URL here and gets a `ClusterClient` (redis-py's
`RedisCluster`, with the hot commands and transactions on Ripple's lean single-node client
of the slot's primary); `ripple up` checks the URL (`check_url`) and, before serving, that
the cluster agrees it is one (`mismatch`) and says `cluster_state:ok` (`problem`);
`channels.idling` takes a `dedicated` connection for its blocking reads, because `CLIENT
UNBLOCK` must reach the node where the read blocks.

Why a scheme of its own rather than probing the server: a cluster is a different client
(it routes each command by its key's slot and follows MOVED and ASK), and a URL that says
so keeps `ripple up --redis-url` the one place the choice is made. The start check still
refuses a mismatch, either way round, with the URL to write instead.

Why the cluster client is typed as `redis.asyncio.Redis`: every command Ripple sends has
the same signature and reply on both, and Ripple's keys already keep each multi-key
command, transaction and script in one slot (`ripple.keys`). The one place that differs,
the idle reader's own connection, goes through `dedicated`.

The URL may name several seed nodes (`redis+cluster://h1:7000,h2:7000`, `seeds`): the
client starts from the first that answers and learns the others from it, so a restart does
not need one particular node up. Not supported: a database other than 0 (a cluster has
one), unix sockets, Sentinel, and reading from replicas.

Failover and resharding are left to redis-py's handling of MOVED and its slot-map refresh
(tests/e2e/test_cluster_changes.py moves a slot and fails primaries over under load).
With a URL's `?replica_acks=N` (`ripple.storeurls`) the `redisclient.DURABLE` commands
always go to their slot's primary on its node client, which adds the WAIT.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import redis.asyncio as aioredis
import redis.exceptions
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.maint_notifications import MaintNotificationsConfig

from ripple import redisclient  # which imports this module: each uses the other only when called

SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
"""A cluster URL's scheme, and the scheme redis-py takes for its seed node (TLS kept)."""

EXAMPLE = "redis+cluster://HOST:PORT (rediss+cluster:// for TLS)"

SLOTS = 16384

T = TypeVar("T")


def is_cluster_url(url: str) -> bool:
    return urllib.parse.urlsplit(url).scheme in SCHEMES


def check_url(url: str) -> str:
    """`url` if it is a cluster URL Ripple can use, else ValueError saying which rule it
    breaks (the caller names the flag or variable)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in SCHEMES:
        raise ValueError(f"{url!r} is not a Redis Cluster URL; write it as {EXAMPLE}")
    for seed in seeds(url):
        where = urllib.parse.urlsplit(seed)
        try:
            where.port  # noqa: B018 - raises on a port that is not a number or out of range
        except ValueError:
            raise ValueError(f"{url!r} is not a Redis Cluster URL: bad port") from None
        if not where.hostname:
            raise ValueError(f"{url!r} names no host{' in a seed' if ',' in parsed.netloc else ''}; "
                             f"write it as {EXAMPLE}")
    if parsed.path not in ("", "/", "/0"):
        raise ValueError(f"{url!r}: a Redis Cluster has one database, 0; drop {parsed.path!r}")
    return url


def seeds(url: str) -> list[str]:
    """Each seed node of a cluster URL as one server's URL, the way redis-py writes it:
    `redis+cluster://u:p@h1:7000,h2:7000` is `redis://u:p@h1:7000` and `redis://u:p@h2:7000`
    (credentials, TLS and options shared). Any seed that answers is enough to start."""
    parsed = urllib.parse.urlsplit(url)
    credentials, at, hosts = parsed.netloc.rpartition("@")
    scheme = SCHEMES.get(parsed.scheme, parsed.scheme)
    return [urllib.parse.urlunsplit(parsed._replace(scheme=scheme, netloc=f"{credentials}{at}{host}"))
            for host in hosts.split(",")]


_NOT_CLUSTER_OPTIONS = ("lean", "retry_on_timeout", "connection_class", "single_connection_client",
                        "replica_acks")
"""`redisclient.connect` options that a `RedisCluster` does not take (its node clients do):
it never retries here anyway (`retry` below), and picks its connection class itself (TLS
from the scheme)."""


def connect(url: str, **options: Any) -> aioredis.Redis:
    """A `ClusterClient` on the seed nodes of `url`, never retrying (MOVED and ASK are still
    followed: the command did not run where it was refused). `max_connections` is per node;
    `lean=False` keeps every command on redis-py's cluster client. Typed as the single-node
    client: see the module's docstring."""
    node_options = dict(options)
    for name in _NOT_CLUSTER_OPTIONS:
        options.pop(name, None)
    options.setdefault("retry", Retry(NoBackoff(), 0))
    options.setdefault("driver_info", None)  # no CLIENT SETINFO per connection, as redisclient
    # nor CLIENT MAINT_NOTIFICATIONS, which Valkey refuses: one round trip per connection
    options.setdefault("maint_notifications_config", MaintNotificationsConfig(enabled=False))
    first, *others = seeds(url)
    more = [ClusterNode(where.hostname or "", where.port or 6379)  # `check_url` wants a host
            for where in map(urllib.parse.urlsplit, others)]
    client = cast(ClusterClient, ClusterClient.from_url(first, startup_nodes=more or None, **options))
    client.setup(url, node_options)
    return cast(aioredis.Redis, client)


def is_cluster(client: object) -> bool:
    return isinstance(client, RedisCluster)


def first_key(args: tuple[Any, ...]) -> Any:
    """The key that routes a command Ripple sends on the lean path or in a transaction (the
    server refuses with CROSSSLOT one whose keys are in several slots); None for one that
    names no key. Most name it first; these are the exceptions Ripple uses."""
    name = str(args[0]).upper()
    if name in ("EVALSHA", "EVAL"):
        return args[3] if len(args) > 3 and int(args[2]) > 0 else None
    if name in ("XREADGROUP", "XREAD"):  # [GROUP g c] ... STREAMS key [key ...] id [id ...]
        for i in range(4 if name == "XREADGROUP" else 1, len(args) - 1):
            word = args[i].decode("latin-1") if isinstance(args[i], bytes) else args[i]
            if isinstance(word, str) and word.upper() == "STREAMS":
                return args[i + 1]
        return None
    if name in ("XGROUP", "XINFO"):  # a subcommand, then the key
        return args[2] if len(args) > 2 else None
    return args[1] if len(args) > 1 else None


class ClusterClient(RedisCluster):
    """redis-py's `RedisCluster`, with a single-node Ripple client per primary (`redisclient.
    connect` on the node's address, the cluster's credentials and options) that carries:

    - the `redisclient.HOT` commands, on its lean path (`ripple.resp`), sent to the primary
      that the client's slot map names for the command's key. A MOVED or ASK answer means the
      command did not run there: it is sent again through redis-py's own routing, which
      follows the redirect and patches the slot map, so the next command goes straight to
      the new owner. Connection errors are raised, never retried, as on one server;
    - transactions (`pipeline(transaction=True)`, `SlotTransaction`): a MULTI/EXEC on the
      node that serves their one slot. redis-py 8's cluster transaction queues each command
      through a worker thread running a private event loop, joined while the caller's loop
      waits: measured here, 1,344 µs of CPU per ZADD+XACK transaction against 94 on one
      server, with the whole event loop stopped meanwhile;
    - pipelines of `redisclient.PIPELINED` commands (`NodePipelines`): one lean pipeline
      per node, sent together.

    Everything else (other pipelines, SCRIPT LOAD to every primary, the rest) is redis-py's
    cluster client unchanged. `lean=False` (bench only) leaves all but transactions to it.
    """

    def setup(self, url: str, options: dict[str, Any]) -> None:
        self._url = urllib.parse.urlsplit(url)
        self._node_options = options
        self._lean = bool(options.get("lean", True))
        self._replica_acks = int(options.get("replica_acks") or 0)
        self._node_clients: dict[str, aioredis.Redis] = {}
        self._placeholder = aioredis.ConnectionPool()
        """A pool a `SlotTransaction` holds until it knows its node; it never connects."""

    def node_client(self, key: Any) -> aioredis.Redis | None:
        """The single-node client of the primary that serves `key`'s slot, by the client's
        slot map; None before the map is known (the first command through redis-py's path
        learns it)."""
        nodes = self.nodes_manager.slots_cache.get(self.keyslot(key))
        if not nodes:
            return None
        node = nodes[0]
        client = self._node_clients.get(node.name)
        if client is None:
            where = self._url.netloc.rpartition("@")
            netloc = f"{where[0]}{where[1]}{node.host}:{node.port}"
            url = urllib.parse.urlunsplit(self._url._replace(
                scheme=SCHEMES[self._url.scheme], netloc=netloc, path="/0"))
            client = self._node_clients[node.name] = redisclient.connect(url, **self._node_options)
        return client

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        if self._replica_acks and args[0] in redisclient.DURABLE:
            return await self._execute_durable(args, kwargs)
        if self._lean and args[0] in redisclient.HOT and "target_nodes" not in kwargs:
            key = first_key(args)
            node = None if key is None else self.node_client(key)
            if node is not None:
                try:
                    return await node.execute_command(*args, **kwargs)  # type: ignore[no-untyped-call]
                except redis.exceptions.AskError:  # MOVED too: not run there; redis-py follows it
                    pass
        return await super().execute_command(*args, **kwargs)

    async def _execute_durable(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A `redisclient.DURABLE` command with replicas to wait for: always on the node
        client of its slot's primary, which sends the WAIT on the same connection (redis-py's
        routing would not). An ASK (the slot is migrating) is raised, as the script could not
        run on keys split between two nodes anyway."""
        key = first_key(args)
        if key is None:
            raise redis.exceptions.DataError(f"{args[0]} names no key to route it by")
        return await self.on_owner(
            key, lambda node: node.execute_command(*args, **kwargs))  # type: ignore[no-untyped-call]

    async def on_owner(self, key: Any, run: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """`run(client)` with the single-node client of the primary that serves `key`'s slot
        (the slot map is fetched when it is not known yet). A MOVED means nothing ran there:
        the map is patched and `run` goes to the new owner, `MOVES` tries in all."""
        tries = 1
        while True:
            node = self.node_client(key)
            if node is None:
                await self.initialize()
                node = self.node_client(key)
            if node is None:
                raise redis.exceptions.SlotNotCoveredError(f"no primary serves the slot of {key!r}")
            try:
                return await run(node)
            except redis.exceptions.MovedError as moved:
                if tries >= MOVES:
                    raise
                tries += 1
                await self.learn(moved, node.connection_pool.connection_kwargs.get("host", ""))

    async def learn(self, moved: redis.exceptions.MovedError, host: str) -> None:
        """Patch the slot map with where a MOVED read on a node of `host` points."""
        if not moved.host:  # "MOVED 3999 :6380": the host is the one that answered
            moved.host = host
        await self.nodes_manager.move_slot(moved)

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> Any:
        if transaction:
            return SlotTransaction(self)
        if self._lean and not shard_hint:
            return NodePipelines(self)
        return super().pipeline(transaction, shard_hint)

    def cluster_pipeline(self) -> Any:
        """redis-py's own pipeline of this cluster (`ClusterPipeline`)."""
        return super().pipeline(False)

    async def aclose(self) -> None:
        clients, self._node_clients = list(self._node_clients.values()), {}
        for client in clients:
            await client.aclose()
        await super().aclose()


MOVES = 3
"""How often a command or transaction is sent to its slot's owner (`ClusterClient.on_owner`),
following MOVED, before the MOVED is raised."""


class SlotTransaction(Pipeline):
    """A MULTI/EXEC that runs on the node that serves its keys' one slot, as on one server
    (`ClusterClient`). Every key of a Ripple transaction shares a hash tag (`ripple.keys`),
    so the first command's key (`first_key`) picks the node;
    keys of several slots are refused before anything is sent. A MOVED aborts the EXEC
    (nothing ran): the slot map is patched and the transaction sent to the new owner. An
    ASK (the slot is migrating) is raised: `redisclient.UNAVAILABLE`, try again later."""

    def __init__(self, cluster: ClusterClient) -> None:
        super().__init__(cluster._placeholder, cluster.response_callbacks, True, None)
        self.owner = cluster

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = list(self.command_stack)
        if not stack:
            return []
        routed = [key for key in (first_key(args) for args, _ in stack) if key is not None]
        slots = {self.owner.keyslot(key) for key in routed}
        if not slots:
            await self.reset()  # type: ignore[no-untyped-call]
            raise redis.exceptions.RedisClusterException("a transaction names no key to route it by")
        if len(slots) > 1:
            await self.reset()  # type: ignore[no-untyped-call]
            raise redis.exceptions.CrossSlotTransactionError(
                f"a transaction's keys must share one slot; these are in {sorted(slots)}")

        async def run(node: aioredis.Redis) -> list[Any]:
            pipe = node.pipeline(transaction=True)
            pipe.command_stack = list(stack)
            return await pipe.execute(raise_on_error)

        try:
            return await self.owner.on_owner(routed[0], run)
        finally:
            await self.reset()  # type: ignore[no-untyped-call]


class NodePipelines(Pipeline):
    """A pipeline without a transaction, as one lean pipeline per node (`ClusterClient`),
    sent together; the replies come back in the order the commands were queued.

    Only pipelines of `redisclient.PIPELINED` commands go this way; any other goes through
    redis-py's cluster pipeline whole. A command's keys must share a slot, as the server
    wants (Ripple's DELs are one per hash tag: `channels.queues`). A command a node answered MOVED or ASK did not run there: it is sent
    again on its own through redis-py's routing, which follows the redirect. As on one
    server, a connection error fails the pipeline (the commands of other nodes may have
    run, as those queued before a broken one may have)."""

    def __init__(self, cluster: ClusterClient) -> None:
        super().__init__(cluster._placeholder, cluster.response_callbacks, False, None)
        self.owner = cluster

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = list(self.command_stack)
        await self.reset()  # type: ignore[no-untyped-call]
        if not stack:
            return []
        groups = self._by_node(stack)
        if groups is None:
            pipe = self.owner.cluster_pipeline()
            for args, options in stack:
                pipe.execute_command(*args, **options)
            return cast(list[Any], await pipe.execute(raise_on_error))
        replies: list[Any] = [None] * len(stack)

        async def send(node: aioredis.Redis, indexes: list[int]) -> None:
            pipe = node.pipeline(transaction=False)
            pipe.command_stack = [stack[i] for i in indexes]
            for i, reply in zip(indexes, await pipe.execute(raise_on_error=False)):
                replies[i] = reply

        failures = [f for f in await asyncio.gather(*(send(n, i) for n, i in groups),
                                                    return_exceptions=True) if f is not None]
        if failures:
            raise failures[0]
        for i, reply in enumerate(replies):
            if isinstance(reply, redis.exceptions.AskError):  # MOVED too: not run there
                args, options = stack[i]
                try:
                    replies[i] = await self.owner.execute_command(*args, **options)
                except redis.exceptions.ResponseError as error:
                    replies[i] = error
        if raise_on_error:
            for reply in replies:
                if isinstance(reply, redis.exceptions.ResponseError):
                    raise reply
        return replies

    def _by_node(self, stack: list[Any]) -> list[tuple[aioredis.Redis, list[int]]] | None:
        """The commands' indexes by the node client of their slot; None when one is not
        for the lean path."""
        groups: dict[int, tuple[aioredis.Redis, list[int]]] = {}
        for i, (args, _options) in enumerate(stack):
            key = first_key(args)
            if args[0] not in redisclient.PIPELINED or key is None:
                return None
            node = self.owner.node_client(key)
            if node is None:
                return None
            groups.setdefault(id(node), (node, []))[1].append(i)
        return list(groups.values())


# -- the start check ----------------------------------------------------------------------
def parse_info(text: str | bytes) -> dict[str, str]:
    """`CLUSTER INFO` / `INFO cluster` text as a dict (`cluster_state` -> `ok`)."""
    if isinstance(text, bytes):
        text = text.decode()
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.strip().partition(":")
        if sep and not name.startswith("#"):
            found[name] = value
    return found


def mismatch(url: str, shown: str, info: Mapping[str, str]) -> str | None:
    """What is wrong when the URL's kind and the server's (`INFO cluster`'s
    `cluster_enabled`) differ, with the URL to write instead; None when they agree."""
    enabled = info.get("cluster_enabled", "0") == "1"
    parsed = urllib.parse.urlsplit(url)
    where = parsed.netloc.rsplit("@", 1)[-1].split(",")[0]  # one server: the first seed
    if is_cluster_url(url) and not enabled:
        return (f"the store at {shown} is not a Redis Cluster node (INFO cluster: "
                f"cluster_enabled:0); for one server write {SCHEMES[parsed.scheme]}://{where}/0")
    if not is_cluster_url(url) and enabled:
        scheme = f"{parsed.scheme}+cluster" if parsed.scheme in ("redis", "rediss") else "redis+cluster"
        return (f"the store at {shown} is a Redis Cluster node (INFO cluster: cluster_enabled:1); "
                f"write {scheme}://{where}")
    return None


def problem(info: Mapping[str, str]) -> str | None:
    """Why a cluster cannot serve yet, from its `CLUSTER INFO`; None when
    `cluster_state:ok`."""
    state = info.get("cluster_state", "unknown")
    if state == "ok":
        return None
    return (f"cluster_state:{state} (slots assigned {info.get('cluster_slots_assigned', '?')}, "
            f"ok {info.get('cluster_slots_ok', '?')} of {SLOTS}; "
            f"known nodes {info.get('cluster_known_nodes', '?')})")


# -- one node's own connection ------------------------------------------------------------
@dataclass
class Dedicated:
    """A client on one connection of its own, to the node that serves a key, and the
    options that send another client's command to that same node (`CLIENT UNBLOCK`)."""

    client: aioredis.Redis
    route: dict[str, Any]


async def dedicated(client: aioredis.Redis, key: str) -> Dedicated:
    """A one-connection client to where `key` lives: a connection of `client`'s pool on one
    server; on a cluster, of the pool of the primary that serves `key`'s slot."""
    if not isinstance(client, ClusterClient):
        return Dedicated(aioredis.Redis(connection_pool=client.connection_pool,
                                        single_connection_client=True), {})
    node = client.node_client(key)
    if node is None:
        await client.initialize()  # the slot map
        node = client.node_client(key)
    if node is None:
        raise redis.exceptions.SlotNotCoveredError(f"no node serves the slot of {key!r}")
    own = _NodeConnection(connection_pool=node.connection_pool, single_connection_client=True)
    own.owner = client
    return Dedicated(own, {"target_nodes": client.get_node_from_key(key)})


class _NodeConnection(aioredis.Redis):
    """One connection to a cluster node. A MOVED it reads (its slot moved while it was
    held) patches the cluster client's slot map before it is raised, so the caller's next
    `dedicated`, after the store error, is to the slot's new owner."""

    owner: ClusterClient

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except redis.exceptions.MovedError as moved:
            await self.owner.learn(moved, self.connection_pool.connection_kwargs.get("host", ""))
            raise
