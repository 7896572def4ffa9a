"""What to do after one delivery attempt: the pure core of the delivery engine.

`decide` takes the attempt's response and the queue's policy and returns one `Outcome`;
`channels.dispatching` carries it out against Redis. Knative's rules, in one place:
- 2xx is success. A 200 (or other non-202 2xx) that carries a CloudEvent is a reply; a
  202 never is. A non-empty 2xx body that is not a CloudEvent is a malformed reply, which
  Knative's broker filter answers 502 for: a failed, retryable delivery.
- Retried: no response, 5xx, 404, 408, 409, 429. Every other code fails at once.
- When attempts run out (or the failure is not retryable) the event goes to the
  dead-letter sink if there is one, with knativeerrordest/code/data; else it is dropped.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal

from ripple import cloudevents as ce

from channels import policies
from channels.sending import Response

Phase = Literal["subscriber", "dead-letter"]

ERROR_DATA_LIMIT = 1024
MALFORMED_REPLY = 502


@dataclass(frozen=True)
class Outcome:
    action: Literal["ack", "reply", "retry", "dead-letter", "drop"]
    delay: float = 0.0
    reply: ce.CloudEvent | None = None
    code: int | None = None
    reason: str = ""


def decide(
    phase: Phase,
    retries_done: int,
    policy: policies.DeliveryPolicy,
    response: Response,
    *,
    now: float,
) -> Outcome:
    status = response.status
    if status is not None and policies.succeeded(status):
        if phase == "dead-letter" or status == 202 or not response.body:
            return Outcome("ack", code=status)
        reply = _reply_event(response)
        if reply is not None:
            return Outcome("reply", reply=reply, code=status)
        status = MALFORMED_REPLY
        response = Response(status, response.headers, response.body, "malformed reply")
    if policies.retryable(status) and retries_done < policy.retry:
        delay = policies.next_delay(
            policy, retries_done + 1, status, response.headers.get("retry-after"), now
        )
        return Outcome("retry", delay=delay, code=status, reason=_reason(response))
    if phase == "subscriber" and policy.dead_letter_uri:
        return Outcome("dead-letter", code=status, reason=_reason(response))
    return Outcome("drop", code=status, reason=_reason(response))


def _reply_event(response: Response) -> ce.CloudEvent | None:
    if not ce.is_cloudevent(response.headers, response.body):
        return None
    try:
        events = ce.from_http(response.headers, response.body)
    except Exception:  # a reply that does not decode is malformed, not a crash
        return None
    return events[0] if len(events) == 1 else None


def _reason(response: Response) -> str:
    if response.error:
        return response.error
    return f"HTTP {response.status}"


def with_error_attributes(
    event: ce.CloudEvent, destination: str, response_code: int | None, body: bytes
) -> ce.CloudEvent:
    """The event as sent to a dead-letter sink (`pkg/kncloudevents/attributes/knative_error.go`):
    existing knativeerror* attributes are kept, a transport error counts as 500, and the body
    is standard base64, truncated to 1024 characters."""
    attributes = dict(event.attributes)
    attributes.setdefault("knativeerrordest", destination)
    attributes.setdefault("knativeerrorcode", str(response_code if response_code is not None else 500))
    if body:
        attributes.setdefault(
            "knativeerrordata", base64.b64encode(body).decode()[:ERROR_DATA_LIMIT]
        )
    return ce.CloudEvent(attributes, event.data)
