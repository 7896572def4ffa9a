"""Ripple's own options in a store URL, and the URL without them for redis-py.

`?replica_acks=N` on `--redis-url` / `RIPPLE_REDIS_URL` (one server or `redis+cluster://`):
a write that can create an event (`redisclient.DURABLE`) is confirmed only once N replicas
of its primary have it, by a `WAIT N` on the same connection. So an event answered 202 (or
a webhook answered, or a Kafka offset committed over a dead letter) survives the loss of
its primary even when a replica takes over: Redis replicates asynchronously, and without
it the writes of the last moments before a primary dies can be missing on the replica
that is promoted. A primary whose replicas do not confirm within `REPLICA_TIMEOUT_MS`
answers 503 with Retry-After.

Pure: the URL's text in, the options and the URL redis-py takes out.
"""

from __future__ import annotations

import urllib.parse

REPLICA_ACKS = "replica_acks"

REPLICA_TIMEOUT_MS = 1000
"""How long a write waits for its replicas before the producer gets 503 (the write stays on
the primary: a producer that retries may see the event twice, as at-least-once allows)."""

MAX_REPLICA_ACKS = 16


def replica_acks(url: str) -> int:
    """The URL's `replica_acks` (0 without it). ValueError naming the option and its rule."""
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True).get(REPLICA_ACKS)
    if not values:
        return 0
    if len(values) > 1:
        raise ValueError(f"{REPLICA_ACKS}: give it once, got {len(values)} values")
    text = values[0]
    if not text.isdigit() or int(text) > MAX_REPLICA_ACKS:
        raise ValueError(f"{REPLICA_ACKS}: must be a whole number of replicas from 0 to "
                         f"{MAX_REPLICA_ACKS}, got {text!r}")
    return int(text)


def for_redis_py(url: str) -> str:
    """`url` without Ripple's own options, as redis-py's `from_url` takes it (it would pass
    an option it does not know to the connection, which refuses it)."""
    base, _, query = url.partition("?")
    if not query:
        return url
    kept = [(name, value) for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True)
            if name != REPLICA_ACKS]
    return f"{base}?{urllib.parse.urlencode(kept)}" if kept else base
