"""Tables for channels.policies: Knative's backoff, retry codes, Retry-After and overrides."""

from __future__ import annotations

import pytest

from channels import policies
from channels.policies import DeliveryPolicy

EXP = DeliveryPolicy(retry=5, backoff_policy="exponential", backoff_delay=0.2)
LIN = DeliveryPolicy(retry=5, backoff_policy="linear", backoff_delay=0.5)


@pytest.mark.parametrize(
    "policy, retry_number, expected",
    [
        (EXP, 1, 0.2),
        (EXP, 2, 0.4),
        (EXP, 4, 1.6),
        (LIN, 1, 0.0),  # Knative's Go dispatcher: the first linear retry is immediate
        (LIN, 2, 0.5),
        (LIN, 3, 1.0),
        (DeliveryPolicy(retry=3, backoff_policy="exponential"), 2, 0.0),  # no delay set: none
        (DeliveryPolicy(retry=3, backoff_delay=1.0), 2, 0.0),  # no policy set: none
        (DeliveryPolicy(retry=40, backoff_policy="exponential", backoff_delay=1.0, backoff_max=60), 30, 60),
    ],
)
def test_backoff(policy: DeliveryPolicy, retry_number: int, expected: float) -> None:
    assert policies.backoff(policy, retry_number) == pytest.approx(expected)


@pytest.mark.parametrize(
    "status, retried",
    [(None, True), (500, True), (503, True), (404, True), (408, True), (409, True), (429, True),
     (400, False), (401, False), (403, False), (413, False), (422, False), (301, False), (100, False)],
)
def test_retryable(status: int | None, retried: bool) -> None:
    assert policies.retryable(status) is retried


CAPPED = DeliveryPolicy(retry=3, retry_after_max=10.0)


@pytest.mark.parametrize(
    "policy, status, header, expected",
    [
        (CAPPED, 429, "3", 3.0),
        (CAPPED, 503, "30", 10.0),  # capped by retryAfterMax
        (CAPPED, 500, "3", 0.0),  # only 429 and 503 carry it
        (DeliveryPolicy(retry=3), 429, "3", 0.0),  # no retryAfterMax: ignored, as in Knative
        (DeliveryPolicy(retry=3, retry_after_max=0.0), 429, "3", 0.0),  # PT0S: ignored
        (CAPPED, 429, "Thu, 01 Jan 1970 00:00:05 GMT", 5.0),  # HTTP-date, now = 0
        (CAPPED, 429, "soon", 0.0),
    ],
)
def test_retry_after(policy: DeliveryPolicy, status: int, header: str, expected: float) -> None:
    assert policies.retry_after(policy, status, header, now=0.0) == pytest.approx(expected)


def test_next_delay_takes_the_larger() -> None:
    policy = DeliveryPolicy(retry=3, backoff_policy="exponential", backoff_delay=1.0, retry_after_max=10.0)
    assert policies.next_delay(policy, 1, 429, "4", now=0.0) == 4.0
    assert policies.next_delay(policy, 3, 429, "2", now=0.0) == 4.0


@pytest.mark.parametrize(
    "own, fallback, expected_retry, expected_timeout",
    [
        (None, {"retry": 10, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S"}, 10, 30.0),
        ({"retry": 2}, {"retry": 10, "timeout": "PT5S"}, 2, 30.0),  # wholesale, no field merge
        # a delivery that sets only a dead-letter sink is still taken wholesale: no retries
        # (trigger.go, subscription.go deliverySpec, eventing-kafka-broker deliverySpec)
        ({"deadLetterSink": {"uri": "http://x"}}, {"retry": 7, "timeout": "PT5S"}, 0, 30.0),
        ({}, {"retry": 7}, 0, 30.0),
        ({"timeout": "PT2S"}, {"retry": 7}, 0, 2.0),
        (None, {"deadLetterSink": {"uri": "http://x"}}, 0, 30.0),
        (None, None, 0, 30.0),
    ],
)
def test_resolve_overrides(own, fallback, expected_retry: int, expected_timeout: float) -> None:
    policy = policies.resolve(own, fallback, dead_letter_uri=None)
    assert (policy.retry, policy.timeout) == (expected_retry, expected_timeout)


@pytest.mark.parametrize(
    "own, fallback, expected",
    [
        (None, {"format": "json"}, "json"),
        ({"format": "json"}, None, "json"),
        ({"retry": 1}, {"format": "json"}, "binary"),  # wholesale: the Broker's format is not merged in
        (None, None, "binary"),
    ],
)
def test_resolve_format(own, fallback, expected: str) -> None:
    assert policies.resolve(own, fallback, dead_letter_uri=None).format == expected
