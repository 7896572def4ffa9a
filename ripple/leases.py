"""Leases in Redis: one holder at a time, e.g. the reconcilers of `ripple up --workers N`,
or the dispatcher of an ordered queue.

SET NX PX takes the lease; a Lua compare-and-extend renews it, so a holder that stalled
past its lease never extends one that another process took meanwhile.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from ripple import keys

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class Lease:
    def __init__(self, client: aioredis.Redis, name: str, holder: str, *, ttl: float = 5.0) -> None:
        self.redis, self.key, self.holder, self.ttl = client, keys.lease(name), holder, ttl
        self._renew = client.register_script(_RENEW)

    async def acquire(self) -> None:
        """Wait until this holder has the lease."""
        while not await self.redis.set(self.key, self.holder, nx=True, px=int(self.ttl * 1000)):
            if await self.redis.get(self.key) == self.holder.encode():
                return
            await asyncio.sleep(self.ttl / 3)

    async def keep(self) -> None:
        """Renew until the lease is lost; returns when it is."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            if not await self._renew(keys=[self.key], args=[self.holder, int(self.ttl * 1000)]):
                return

    async def release(self) -> None:
        if await self.redis.get(self.key) == self.holder.encode():
            await self.redis.delete(self.key)
