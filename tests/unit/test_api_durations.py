"""ISO-8601 durations as DeliverySpec writes them (ripple.api.durations)."""

from __future__ import annotations

import pytest

from ripple.api import durations


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT0.2S", 0.2),
    ("PT1S", 1.0),
    ("PT0S", 0.0),
    ("PT1M30S", 90.0),
    ("PT1H", 3600.0),
    ("PT1.5M", 90.0),
    ("PT0,5S", 0.5),
    ("P1D", 86_400.0),
    ("P1DT12H", 129_600.0),
    ("P2W", 14 * 86_400.0),
    ("P1Y", 365.2425 * 86_400.0),
    ("P1M", 365.2425 * 86_400.0 / 12),
    ("P1MT1M", 365.2425 * 86_400.0 / 12 + 60),
    ("-PT1S", -1.0),
    ("+PT1S", 1.0),
    ("PT10M", 600.0),
])
def test_parses(text: str, seconds: float) -> None:
    assert durations.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "is not an ISO-8601 duration"),
    ("1s", "is not an ISO-8601 duration"),
    ("PT1s", "is not an ISO-8601 duration"),
    ("P", "names no unit"),
    ("PT", "names no unit"),
    ("P1DT", "nothing follows T"),
    ("PT1.5M30S", "only the smallest unit may have a fraction, not minutes"),
    ("P1H", "is not an ISO-8601 duration"),
    ("PT1S1M", "is not an ISO-8601 duration"),
    ("<duration>", "is not an ISO-8601 duration"),
    (5, "must be a string"),
])
def test_refuses(text: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        durations.parse_duration(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expected"), [("PT1S", True), ("soon", False), (None, False)])
def test_is_duration(text: object, expected: bool) -> None:
    assert durations.is_duration(text) is expected
