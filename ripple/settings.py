"""Ripple's settings: one tree of typed dataclasses, each field with a default and a docstring.

Built once by the composition root (`ripple.cli.up`) from flags and the environment, then
passed explicitly to whatever needs a part of it. Nothing reads the environment elsewhere.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class StoreSettings:
    url: str | None = None
    """Redis/Valkey URL (`--redis-url`, `RIPPLE_REDIS_URL`); None starts the embedded Valkey."""

    data_dir: Path = Path(".ripple")
    """Where the embedded Valkey keeps its AOF and pid file."""

    start_timeout: float = 5.0
    """Seconds `ripple up` waits at start for an external store to answer before it gives
    up naming the URL (`--store-timeout`); a store lost later only makes answers 503."""

    appendfsync: str = "everysec"
    """Embedded Valkey's fsync policy. `everysec` survives the kill of any process (the AOF is
    written before a reply); `always` also survives power loss, at a cost in throughput."""


@dataclass
class IngressSettings:
    max_event_bytes: int = 4 * 1024 * 1024
    """Largest request body the ingress reads; larger gets 413."""

    max_backlog: int = 1_000_000
    """Entries a broker or channel log may hold before the ingress answers 503."""

    retry_after: float = 1.0
    """Seconds in the Retry-After of a 503."""

    write_timeout: float = 5.0
    """Seconds the ingress waits for the store to confirm a write before answering 503."""

    default_ttl: int = 255
    """`knativebrokerttl` set on events that arrive without one (Knative's MAX_TTL)."""

    route_brokers: bool = True
    """The broker ingress copies each event to the queues of the Triggers it matches in the
    script that appends it to the log (`channels.appending`), instead of leaving that to the
    fan-out: one Redis round trip per flush and no fan-out hop (issue #14)."""


@dataclass
class DeliverySettings:
    max_in_flight: int = 64
    """Deliveries in flight per trigger or subscription queue, per worker process."""

    default_timeout: float = 30.0
    """Per-attempt timeout when the DeliverySpec sets none."""

    retry_after_max: float = 300.0
    """Cap on an honoured Retry-After when the DeliverySpec sets no `retryAfterMax`."""

    backoff_max: float = 3600.0
    """Cap on any single backoff delay (Knative has none; see knative/eventing#9278)."""

    reclaim_idle: float = 60.0
    """Seconds a delivery may stay unacknowledged before another worker reclaims it
    (XAUTOCLAIM). It is raised to the queue's timeout plus `reclaim_margin` when that is
    larger."""

    reclaim_margin: float = 30.0
    """Seconds past an attempt's timeout before its entry may be reclaimed: room for a reply's
    append (the ingress's write timeout) and the outcome's write (the store client's socket
    timeout) after the POST."""

    schedule_poll: float = 0.05
    """Seconds between checks of the persisted retry schedule."""

    failure_log_interval: float = 10.0
    """Seconds between two warnings about failed attempts of one queue: the first failure is
    logged at once, then one line per interval counts those held back (DEBUG logs each)."""


@dataclass
class DeadLetterSettings:
    """Ripple's dead-letter store (`channels.deadletters`): the defaults of its bounds, which
    a Trigger, Subscription or source may override with the `ripple.dev/dead-letter-*`
    annotations (`ripple.api.dead_letter_bounds`)."""

    max_entries: int = 10_000
    """Entries kept per Trigger, Subscription or source (`--dead-letter-max-entries`)."""

    retention: float = 7 * 86_400.0
    """Seconds an entry is kept (`--dead-letter-retention`, e.g. 7d or 36h)."""


@dataclass
class ApiSettings:
    token: str | None = None
    """The control API's bearer token (`<data-dir>/token`)."""

    insecure: bool = False
    """`--insecure-api`: the API answers whoever reaches its port, except that Secrets'
    data is still shown only to a request with the token."""

    host: str | None = None
    """The control API's own address (`--api-host`); None: the data plane's."""

    port: int | None = None
    """The control API's own port (`--api-port`); None: the data plane's port serves it."""


@dataclass
class TlsSettings:
    cert_file: Path | None = None
    """PEM certificate chain served on every listener (`--tls-cert`); None: plain HTTP."""

    key_file: Path | None = None
    """Its private key (`--tls-key`)."""

    @property
    def enabled(self) -> bool:
        return self.cert_file is not None


@dataclass
class LogSettings:
    retention: float = 3600.0
    """Seconds a Broker keeps its log after the fan-out, for `ripple event replay`
    (`--retention`; a Broker's `ripple.dev/retention` annotation overrides it). 0 keeps only
    the few seconds `ripple event tail` needs."""

    max_retained: int = 100_000
    """Entries a Broker keeps for replay, whatever the retention: the bound on its memory.
    They count towards `ingress.max_backlog`."""


@dataclass
class TraceSettings:
    sample: float = 1.0
    """The share of events whose hops are recorded (`--trace-sample`), decided per event id
    and source so every hop of one event agrees; 0 turns tracing off."""

    ttl: float = 3600.0
    """Seconds a trace record is kept at least, after its event's last hop (records are
    kept by the minute: up to a minute more)."""

    max_hops: int = 256
    """Hops kept per event id and minute: the oldest go first."""


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    store: StoreSettings = field(default_factory=StoreSettings)
    ingress: IngressSettings = field(default_factory=IngressSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    dead_letters: DeadLetterSettings = field(default_factory=DeadLetterSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    logs: LogSettings = field(default_factory=LogSettings)
    tracing: TraceSettings = field(default_factory=TraceSettings)
    public_url: str | None = None
    """The URL others reach this mesh at, behind a proxy or tunnel (`--public-url`): the
    base of every address in status, webhook receiver URLs included. Default: host:port."""

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return _url("https" if self.tls.enabled else "http", self.host, self.port)

    @property
    def api_separate(self) -> bool:
        """Whether the control API has a listener of its own (`--api-port`)."""
        return self.api.port is not None and (self.api.port, self.api_host) != (self.port, self.host)

    @property
    def api_host(self) -> str:
        return self.api.host or self.host

    @property
    def api_url(self) -> str:
        """Where this machine's CLI reaches the control API."""
        if not self.api_separate:
            return _url("https" if self.tls.enabled else "http", self.host, self.port)
        return _url("https" if self.tls.enabled else "http", self.api_host, self.api.port or self.port)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _url(scheme: str, host: str, port: int) -> str:
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def redis_url_from_env() -> str | None:
    """`RIPPLE_REDIS_URL`, the one environment variable the store honours."""
    return os.environ.get("RIPPLE_REDIS_URL") or None
