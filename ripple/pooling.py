"""Connection pools that give back what a burst opened: idle connections are closed after
`IDLE_TIMEOUT`, down to `KEEP_IDLE` of them.

`ripple.redisclient.connect` builds every Ripple client on a `SweptConnectionPool`, and its
lean pool (`ripple.resp.Pool`) sweeps its links by the same rule (`stale`). Neither redis-py's
pool nor the lean one ever closed an idle connection: a connection opened for a burst (a
thousand dispatchers starting together, a thousand deliveries ending in the same
millisecond) stayed open for the life of the process. With 1,001 Triggers on one Broker,
`ripple up` held 1,200-1,600 connections to Redis doing nothing, each a file descriptor here
and a client (about 20 KB with its buffers) in Redis, against Redis's `maxclients` (10,000
by default) shared by every worker and every other user of the server.

Both pools hand out their newest idle connection first (a list used as a stack), so under
a steady load the same few connections serve, and the ones a burst opened sink to the
bottom, where the sweep finds them. A connection in use is never touched: a blocking read
longer than `IDLE_TIMEOUT` keeps its connection. The sweep runs on a timer armed only while
a pool holds more than `KEEP_IDLE` idle connections; an idle process has no timer.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

from redis.asyncio.connection import AbstractConnection, ConnectionPool

IDLE_TIMEOUT = 10.0
"""Seconds a connection may stay idle in a pool before it is closed (beyond `KEEP_IDLE`)."""

KEEP_IDLE = 4
"""Idle connections a pool keeps however long they are idle: the next commands need no
connect (a TCP handshake and, with a password, an AUTH)."""


def stale(idle_since: Sequence[float], now: float, *, idle_timeout: float, keep: int) -> int:
    """How many connections to close from the bottom of a pool's idle stack.

    `idle_since` is when each idle connection was last given back, bottom (least recently
    used) first. The bottom run idle for `idle_timeout` or longer is stale, but `keep`
    connections stay whatever their age. The run stops at the first connection used more
    recently, so a connection out of order (given back late) is kept until the next sweep,
    never closed early."""
    closable = max(len(idle_since) - keep, 0)
    count = 0
    while count < closable and now - idle_since[count] >= idle_timeout:
        count += 1
    return count


class SweptConnectionPool(ConnectionPool):
    """redis-py's asyncio `ConnectionPool`, closing the connections idle for longer than
    `idle_timeout` beyond the `keep_idle` most recently used.

    `idle_timeout` and `keep_idle` are keyword arguments of the constructor and of
    `from_url`, next to redis-py's own. The sweep takes the stale connections off the idle
    stack at once (no await between the check and the removal, so no command can take one
    meanwhile) and disconnects them in a background task. (redis-py's optional OpenTelemetry
    connection counts are not told: Ripple does not turn them on.)"""

    def __init__(self, *args: Any, idle_timeout: float = IDLE_TIMEOUT, keep_idle: int = KEEP_IDLE,
                 **kwargs: Any) -> None:
        if idle_timeout <= 0:
            raise ValueError(f"idle_timeout: must be positive, got {idle_timeout!r}")
        if keep_idle < 0:
            raise ValueError(f"keep_idle: must be 0 or more, got {keep_idle!r}")
        super().__init__(*args, **kwargs)
        self.idle_timeout, self.keep_idle = idle_timeout, keep_idle
        self._idle_since: weakref.WeakKeyDictionary[AbstractConnection, float] = weakref.WeakKeyDictionary()
        self._timer: asyncio.TimerHandle | None = None
        self._closing: set[asyncio.Future[Any]] = set()
        self.swept = 0
        """Connections closed by the sweep so far."""

    async def release(self, connection: AbstractConnection) -> None:
        loop = asyncio.get_running_loop()
        self._idle_since[connection] = loop.time()
        try:
            await super().release(connection)
        finally:
            if self._timer is None and len(self._available_connections) > self.keep_idle:
                self._timer = loop.call_later(self.idle_timeout / 2, self._sweep)

    def _sweep(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        idle = self._available_connections
        since = self._idle_since
        count = stale([since.get(c, 0.0) for c in idle], loop.time(),
                      idle_timeout=self.idle_timeout, keep=self.keep_idle)
        if count:
            closed, idle[:count] = idle[:count], []
            self.swept += count
            task = asyncio.ensure_future(_disconnect(closed))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        if len(idle) > self.keep_idle:
            self._timer = loop.call_later(self.idle_timeout / 2, self._sweep)

    async def disconnect(self, inuse_connections: bool = True) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await super().disconnect(inuse_connections)

    @property
    def idle(self) -> int:
        """Idle connections in the pool (connected or not)."""
        return len(self._available_connections)


async def _disconnect(connections: Sequence[AbstractConnection]) -> None:
    # A connection that fails to close cleanly is gone all the same.
    await asyncio.gather(*(c.disconnect() for c in connections), return_exceptions=True)
