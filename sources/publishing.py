"""Appending a source's events to its delivery queue, at most once per event id.

Used by the webhook receivers: GitHub and GitLab redeliver a webhook with the same delivery
id when they saw no 2xx (a timeout, a restart), and the event must be published once.
One Lua script sets the id's marker (with a TTL) and appends the event only if the marker
was new, so two concurrent deliveries of one id cannot both publish, and a crash between
the two steps is impossible. The receiver answers 2xx only after the script ran.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from ripple import cloudevents as ce
from ripple import redisclient

_PUBLISH_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
  return 1
end
return 0
"""

DEDUP_TTL = 7 * 24 * 3600
"""Seconds a delivery id is remembered: GitHub lets a user redeliver for 3 days."""


class Publisher:
    def __init__(self, client: aioredis.Redis, *, dedup_ttl: int = DEDUP_TTL) -> None:
        self._script = client.register_script(_PUBLISH_ONCE)
        self.dedup_ttl = dedup_ttl

    async def publish_once(self, stream: str, marker: str, event: ce.CloudEvent) -> bool:
        """Append `event` unless `marker` was seen; False for a duplicate. Raises
        errors.StoreUnavailable when the store cannot take it."""
        args: list[bytes | str | int] = [self.dedup_ttl]
        for field, value in ce.to_record(event).items():
            args += [field, value]
        try:
            return bool(await self._script(keys=[marker, stream], args=args))
        except redisclient.UNAVAILABLE as exc:
            raise redisclient.translate(exc) from exc
