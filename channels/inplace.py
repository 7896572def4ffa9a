"""Delivery without a queue: one event to its subscriber, retried in place, then to the
dead-letter sink. Called by source adapters whose log is not Redis (`sources.kafka`):
Kafka keeps the record, and the adapter commits its offset once `deliver` returned.

The rules are the delivery engine's (`channels.outcomes.decide`, `channels.policies`),
carried out here with sleeps instead of the persisted retry schedule: the caller holds
the record until the outcome is final, so a crash loses nothing and redelivers it.
Replies are ignored, as Knative's source adapters ignore them: any 2xx is success,
whatever its body (the 502 for a malformed reply is the broker filter's rule, not a
source's).

An event nobody took (its retries ran out with no dead-letter sink, or the dead-letter sink
failed too) is not dropped when the target has a dead-letter store: `deliver` hands the
store's entry (`channels.deadletters.entry`, with the same knativeerror* attributes, reason
and attempts as the queued engine's `Dispatcher._bury`) to the caller's `keep`, and returns
only once it is kept, so the caller lets the event go (commits its offset) only after it
was delivered, dead-lettered or kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable

from ripple import cloudevents as ce
from ripple import metrics
from ripple.cloudevents import records

from channels import deadletters, dispatching, outcomes, policies
from channels.sending import Response, Sender

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Keep = Callable[[records.Fields, bytes], Awaitable[None]]
"""Keeps a dead-letter store entry and the target's last error (`channels.deadletters.keep`);
returns once they are stored, raises to abandon the event (the caller still holds it)."""


async def deliver(
    sender: Sender,
    target: dispatching.Target,
    event: ce.CloudEvent,
    *,
    keep: Keep | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Sleep = asyncio.sleep,
) -> outcomes.Outcome:
    """Deliver `event` following `target.policy`; the final outcome's action is `ack`
    (the subscriber took it), `dead-letter` (the dead-letter sink took it; code and
    reason are the subscriber's failure) or `drop` (nobody took it: with `keep` and a
    target with a dead-letter store, it was kept there)."""
    url = target.subscriber_uri
    if not url:
        return outcomes.Outcome("drop", reason="no subscriber")
    outcome, response, attempts = await _attempts(sender, target, url, event, "subscriber", clock, sleep)
    if outcome.action == "ack":
        return outcome
    errors = outcomes.error_attributes(url, outcome.code, outcomes.error_body(response))
    if outcome.action != "dead-letter":
        if outcome.action == "drop":
            await _failed_for_good(target, event, url, outcome, errors, outcome.reason, attempts,
                                   keep, clock)
        return outcome
    dead_letter_uri = str(target.policy.dead_letter_uri)
    dead = outcomes.with_attributes(event, errors)
    final, _, attempts = await _attempts(sender, target, dead_letter_uri, dead, "dead-letter", clock, sleep)
    if final.action != "ack":
        # kept with what the sink would have been told of the subscriber's failure
        reason = (f"the dead-letter sink {outcomes.sanitize_destination(dead_letter_uri)} "
                  f"failed too: {final.reason}")
        await _failed_for_good(target, event, dead_letter_uri, final, errors, reason, attempts,
                               keep, clock)
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
) -> tuple[outcomes.Outcome, Response, int]:
    """Attempts against one destination until the outcome is not `retry`; the last outcome,
    its response and how many attempts were made."""
    retries_done = 0
    while True:
        response = _ignoring_reply(await dispatching.send(sender, target, url, event, phase))
        outcome = outcomes.decide(phase, retries_done, target.policy, response, now=clock())
        if outcome.action != "retry":
            return outcome, response, retries_done + 1
        await sleep(outcome.delay)
        retries_done += 1


def _ignoring_reply(response: Response) -> Response:
    if response.status is not None and policies.succeeded(response.status) and response.body:
        return dataclasses.replace(response, body=b"")
    return response


async def _failed_for_good(target: dispatching.Target, event: ce.CloudEvent, url: str,
                           outcome: outcomes.Outcome, errors: dict[str, str], reason: str,
                           attempts: int, keep: Keep | None, clock: Callable[[], float]) -> None:
    """Nobody took `event`, `url` failed last: into the target's store, else dropped."""
    metrics.dropped_events.labels(*target.label_values).inc()
    store = target.dead_letters
    if keep is None or store is None:
        log.warning("event dropped after its last attempt",
                    extra={"queue": target.key, "id": event.id, "reason": outcome.reason,
                           "destination": outcomes.sanitize_destination(url)})
        return
    entry = deadletters.entry(ce.to_record(event), errors=errors, reason=reason,
                              attempts=attempts, target=target.key)
    await keep(entry, deadletters.last_error(code=outcome.code, destination=url,
                                             reason=outcome.reason, now=clock()))
    log.warning("event kept in the dead-letter store after its last attempt",
                extra={"queue": target.key, "id": event.id, "reason": reason,
                       "destination": outcomes.sanitize_destination(url)})
