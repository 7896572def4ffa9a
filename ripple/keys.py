"""Every Redis key Ripple writes, in one module.

Keys of one broker or channel share a hash tag (`{ns/name}`), so that the multi-key
transactions and Lua scripts of the delivery engine stay in one slot on Redis Cluster.
Callers build keys only through these functions; no other module spells a prefix.
"""

from __future__ import annotations

import json
import zlib

PREFIX = "ripple"

# -- resource store (control plane) -------------------------------------------------------
# Every key of the resource store shares the hash tag `{res}`: each write is one script over
# a kind's hash, the version counter and the change stream, so they must be one Cluster slot.
# (One slot holds the whole store; resources are small and few next to the event logs.)
RESOURCES = f"{PREFIX}:{{res}}:"

RESOURCE_VERSION = f"{RESOURCES}rv"
"""Counter: the global resourceVersion."""

RESOURCE_CHANGES = f"{RESOURCES}changes"
"""Stream of resource changes (ADDED, MODIFIED, DELETED) that watchers follow."""


def resources(api_group_version: str, plural: str) -> str:
    """Hash of every object of one kind: field `namespace/name`, value the JSON object."""
    return f"{RESOURCES}{api_group_version}:{plural}"


UNTAGGED_RESOURCES = f"{PREFIX}:res:"
"""The prefix of the store's keys before they had a hash tag (`ripple:res:rv`, ...):
`ripple.store.redis.migrate` renames them once. Nothing writes under it any more."""


def untagged(key: str) -> str:
    """The pre-hash-tag name of a resource store key (`ripple:{res}:rv` -> `ripple:res:rv`)."""
    assert key.startswith(RESOURCES), key
    return UNTAGGED_RESOURCES + key[len(RESOURCES):]


# -- what the data plane tells the control plane ------------------------------------------
DATA_PLANE_SYNCED = f"{PREFIX}:dataplane:synced"
"""Hash: per data-plane process, the resourceVersion its routes and dispatchers applied."""


# -- live delivery figures, mesh-wide (`controllers.platforms.local.delivery_rates`) --------
DELIVERY_TOTALS_WANTED = f"{PREFIX}:dataplane:totals:wanted"
"""String with a TTL: set by every read of the live figures; while it lives, each worker
publishes its dispatch totals (nobody reading: nobody publishing)."""

DELIVERY_TOTALS_WORKERS = f"{PREFIX}:dataplane:totals:workers"
"""Sorted set: the workers publishing totals (score: last publish, epoch seconds)."""


def delivery_totals(worker: str) -> str:
    """Hash with a TTL: one worker's dispatch totals since it started, field
    `namespace/label` (e.g. `default/trigger:hello`), value JSON."""
    return f"{PREFIX}:dataplane:totals:{worker}"


# -- serving ------------------------------------------------------------------------------
REVISION_SCALES = f"{PREFIX}:serving:scales"
"""Hash: the autoscaler's desired replicas per Revision (field `namespace/name`, value
JSON `{"desired": N, "at": epoch}`), read by the revision runtime (`ripple.scales`)."""


# -- leases -------------------------------------------------------------------------------
def lease(name: str) -> str:
    """A leader lease (SET NX PX), e.g. the controller's."""
    return f"{PREFIX}:lease:{name}"


# -- the event logs (data plane) ----------------------------------------------------------
def hash_tag(key: str) -> str:
    """What Redis Cluster hashes of `key`: the text inside its first `{...}`, else all of it.
    Keys with the same hash tag may share a transaction or a script."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1:end]
    return key


def _tag(kind: str, namespace: str, name: str) -> str:
    return f"{PREFIX}:{kind}:{{{namespace}/{name}}}"


BROKERS = f"{PREFIX}:broker:"
"""The prefix of every broker key: the planes use it to tell their own streams apart."""

CHANNELS = f"{PREFIX}:channel:"


def broker_log(namespace: str, broker: str) -> str:
    """Stream: the broker's log; the ingress XADDs every accepted event here."""
    return _tag("broker", namespace, broker) + ":log"


def broker_queue(namespace: str, broker: str, trigger: str) -> str:
    """Stream: one trigger's delivery queue, fed by the broker's fan-out."""
    return _tag("broker", namespace, broker) + f":queue:{trigger}"


def broker_schedule(namespace: str, broker: str) -> str:
    """Sorted set: the persisted retry schedule of every trigger queue of one broker."""
    return _tag("broker", namespace, broker) + ":schedule"


def channel_log(namespace: str, channel: str) -> str:
    """Stream: a channel's log."""
    return _tag("channel", namespace, channel) + ":log"


def channel_queue(namespace: str, channel: str, subscription: str) -> str:
    """Stream: one subscription's delivery queue on a channel."""
    return _tag("channel", namespace, channel) + f":queue:{subscription}"


def channel_schedule(namespace: str, channel: str) -> str:
    """Sorted set: the retry schedule of every subscription queue of one channel."""
    return _tag("channel", namespace, channel) + ":schedule"


# -- Ripple's dead-letter store (`channels.deadletters`) ------------------------------------
# Each store stream and last-error hash shares the hash tag of the queue it serves, so that
# moving an entry between them (dead-lettering, redriving) is one transaction in one slot.


def broker_dead_letters(namespace: str, broker: str, trigger: str) -> str:
    """Stream: a Trigger's dead letters, bounded by count and age."""
    return _tag("broker", namespace, broker) + f":deadletters:{trigger}"


def dead_letter_index(store: str) -> str:
    """Sorted set beside a dead-letter store (any of the three `*_dead_letters` keys, in its
    hash tag): every entry's event id and store id, as the member `EVENT-ID\\0STORE-ID` at
    score 0, so members sort by event id and `ripple dlq show EVENT-ID` reads the entries of
    one event id with one bounded ZRANGEBYLEX instead of a walk of the store. The member ``
    (empty) marks an index that holds every entry of its store (`channels.deadletters`
    explains the upkeep: the scripts that add to and trim the store keep it)."""
    return store + ":ids"


def broker_failures(namespace: str, broker: str) -> str:
    """Hash: the last delivery error of each Trigger of one broker (field: the Trigger)."""
    return _tag("broker", namespace, broker) + ":failures"


def channel_dead_letters(namespace: str, channel: str, subscription: str) -> str:
    """Stream: a Subscription's dead letters, bounded by count and age."""
    return _tag("channel", namespace, channel) + f":deadletters:{subscription}"


def channel_failures(namespace: str, channel: str) -> str:
    """Hash: the last delivery error of each Subscription of one channel."""
    return _tag("channel", namespace, channel) + ":failures"


SOURCES = f"{PREFIX}:source:"


def _source_tag(kind: str, namespace: str, name: str) -> str:
    return f"{SOURCES}{kind.lower()}:{{{namespace}/{name}}}"


def source_queue(kind: str, namespace: str, name: str) -> str:
    """Stream: the delivery queue of one source (PingSource, GitHubSource, GitLabSource);
    its adapter appends each event here and the delivery engine sends it to the sink."""
    return _source_tag(kind, namespace, name) + ":queue"


def source_schedule(kind: str, namespace: str, name: str) -> str:
    """Sorted set: the retry schedule of a source's queue."""
    return _source_tag(kind, namespace, name) + ":schedule"


def source_dead_letters(kind: str, namespace: str, name: str) -> str:
    """Stream: the dead letters of a source's deliveries to its sink."""
    return _source_tag(kind, namespace, name) + ":deadletters"


def source_failures(kind: str, namespace: str, name: str) -> str:
    """Hash: the last delivery error of a source's queue (one field, the source's name)."""
    return _source_tag(kind, namespace, name) + ":failures"


def ping_tick(namespace: str, name: str) -> str:
    """String: the last tick (epoch seconds) a PingSource fired; the claim that makes each
    tick fire once across processes and restarts."""
    return _source_tag("PingSource", namespace, name) + ":tick"


def source_report(kind: str, namespace: str, name: str) -> str:
    """Hash with a TTL: what each process's adapter of a source reports (field: the
    process's consumer name; value: JSON), for the reconciler to turn into conditions."""
    return _source_tag(kind, namespace, name) + ":report"


def webhook_delivery(kind: str, namespace: str, name: str, delivery: str) -> str:
    """String with a TTL: a webhook delivery id already published (redeliveries dedupe)."""
    return _source_tag(kind, namespace, name) + f":delivery:{delivery}"


# -- serving: async invocations (Prefer: respond-async) ------------------------------------
SERVING_INVOCATIONS = f"{PREFIX}:serving:{{invocations}}:queue"
"""Stream: every accepted async invocation, until one attempt finished (`serving.deferring`)."""

SERVING_INVOCATION_RETRIES = f"{PREFIX}:serving:{{invocations}}:retries"
"""Sorted set: async invocations waiting for their next attempt (score: due, epoch seconds).
Shares the queue's hash tag: the script that moves a due one back is one slot."""


# -- per-event traces (`channels.tracing`, read by the trace endpoint) ----------------------
TRACE_SHARDS = 16
TRACE_BUCKET_SECONDS = 60
"""The width of one trace bucket: the hops recorded in one minute share a hash per shard."""


def trace_bucket(shard: int, bucket: int) -> str:
    """Hash with a TTL: the hops recorded during the minute `bucket` (epoch seconds //
    `TRACE_BUCKET_SECONDS`) of events whose id falls in `shard`, one field per event id
    (`trace_field`), its hops oldest first, one JSON record per line. One hash per minute
    and shard rather than one list per event: a flush writes one hash per shard, and the
    server keeps no key and no TTL per event (a key and its TTL per event was most of what
    tracing cost the store). The hash tag is one of `TRACE_SHARDS` (by the id's CRC-32),
    so the hops a process records in one flush go as one script per shard (one Cluster
    slot each), and a trace is found from its id alone."""
    return f"{PREFIX}:traces:{{trace-{shard}}}:{bucket}"


def trace_buckets(shard: int) -> str:
    """Sorted set: the shard's `trace_bucket` keys, scored by when each expires (epoch
    ms), so a reader finds the live buckets without knowing the writers' TTL."""
    return f"{PREFIX}:traces:{{trace-{shard}}}"


def trace_shard(event_id: str) -> int:
    return zlib.crc32(event_id.encode("utf-8", "surrogatepass")) % TRACE_SHARDS


def trace_field(event_id: str) -> str:
    """The field of an event id in a `trace_bucket`: the id itself, or its JSON string when
    it holds a newline (a flush sends the fields newline-separated) or starts with a quote
    (so the two never meet)."""
    if "\n" in event_id or event_id.startswith('"'):
        return json.dumps(event_id, ensure_ascii=False)
    return event_id


# consumer-group names
FANOUT_GROUP = "fanout"
DELIVERY_GROUP = "delivery"
INVOKER_GROUP = "invoker"
"""The consumer group of the async invocation queue (`serving.deferring`)."""
