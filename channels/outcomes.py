"""What to do after one delivery attempt: the pure core of the delivery engine.

`decide` takes the attempt's response and the queue's policy and returns one `Outcome`;
`channels.dispatching` carries it out against Redis. Knative's rules, in one place:
- 2xx is success. A 200 (or other non-202 2xx) that carries a CloudEvent is a reply; a
  202 never is. A non-empty 2xx body that is not a CloudEvent is a malformed reply, which
  Knative's broker filter answers 502 for: a failed, retryable delivery.
- Retried: no response, 5xx, 404, 408, 409, 429. Every other code fails at once.
- When attempts run out (or the failure is not retryable) the event goes to the
  dead-letter sink if there is one, with knativeerrordest/code/data; else it is dropped.
- A Subscription's reply is delivered in its own phase (`reply`), with the same policy
  (`pkg/kncloudevents/event_dispatcher.go` sends it with the same retry config, without
  calling the subscriber again). Whatever its 2xx body, it is done; when it fails for good,
  the *original* event goes to the dead-letter sink, naming the reply's URL and status.
- No response at all (refused, timed out, DNS) counts as 500 with the body
  `dispatch error: <error>`, as the Go dispatcher's `executeRequest` records it.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from dataclasses import dataclass
from typing import Literal

from ripple import cloudevents as ce

from channels import policies
from channels.sending import Response

Phase = Literal["subscriber", "reply", "dead-letter"]

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
        if phase != "subscriber" or status == 202 or not response.body:
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
    if phase != "dead-letter" and policy.dead_letter_uri:
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


def error_body(response: Response) -> bytes:
    """What `knativeerrordata` encodes: the failed response's body, or for no response the
    Go dispatcher's `dispatch error: <error>` (without any credential of the URL)."""
    if response.status is not None:
        return response.body
    return f"dispatch error: {_without_userinfo_in(response.error or 'no response')}".encode()


def sanitize_destination(url: str) -> str:
    """`knativeerrordest` for a URL: a host-only one becomes `http://host/`, as upstream's
    `sanitizeURL` makes it; and userinfo (`user:password@`) is removed, which upstream
    does not do: the dead-letter sink is another party, and must not learn credentials."""
    parts = urllib.parse.urlsplit(url if "://" in url else "//" + url)
    if parts.scheme not in ("http", "https"):
        parts = urllib.parse.SplitResult("http", parts.netloc, "/", "", "")
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rpartition("@")[2])
    return urllib.parse.urlunsplit(parts)


def _without_userinfo_in(text: str) -> str:
    # a transport error may quote the URL, credentials included
    return _USERINFO.sub("", text)


_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def with_error_attributes(
    event: ce.CloudEvent, destination: str, response_code: int | None, body: bytes
) -> ce.CloudEvent:
    """The event as sent to a dead-letter sink (`pkg/kncloudevents/attributes/knative_error.go`):
    existing knativeerror* attributes are kept, the destination is sanitised, a transport
    error counts as 500, and the body (see `error_body`) is standard base64, truncated to
    1024 characters."""
    return with_attributes(event, error_attributes(destination, response_code, body))


def error_attributes(destination: str, response_code: int | None, body: bytes) -> dict[str, str]:
    """knativeerrordest, knativeerrorcode and (for a non-empty body) knativeerrordata, as
    `with_error_attributes` sets them; Ripple's dead-letter store keeps these values."""
    attributes = {"knativeerrordest": sanitize_destination(destination),
                  "knativeerrorcode": str(response_code if response_code is not None else 500)}
    if body:
        attributes["knativeerrordata"] = base64.b64encode(body).decode()[:ERROR_DATA_LIMIT]
    return attributes


def with_attributes(event: ce.CloudEvent, extra: dict[str, str]) -> ce.CloudEvent:
    """`event` with the `extra` attributes it does not have yet (existing ones are kept)."""
    attributes = dict(event.attributes)
    for name, value in extra.items():
        attributes.setdefault(name, value)
    return ce.CloudEvent(attributes, event.data)
