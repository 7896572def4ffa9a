"""Delivery without a queue: one event to its subscriber, retried in place, then to the
dead-letter sink. Called by source adapters whose log is not Redis (`sources.kafka`):
Kafka keeps the record, and the adapter commits its offset once `deliver` returned.

The rules are the delivery engine's (`channels.outcomes.decide`, `channels.policies`),
carried out here with sleeps instead of the persisted retry schedule: the caller holds
the record until the outcome is final, so a crash loses nothing and redelivers it.
Replies are ignored, as Knative's source adapters ignore them: any 2xx is success,
whatever its body (the 502 for a malformed reply is the broker filter's rule, not a
source's).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

from ripple import cloudevents as ce
from ripple import metrics

from channels import dispatching, outcomes, policies
from channels.sending import Response, Sender

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


async def deliver(
    sender: Sender,
    target: dispatching.Target,
    event: ce.CloudEvent,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Sleep = asyncio.sleep,
) -> outcomes.Outcome:
    """Deliver `event` following `target.policy`; the final outcome's action is `ack`
    (the subscriber took it), `dead-letter` (the dead-letter sink took it; code and
    reason are the subscriber's failure) or `drop` (nobody took it)."""
    url = target.subscriber_uri
    if not url:
        return outcomes.Outcome("drop", reason="no subscriber")
    outcome, response = await _attempts(sender, target, url, event, "subscriber", clock, sleep)
    if outcome.action != "dead-letter":
        if outcome.action == "drop":
            _dropped(target, event, url, outcome)
        return outcome
    dead_letter_uri = str(target.policy.dead_letter_uri)
    dead = outcomes.with_error_attributes(event, url, outcome.code, response.body)
    final, _ = await _attempts(sender, target, dead_letter_uri, dead, "dead-letter", clock, sleep)
    if final.action != "ack":
        _dropped(target, event, dead_letter_uri, final)
        return final
    metrics.dead_lettered_events.labels(*target.label_values).inc()
    log.info("event sent to the dead-letter sink",
             extra={"queue": target.key, "id": event.id, "reason": outcome.reason})
    return outcome


async def _attempts(
    sender: Sender,
    target: dispatching.Target,
    url: str,
    event: ce.CloudEvent,
    phase: outcomes.Phase,
    clock: Callable[[], float],
    sleep: Sleep,
) -> tuple[outcomes.Outcome, Response]:
    """Attempts against one destination until the outcome is not `retry`."""
    retries_done = 0
    while True:
        response = _ignoring_reply(await dispatching.send(sender, target, url, event, phase))
        outcome = outcomes.decide(phase, retries_done, target.policy, response, now=clock())
        if outcome.action != "retry":
            return outcome, response
        await sleep(outcome.delay)
        retries_done += 1


def _ignoring_reply(response: Response) -> Response:
    if response.status is not None and policies.succeeded(response.status) and response.body:
        return dataclasses.replace(response, body=b"")
    return response


def _dropped(target: dispatching.Target, event: ce.CloudEvent, url: str,
             outcome: outcomes.Outcome) -> None:
    metrics.dropped_events.labels(*target.label_values).inc()
    log.warning("event dropped after its last attempt",
                extra={"queue": target.key, "id": event.id, "reason": outcome.reason,
                       "destination": url})
