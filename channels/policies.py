"""Delivery policies: a DeliverySpec resolved into the numbers the dispatcher uses.

Pure. Called by the broker and channel layers when they build a delivery queue from a
Trigger or Subscription (with the Broker's or Channel's spec as the fallback), and by
`channels.dispatching` for every attempt. The backoff follows Knative's core Go dispatcher
(`pkg/kncloudevents/retries.go`): before retry k (k = 1, 2, ...) wait
`backoffDelay * 2^(k-1)` when exponential and `backoffDelay * (k-1)` when linear, and only
when both `backoffPolicy` and `backoffDelay` are set. Ripple adds a cap on any one delay.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Any, Mapping

from ripple.api import durations


@dataclass(frozen=True)
class DeliveryPolicy:
    retry: int = 0
    """Retries after the first attempt: `retry + 1` attempts in all."""
    backoff_policy: str | None = None
    backoff_delay: float | None = None
    timeout: float = 30.0
    retry_after_max: float | None = None
    """None: Retry-After is ignored (Knative's default). 0 also means ignore it."""
    dead_letter_uri: str | None = None
    format: str = "binary"
    backoff_max: float = 3600.0

    @property
    def attempts(self) -> int:
        return self.retry + 1


def resolve(
    own: Mapping[str, Any] | None,
    fallback: Mapping[str, Any] | None,
    *,
    dead_letter_uri: str | None,
    default_timeout: float = 30.0,
    backoff_max: float = 3600.0,
) -> DeliveryPolicy:
    """The policy of a Trigger (own) over its Broker (fallback), or a Subscription over its
    Channel. Retry, backoff and timeout come wholesale from `own` whenever it is set, even
    when it sets only a dead-letter sink (then there are no retries), as Knative does:
    the MT channel-based broker's trigger reconciler copies `t.Spec.Delivery` or else
    `b.Spec.Delivery` into the Trigger's Subscription (`pkg/reconciler/broker/trigger/
    trigger.go`), the subscription reconciler's `deliverySpec(sub, channel)` takes the
    retry fields of the Subscription's spec when it has one, else the Channel's, and
    eventing-kafka-broker's `deliverySpec(broker, trigger)` is the same rule (`format`
    included). The
    dead-letter URI was resolved by the reconciler with its own fallback (the Trigger's
    sink, else the Broker's; the Subscription's, else the Channel's) and is passed in."""
    spec = own if own is not None else (fallback or {})
    return DeliveryPolicy(
        retry=int(spec.get("retry") or 0),
        backoff_policy=spec.get("backoffPolicy"),
        backoff_delay=_seconds(spec.get("backoffDelay")),
        timeout=_seconds(spec.get("timeout")) or default_timeout,
        retry_after_max=_seconds(spec.get("retryAfterMax")),
        dead_letter_uri=dead_letter_uri,
        format=str(spec.get("format") or "binary"),
        backoff_max=backoff_max,
    )


def _seconds(value: Any) -> float | None:
    return None if value in (None, "") else durations.parse_duration(str(value))


def backoff(policy: DeliveryPolicy, retry_number: int) -> float:
    """Seconds to wait before retry `retry_number` (1-based)."""
    if not policy.backoff_policy or not policy.backoff_delay:
        return 0.0
    if policy.backoff_policy == "exponential":
        delay = policy.backoff_delay * (2 ** (retry_number - 1))
    else:
        delay = policy.backoff_delay * (retry_number - 1)
    return min(delay, policy.backoff_max)


def retryable(status: int | None) -> bool:
    """Knative's data-plane table: no response, 5xx, 404, 408, 409 and 429 are retried."""
    if status is None:
        return True
    return status >= 500 or status in (404, 408, 409, 429)


def succeeded(status: int) -> bool:
    return 200 <= status < 300


def retry_after(
    policy: DeliveryPolicy, status: int | None, header: str | None, now: float
) -> float:
    """Seconds a 429/503 Retry-After asks for, capped by retryAfterMax; 0 when ignored."""
    if status not in (429, 503) or not header or not policy.retry_after_max:
        return 0.0
    header = header.strip()
    if header.isdigit():
        wanted = float(header)
    else:
        try:
            wanted = email.utils.parsedate_to_datetime(header).timestamp() - now
        except (TypeError, ValueError):
            return 0.0
    return max(0.0, min(wanted, policy.retry_after_max))


def next_delay(
    policy: DeliveryPolicy,
    retry_number: int,
    status: int | None,
    retry_after_header: str | None,
    now: float | None = None,
) -> float:
    """The larger of the backoff and an honoured Retry-After, as Knative does."""
    now = time.time() if now is None else now
    return max(
        backoff(policy, retry_number),
        retry_after(policy, status, retry_after_header, now),
    )
