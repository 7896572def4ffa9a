"""broker.stamping: what the broker ingress adds to each event (TTL, arrival, traceparent)."""

from __future__ import annotations

import datetime as dt

import pytest

from broker import stamping
from ripple import cloudevents as ce
from ripple import errors

def ns(moment: dt.datetime) -> int:
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1) * 1000


NOW = ns(dt.datetime(2024, 5, 1, 12, 0, 0, 123, tzinfo=dt.timezone.utc))
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
OTHER = "00-11111111111111111111111111111111-2222222222222222-01"


def _event(**extra: object) -> ce.CloudEvent:
    return ce.CloudEvent({"specversion": "1.0", "id": "1", "type": "t", "source": "/s", **extra})


@pytest.mark.parametrize("attrs, expected", [
    ({}, 255),                                   # absent: the default
    ({"knativebrokerttl": 10}, 9),               # present: one hop off
    ({"knativebrokerttl": "10"}, 9),             # as a header string
    ({"knativebrokerttl": 2}, 1),
])
def test_ttl(attrs: dict, expected: int) -> None:
    event = stamping.stamp(_event(**attrs), {}, default_ttl=255, now_ns=NOW)
    assert event.attributes[stamping.TTL] == expected


@pytest.mark.parametrize("ttl, rule", [
    (1, "no hops left"),
    (0, "no hops left"),
    ("x", "must be an integer"),
])
def test_ttl_refused(ttl: object, rule: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        stamping.stamp(_event(knativebrokerttl=ttl), {}, default_ttl=255, now_ns=NOW)
    assert caught.value.errors[0].path == stamping.TTL
    assert rule in caught.value.errors[0].message


@pytest.mark.parametrize("moment, expected", [
    (NOW, "2024-05-01T12:00:00.000123Z"),
    (NOW + 999, "2024-05-01T12:00:00.000123Z"),                  # below a microsecond: cut
    (NOW + 1_000, "2024-05-01T12:00:00.000124Z"),                # the same second again
    (ns(dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))), "2024-05-01T12:00:00.000000Z"),
    (ns(dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc)), "1999-12-31T23:59:59.999999Z"),
    (ns(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)), "2000-01-01T00:00:00.000000Z"),  # the next second
])
def test_rfc3339(moment: int, expected: str) -> None:
    assert stamping.rfc3339(moment) == expected


def test_arrival_time() -> None:
    event = stamping.stamp(_event(), {}, default_ttl=255, now_ns=NOW)
    assert event.attributes[stamping.ARRIVAL] == "2024-05-01T12:00:00.000123Z"


@pytest.mark.parametrize("attrs, headers, expected", [
    ({"traceparent": TRACE}, {"traceparent": OTHER}, TRACE),   # the producer's is kept
    ({}, {"traceparent": OTHER}, OTHER),                       # else the request's header
    ({}, {"traceparent": "garbage"}, None),                    # an invalid header: a new trace
    ({}, {}, None),                                            # none: a new trace
])
def test_traceparent(attrs: dict, headers: dict, expected: str | None) -> None:
    event = stamping.stamp(_event(**attrs), headers, default_ttl=255, now_ns=NOW)
    got = event.attributes["traceparent"]
    if expected is None:
        assert isinstance(got, str) and got not in (TRACE, OTHER) and len(got) == 55
    else:
        assert got == expected


@pytest.mark.parametrize("attrs, expected", [({}, 255), ({"knativebrokerttl": 7}, 7)])
def test_reply_hops(attrs: dict, expected: int) -> None:
    assert stamping.reply_hops(_event(**attrs), 255) == expected
