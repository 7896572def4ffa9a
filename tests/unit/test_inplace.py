"""channels.inplace: one event delivered with in-place retries, then dead-lettered, against
a fake Sender that answers from a script and records every attempt."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping

import pytest

from channels import deadletters, inplace
from channels.dispatching import Target
from channels.identities import Kind, TargetKey
from channels.policies import DeliveryPolicy
from channels.sending import Response
from ripple import cloudevents as ce
from ripple import errors, metrics
from ripple.api.dead_letter_bounds import Bounds
from ripple.cloudevents import records

SUB, DLS = "http://sub", "http://dls"
EVENT = ce.CloudEvent({"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}, b"x")
REPLY = Response(200, {"ce-specversion": "1.0", "ce-id": "r", "ce-source": "/r", "ce-type": "r"}, b"r")


class FakeSender:
    def __init__(self, answers: Mapping[str, list[Response]]) -> None:
        self.answers = {url: list(seq) for url, seq in answers.items()}
        self.sent: list[tuple[str, ce.CloudEvent, dict[str, str]]] = []

    async def send(self, url: str, event: ce.CloudEvent, *, timeout: float,
                   headers: Mapping[str, str] | None = None, structured: bool = False) -> Response:
        self.sent.append((url, event, dict(headers or {})))
        seq = self.answers[url]
        return seq.pop(0) if len(seq) > 1 else seq[0]


def target(policy: DeliveryPolicy, url: str | None = SUB) -> Target:
    return Target(key=TargetKey(Kind.TRIGGER, "ns", "t"), stream="", schedule="", namespace="ns",
                  subscriber_uri=url, policy=policy, labels=metrics.trigger_labels("ns", "b", "t"))


def policy(retry: int = 0, dls: str | None = None) -> DeliveryPolicy:
    return DeliveryPolicy(retry=retry, backoff_policy="exponential", backoff_delay=0.5,
                          dead_letter_uri=dls)


@pytest.mark.parametrize(
    "case, policy, answers, action, trail, sleeps",
    [
        ("2xx at once", policy(2), {SUB: [Response(202)]}, "ack", [SUB], []),
        ("a reply is ignored", policy(2), {SUB: [REPLY]}, "ack", [SUB], []),
        ("a non-event 2xx body is still success", policy(2), {SUB: [Response(200, {}, b"ok")]},
         "ack", [SUB], []),
        ("retried, then delivered", policy(3),
         {SUB: [Response(503), Response(None, error="refused"), Response(200)]},
         "ack", [SUB, SUB, SUB], [0.5, 1.0]),
        ("exhausted, no dead-letter sink", policy(2), {SUB: [Response(500)]},
         "drop", [SUB, SUB, SUB], [0.5, 1.0]),
        ("not retryable, no dead-letter sink", policy(2), {SUB: [Response(400)]},
         "drop", [SUB], []),
        ("exhausted, then dead-lettered", policy(1, DLS), {SUB: [Response(503)], DLS: [Response(200)]},
         "dead-letter", [SUB, SUB, DLS], [0.5]),
        ("not retryable, dead-lettered", policy(3, DLS), {SUB: [Response(422)], DLS: [Response(202)]},
         "dead-letter", [SUB, DLS], []),
        ("the dead-letter sink is retried too", policy(2, DLS),
         {SUB: [Response(400)], DLS: [Response(503), Response(200)]},
         "dead-letter", [SUB, DLS, DLS], [0.5]),
        ("the dead-letter sink fails as well", policy(1, DLS),
         {SUB: [Response(400)], DLS: [Response(500)]}, "drop", [SUB, DLS, DLS], [0.5]),
    ],
)
async def test_deliver(case, policy, answers, action, trail, sleeps) -> None:
    sender, slept = FakeSender(answers), []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    outcome = await inplace.deliver(sender, target(policy), EVENT, clock=lambda: 0.0, sleep=sleep)
    assert outcome.action == action, case
    assert [url for url, _, _ in sender.sent] == trail
    assert slept == sleeps


async def test_dead_lettered_event_carries_the_error_attributes() -> None:
    sender = FakeSender({SUB: [Response(422, {}, b"bad")], DLS: [Response(200)]})
    outcome = await inplace.deliver(sender, target(policy(0, DLS)), EVENT)
    assert (outcome.action, outcome.code) == ("dead-letter", 422)
    url, dead, headers = sender.sent[-1]
    assert url == DLS and dead.data == b"x"
    assert dead.attributes["knativeerrordest"] == SUB
    assert dead.attributes["knativeerrorcode"] == "422"
    assert dead.attributes["knativeerrordata"] == base64.b64encode(b"bad").decode()
    assert headers["Kn-Namespace"] == "ns" and "Prefer" not in headers
    assert "knativeerrordest" not in EVENT.attributes  # the original is untouched


async def test_transport_error_counts_as_500_for_the_dead_letter_sink() -> None:
    sender = FakeSender({SUB: [Response(None, error="refused")], DLS: [Response(200)]})
    await inplace.deliver(sender, target(policy(0, DLS)), EVENT)
    assert sender.sent[-1][1].attributes["knativeerrorcode"] == "500"


async def test_subscriber_attempts_ask_for_a_reply_like_every_dispatch() -> None:
    sender = FakeSender({SUB: [Response(200)]})
    await inplace.deliver(sender, target(policy()), EVENT)
    assert sender.sent[0][2] == {"Kn-Namespace": "ns", "Prefer": "reply"}


async def test_without_a_subscriber_nothing_is_sent() -> None:
    sender = FakeSender({})
    outcome = await inplace.deliver(sender, target(policy(), url=None), EVENT)
    assert outcome.action == "drop" and sender.sent == []


async def test_retry_after_is_honoured_when_the_policy_allows_it() -> None:
    allowed = DeliveryPolicy(retry=1, retry_after_max=5.0)
    sender = FakeSender({SUB: [Response(429, {"retry-after": "3"}), Response(200)]})
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    assert (await inplace.deliver(sender, target(allowed), EVENT, sleep=sleep)).action == "ack"
    assert slept == [3.0]


# -- what nobody took is kept in the target's dead-letter store ---------------------------

STORE = deadletters.DeadLetters("store", "failures", "t", Bounds(10, 60.0))


def stored(policy: DeliveryPolicy) -> Target:
    return dataclasses.replace(target(policy), dead_letters=STORE)


async def deliver_keeping(answers: Mapping[str, list[Response]], tgt: Target,
                          ) -> tuple[str, list[tuple[dict[bytes, bytes], dict]]]:
    kept: list[tuple[dict[bytes, bytes], dict]] = []

    async def keep(entry: dict[bytes, bytes], last_error: bytes) -> None:
        kept.append((entry, json.loads(last_error)))

    async def no_sleep(_delay: float) -> None:
        pass

    outcome = await inplace.deliver(FakeSender(answers), tgt, EVENT, keep=keep, sleep=no_sleep)
    return outcome.action, kept


@pytest.mark.parametrize(
    "case, policy, answers, code, destination, reason, attempts, last",
    [
        ("exhausted, no dead-letter sink", policy(2), {SUB: [Response(500, {}, b"boom")]},
         "500", "http://sub", "HTTP 500", 3, (500, "http://sub")),
        ("not retryable", policy(2), {SUB: [Response(400)]}, "400", "http://sub", "HTTP 400", 1,
         (400, "http://sub")),
        ("no answer at all", policy(0), {SUB: [Response(None, error="refused")]},
         "500", "http://sub", "refused", 1, (None, "http://sub")),
        # the entry keeps what the sink would have been told; the last error is the sink's
        ("the dead-letter sink fails as well", policy(1, DLS),
         {SUB: [Response(400)], DLS: [Response(503)]}, "400", "http://sub",
         "the dead-letter sink http://dls failed too: HTTP 503", 2, (503, "http://dls")),
    ],
)
async def test_failed_for_good_is_kept(case, policy, answers, code, destination, reason,
                                       attempts, last) -> None:
    action, kept = await deliver_keeping(answers, stored(policy))
    assert action == "drop", case
    [(entry, last_error)] = kept
    view = deadletters.view(b"1700000000000-0", entry, "kafkasource:src")
    assert view["event"]["id"] == "1" and view["event"]["knativeerrorcode"] == code, case
    assert (view["destination"], view["reason"], view["attempts"]) == (destination, reason, attempts), case
    assert entry[records.TARGET] == b"Trigger/ns/t"
    assert (last_error["code"], last_error["destination"]) == last, case


async def test_kept_entry_carries_the_error_data() -> None:
    _, [(entry, _)] = await deliver_keeping({SUB: [Response(422, {}, b"bad")]}, stored(policy()))
    assert entry[records.ERROR_DATA] == base64.b64encode(b"bad")
    assert ce.from_record(entry).data == b"x"


@pytest.mark.parametrize("case, tgt, answers", [
    ("delivered", stored(policy()), {SUB: [Response(200)]}),
    ("dead-lettered", stored(policy(0, DLS)), {SUB: [Response(500)], DLS: [Response(200)]}),
    ("no store on the target", target(policy()), {SUB: [Response(500)]}),
])
async def test_nothing_is_kept(case, tgt, answers) -> None:
    assert (await deliver_keeping(answers, tgt))[1] == [], case


async def test_a_keep_that_fails_fails_the_delivery() -> None:
    async def keep(_entry: dict[bytes, bytes], _last: bytes) -> None:
        raise errors.StoreUnavailable("down")

    with pytest.raises(errors.StoreUnavailable):
        await inplace.deliver(FakeSender({SUB: [Response(400)]}), stored(policy()), EVENT, keep=keep)
