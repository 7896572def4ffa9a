"""Leases in Redis: one holder at a time, e.g. the reconcilers of `ripple up --workers N`,
or the dispatcher of an ordered queue.

Called by `controllers.platforms.local.platform` (the leader lease) and
`channels.dispatching` (ordered queues). Every step is one Lua script, so no step is
check-then-act: `acquire` takes a free lease or re-extends one this holder still has,
`keep` renews only while this holder has it (a holder that stalled past its lease never
extends one that another process took meanwhile), and `release` deletes only its own.

The store may fail at any step. `acquire` keeps contending through store errors with a
capped backoff. `keep` returns ("lost, or maybe lost") on the first renew that fails or
that does not complete a tenth of the TTL before the lease would expire (the tenth is the
time left to stop the work): whoever runs work under the lease stops it at once and
contends again, so no work outlives the lease past its TTL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
import redis.exceptions

from ripple import errors, keys, supervising

log = logging.getLogger(__name__)

_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_UNCONFIRMED = (redis.exceptions.RedisError, OSError, asyncio.TimeoutError)
"""Anything the store can raise means "not confirmed": a renew that raises it may have lost
the lease. (A script error is a RedisError too: it is logged, never taken as success.)
Broader than `redisclient.UNAVAILABLE` on purpose, and never seen outside this module:
`release` translates what it raises into `errors.StoreUnavailable`."""

CONTEND_BACKOFF = supervising.Backoff(initial=0.2, factor=2.0, cap=5.0, healthy_after=0.0)
"""Between attempts to acquire while the store fails: 0.2 s doubling to 5 s."""


class Lease:
    def __init__(self, client: aioredis.Redis, name: str, holder: str, *, ttl: float = 5.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.redis, self.key, self.holder, self.ttl = client, keys.lease(name), holder, ttl
        self.clock, self.sleep = clock, sleep
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self.expires = 0.0
        """Monotonic time by which the lease has expired unless renewed: counted from before
        the last successful acquire or renew was sent, so it errs on the early side."""

    @property
    def _args(self) -> list[str | int]:
        return [self.holder, int(self.ttl * 1000)]

    async def acquire(self) -> None:
        """Wait until this holder has the lease, contending through store errors."""
        failures = 0
        while True:
            sent = self.clock()
            try:
                # Bounded: a command lost in a partition must not hold up contending.
                if await asyncio.wait_for(self._acquire(keys=[self.key], args=self._args), self.ttl):
                    self.expires = sent + self.ttl
                    return
                failures, wait = 0, self.ttl / 3  # held by another: try when it may have lapsed
            except _UNCONFIRMED as exc:
                failures += 1
                wait = supervising.delay(CONTEND_BACKOFF, failures)
                log.warning("lease store unavailable; contending again",
                            extra={"lease": self.key, "error": str(exc) or type(exc).__name__,
                                   "retry_in": wait})
            await self.sleep(wait)

    async def keep(self) -> None:
        """Renew until the lease is lost or maybe lost (a store error, or a renew that would
        end past the expiry); returns then, having logged why."""
        while True:
            await self.sleep(self.ttl / 3)
            sent = self.clock()
            left = self.expires - self.ttl / 10 - sent  # a tenth of the TTL to stop the work
            if left <= 0:
                log.warning("lease expired before its renewal", extra={"lease": self.key})
                return
            try:
                renewed = await asyncio.wait_for(self._renew(keys=[self.key], args=self._args), left)
            except _UNCONFIRMED as exc:
                log.warning("lease renewal failed; taking the lease as lost",
                            extra={"lease": self.key, "error": str(exc) or type(exc).__name__})
                self.expires = 0.0
                return
            if not renewed:
                log.warning("lease taken by another holder", extra={"lease": self.key})
                self.expires = 0.0
                return
            self.expires = sent + self.ttl

    async def release(self) -> None:
        """Delete the lease if this holder has it (one compare-and-delete script)."""
        self.expires = 0.0
        try:
            await self._release(keys=[self.key], args=[self.holder])
        except _UNCONFIRMED as exc:
            raise errors.StoreUnavailable(f"lease {self.key} not released: {exc}") from exc
