"""PingSource schedules (ripple.cron): robfig's dialect, zones, next-fire and DST, missed ticks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ripple import cron

NY = "America/New_York"
BERLIN = "Europe/Berlin"


def at(text: str) -> datetime:
    """`2026-03-08 07:00` in UTC; seconds optional."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def ticks(schedule: cron.Schedule, start: datetime, n: int) -> list[datetime]:
    found, instant = [], start
    for _ in range(n):
        instant = schedule.next_after(instant)
        found.append(instant)
    return found


# -- parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("schedule", "timezone", "field", "fragment"), [
    ("", None, "schedule", "empty schedule"),
    ("   ", None, "schedule", "empty schedule"),
    ("* * *", None, "schedule", "expected 5 fields (or 6 with seconds first), got 3"),
    ("* * * * * * *", None, "schedule", "expected 5 fields (or 6 with seconds first), got 7"),
    ("@every 1h", None, "schedule", "@every is not supported"),
    ("CRON_TZ=UTC @every 5m", None, "schedule", "@every is not supported"),
    ("@fortnightly", None, "schedule", 'unrecognized descriptor "@fortnightly"'),
    ("@daily 5", None, "schedule", 'unrecognized descriptor "@daily 5"'),
    ("@DAILY", None, "schedule", 'unrecognized descriptor "@DAILY"'),
    ("60 * * * *", None, "schedule", 'minute field "60": 60 is above the maximum 59'),
    ("* 24 * * *", None, "schedule", 'hour field "24": 24 is above the maximum 23'),
    ("* * 0 * *", None, "schedule", 'day-of-month field "0": 0 is below the minimum 1'),
    ("* * 32 * *", None, "schedule", 'day-of-month field "32": 32 is above the maximum 31'),
    ("* * * 13 *", None, "schedule", 'month field "13": 13 is above the maximum 12'),
    ("* * * * 7", None, "schedule", 'day-of-week field "7": 7 is above the maximum 6'),
    ("60 * * * * *", None, "schedule", 'second field "60": 60 is above the maximum 59'),
    ("5-1 * * * *", None, "schedule", 'minute field "5-1": range 5-1 runs backwards'),
    ("*/0 * * * *", None, "schedule", 'minute field "*/0": step "0" must be a positive number'),
    ("*/x * * * *", None, "schedule", 'step "x" must be a positive number'),
    ("*/5/2 * * * *", None, "schedule", 'too many "/"'),
    ("1-2-3 * * * *", None, "schedule", 'too many "-"'),
    ("1,,2 * * * *", None, "schedule", 'minute field "1,,2": empty list item'),
    ("x * * * *", None, "schedule", 'minute field "x": "x" is not a number'),
    ("-1 * * * *", None, "schedule", '"" is not a number'),
    ("* * * foo *", None, "schedule", '"foo" is not a number or a name (jan..dec)'),
    ("* * * * funday", None, "schedule", '"funday" is not a number or a name (sun..sat)'),
    ("L * * * *", None, "schedule", '"L" is not a number'),
    ("* * 1W * *", None, "schedule", '"1W" is not a number'),
    ("* * * * 1#2", None, "schedule", '"1#2" is not a number'),
    ("H * * * *", None, "schedule", '"H" is not a number'),
    ("0 0 30 2 *", None, "schedule", "never fires"),
    ("0 0 31 4,6,9,11 *", None, "schedule", "never fires"),
    ("CRON_TZ=Europe/Berlin", None, "schedule", "must be followed by a space and the schedule"),
    ("TZ=UTC   ", None, "schedule", "must be followed by a space and the schedule"),
    ("CRON_TZ=Mars/Olympus * * * * *", None, "schedule", 'unknown time zone "Mars/Olympus"'),
    ("* * * * *", "Mars/Olympus", "timezone", 'unknown time zone "Mars/Olympus"'),
    ("* * * * *", "america/new_york", "timezone", 'unknown time zone "america/new_york"'),
    ("* * * * *", "America", "timezone", 'unknown time zone "America"'),
    ("* * * * *", "../etc/passwd", "timezone", 'unknown time zone "../etc/passwd"'),
    ("* * * * *", "/etc/localtime", "timezone", 'unknown time zone "/etc/localtime"'),
    ("CRON_TZ=Europe/Berlin * * * * *", NY, "timezone",
     'timezone is "America/New_York" but the schedule\'s prefix says "Europe/Berlin"'),
])
def test_parse_errors_name_the_rule(schedule: str, timezone: str | None, field: str,
                                    fragment: str) -> None:
    with pytest.raises(cron.CronError) as caught:
        cron.parse(schedule, timezone)
    assert fragment in str(caught.value)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("schedule", "timezone", "expression", "zone"), [
    ("*/15 * * * *", None, "*/15 * * * *", "UTC"),
    ("  */15   *  * * *  ", None, "*/15 * * * *", "UTC"),
    ("10 0/1 * * * ?", None, "10 0/1 * * * ?", "UTC"),
    ("@hourly", None, "@hourly", "UTC"),
    ("CRON_TZ=Europe/Berlin 30 2 * * *", None, "30 2 * * *", BERLIN),
    ("TZ=America/New_York 30 2 * * *", None, "30 2 * * *", NY),
    ("30 2 * * *", BERLIN, "30 2 * * *", BERLIN),
    ("CRON_TZ=Europe/Berlin 30 2 * * *", BERLIN, "30 2 * * *", BERLIN),  # the same zone twice
    ("* * * * *", "", "* * * * *", "UTC"),
    ("* * * * *", "Local", "* * * * *", "UTC"),
    ("* * * * *", "Etc/GMT+5", "* * * * *", "Etc/GMT+5"),
    ("0 0 29 2 *", None, "0 0 29 2 *", "UTC"),  # every fourth year still fires
    ("0 0 30 2 1", None, "0 0 30 2 1", "UTC"),  # day 30 or Monday: Mondays fire
    ("0 0 * JAN-mar Mon-FRI", None, "0 0 * JAN-mar Mon-FRI", "UTC"),
])
def test_parse_normalizes(schedule: str, timezone: str | None, expression: str,
                          zone: str) -> None:
    parsed = cron.parse(schedule, timezone)
    assert (parsed.expression, parsed.zone) == (expression, zone)
    assert parsed == cron.Schedule(expression, zone)


def test_schedules_compare_by_expression_and_zone() -> None:
    assert cron.parse("* * * * *") == cron.parse("*  * * *  *")
    assert cron.parse("* * * * *") != cron.parse("* * * * *", BERLIN)
    assert len({cron.parse("@daily"), cron.parse("@daily")}) == 1
    assert "Schedule(expression='@daily', zone='UTC')" == repr(cron.parse("@daily"))


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        cron.parse("* * * * *").next_after(datetime(2026, 1, 1))


# -- next_after, in UTC ----------------------------------------------------------------------

@pytest.mark.parametrize(("schedule", "start", "expected"), [
    ("* * * * *", "2026-01-01 12:00", ["2026-01-01 12:01", "2026-01-01 12:02"]),
    ("* * * * *", "2026-01-01 12:00:59", ["2026-01-01 12:01", "2026-01-01 12:02"]),
    ("*/15 * * * *", "2026-01-01 12:07", ["2026-01-01 12:15", "2026-01-01 12:30"]),
    ("5/20 * * * *", "2026-01-01 12:00", ["2026-01-01 12:05", "2026-01-01 12:25",
                                          "2026-01-01 12:45", "2026-01-01 13:05"]),
    ("0 9-17/4 * * *", "2026-01-01 00:00", ["2026-01-01 09:00", "2026-01-01 13:00",
                                            "2026-01-01 17:00", "2026-01-02 09:00"]),
    ("0,30 1 * * *", "2026-01-01 00:00", ["2026-01-01 01:00", "2026-01-01 01:30",
                                          "2026-01-02 01:00"]),
    ("0 0 * * 1-5", "2026-01-02 00:00", ["2026-01-05 00:00", "2026-01-06 00:00"]),  # Fri
    ("0 0 * * sat,sun", "2026-01-01 00:00", ["2026-01-03 00:00", "2026-01-04 00:00",
                                              "2026-01-10 00:00"]),
    ("0 0 1 * *", "2026-01-15 00:00", ["2026-02-01 00:00", "2026-03-01 00:00"]),
    ("0 0 31 * *", "2026-01-31 00:00", ["2026-03-31 00:00", "2026-05-31 00:00"]),
    ("0 0 29 2 *", "2026-01-01 00:00", ["2028-02-29 00:00", "2032-02-29 00:00"]),
    # Day of month and day of week both restricted: either fires (13th, or any Friday).
    ("0 0 13 * 5", "2026-02-01 00:00", ["2026-02-06 00:00", "2026-02-13 00:00",
                                        "2026-02-20 00:00"]),
    # One of them is a star (`*/1` is one too): both must match, so every 13th.
    ("0 0 13 * */1", "2026-02-01 00:00", ["2026-02-13 00:00", "2026-03-13 00:00"]),
    # `*/13` is no star (robfig clears it for steps over 1): the 1st, 14th, 27th or Fridays.
    ("0 0 */13 * 5", "2026-01-31 12:00", ["2026-02-01 00:00", "2026-02-06 00:00",
                                          "2026-02-13 00:00"]),
    ("0 0 ? * 5", "2026-02-01 00:00", ["2026-02-06 00:00", "2026-02-13 00:00"]),
    # 0-6 covers every day but is no star: robfig ORs it with the 13th, so every day fires.
    ("0 0 13 * 0-6", "2026-02-01 00:00", ["2026-02-02 00:00", "2026-02-03 00:00"]),
])
def test_next_after(schedule: str, start: str, expected: list[str]) -> None:
    assert ticks(cron.parse(schedule), at(start), len(expected)) == [at(e) for e in expected]


@pytest.mark.parametrize(("schedule", "start", "expected"), [
    # Knative's own test schedule: second 10 of every minute.
    ("10 0/1 * * * ?", "2026-01-01 12:00", ["2026-01-01 12:00:10", "2026-01-01 12:01:10",
                                            "2026-01-01 12:02:10"]),
    ("10 0/1 * * * ?", "2026-01-01 12:00:10", ["2026-01-01 12:01:10"]),
    ("*/20 * * * * *", "2026-01-01 12:00:05", ["2026-01-01 12:00:20", "2026-01-01 12:00:40",
                                               "2026-01-01 12:01:00"]),
    ("0 30 8 * * mon", "2026-01-01 00:00", ["2026-01-05 08:30", "2026-01-12 08:30"]),
    ("* * * * * *", "2026-01-01 12:00:00", ["2026-01-01 12:00:01", "2026-01-01 12:00:02"]),
])
def test_six_fields_put_seconds_first(schedule: str, start: str, expected: list[str]) -> None:
    assert ticks(cron.parse(schedule), at(start), len(expected)) == [at(e) for e in expected]


@pytest.mark.parametrize(("descriptor", "start", "expected"), [
    ("@yearly", "2026-05-05 05:05", ["2027-01-01 00:00", "2028-01-01 00:00"]),
    ("@annually", "2026-05-05 05:05", ["2027-01-01 00:00"]),
    ("@monthly", "2026-05-05 05:05", ["2026-06-01 00:00", "2026-07-01 00:00"]),
    ("@weekly", "2026-05-05 05:05", ["2026-05-10 00:00", "2026-05-17 00:00"]),  # Sundays
    ("@daily", "2026-05-05 05:05", ["2026-05-06 00:00", "2026-05-07 00:00"]),
    ("@midnight", "2026-05-05 05:05", ["2026-05-06 00:00"]),
    ("@hourly", "2026-05-05 05:05", ["2026-05-05 06:00", "2026-05-05 07:00"]),
])
def test_descriptors(descriptor: str, start: str, expected: list[str]) -> None:
    assert ticks(cron.parse(descriptor), at(start), len(expected)) == [at(e) for e in expected]


def test_sub_second_instants_and_other_offsets() -> None:
    daily = cron.parse("0 12 * * *")
    assert daily.next_after(at("2026-01-01 12:00") - timedelta(microseconds=1)) == at(
        "2026-01-01 12:00")
    assert daily.next_after(at("2026-01-01 12:00") + timedelta(microseconds=1)) == at(
        "2026-01-02 12:00")
    tokyo_noon = datetime(2026, 1, 1, 21, 0, tzinfo=timezone(timedelta(hours=9)))  # 12:00Z
    found = daily.next_after(tokyo_noon)
    assert found == at("2026-01-02 12:00") and found.tzinfo is UTC


# -- zones -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("schedule", "timezone", "start", "expected"), [
    ("CRON_TZ=Europe/Berlin 0 9 * * *", None, "2026-01-10 00:00",
     ["2026-01-10 08:00", "2026-01-11 08:00"]),
    ("CRON_TZ=Europe/Berlin 0 9 * * *", None, "2026-07-10 00:00", ["2026-07-10 07:00"]),
    ("TZ=Asia/Kolkata 0 9 * * *", None, "2026-01-10 00:00", ["2026-01-10 03:30"]),
    ("0 9 * * *", "Asia/Kolkata", "2026-01-10 00:00", ["2026-01-10 03:30"]),
    ("0 9 * * *", NY, "2026-01-10 00:00", ["2026-01-10 14:00"]),
    ("0 9 * * *", NY, "2026-07-10 00:00", ["2026-07-10 13:00"]),
    ("0 0 1 1 *", "Pacific/Kiritimati", "2026-06-01 00:00", ["2026-12-31 10:00"]),  # +14
    ("@daily", "Etc/GMT+5", "2026-06-01 00:00", ["2026-06-01 05:00"]),  # POSIX sign: UTC-5
])
def test_zones(schedule: str, timezone: str | None, start: str, expected: list[str]) -> None:
    parsed = cron.parse(schedule, timezone)
    assert ticks(parsed, at(start), len(expected)) == [at(e) for e in expected]


# -- daylight saving time --------------------------------------------------------------------
# 2026: New York springs forward on Mar 8 at 02:00 EST (07:00Z) and falls back on Nov 1 at
# 02:00 EDT (06:00Z); Berlin springs forward on Mar 29 at 02:00 CET (01:00Z) and falls back
# on Oct 25 at 03:00 CEST (01:00Z).

@pytest.mark.parametrize(("zone", "schedule", "start", "expected"), [
    # Spring forward, every 15 minutes: the gap's ticks land on the new hour's, which fire
    # once, so the beat stays 15 real minutes.
    pytest.param(NY, "*/15 * * * *", "2026-03-08 06:30", [
        "2026-03-08 06:45", "2026-03-08 07:00", "2026-03-08 07:15", "2026-03-08 07:30",
        "2026-03-08 07:45", "2026-03-08 08:00"], id="ny-spring-every-15"),
    pytest.param(BERLIN, "*/15 * * * *", "2026-03-29 00:30", [
        "2026-03-29 00:45", "2026-03-29 01:00", "2026-03-29 01:15", "2026-03-29 01:30",
        "2026-03-29 01:45", "2026-03-29 02:00"], id="berlin-spring-every-15"),
    # Spring forward, 02:30 does not exist: it fires at 03:30, shifted by the gap.
    pytest.param(NY, "30 2 * * *", "2026-03-07 00:00", [
        "2026-03-07 07:30", "2026-03-08 07:30", "2026-03-09 06:30"], id="ny-spring-0230"),
    pytest.param(BERLIN, "30 2 * * *", "2026-03-28 00:00", [
        "2026-03-28 01:30", "2026-03-29 01:30", "2026-03-30 00:30"], id="berlin-spring-0230"),
    # Spring forward, 01:30 exists: unaffected.
    pytest.param(NY, "30 1 * * *", "2026-03-07 00:00", [
        "2026-03-07 06:30", "2026-03-08 06:30", "2026-03-09 05:30"], id="ny-spring-0130"),
    pytest.param(BERLIN, "30 1 * * *", "2026-03-28 00:00", [
        "2026-03-28 00:30", "2026-03-29 00:30", "2026-03-29 23:30"], id="berlin-spring-0130"),
    # Fall back, every 15 minutes: the hour field is *, so the repeated hour fires twice
    # and the beat stays 15 real minutes.
    pytest.param(NY, "*/15 * * * *", "2026-11-01 05:30", [
        "2026-11-01 05:45", "2026-11-01 06:00", "2026-11-01 06:15", "2026-11-01 06:30",
        "2026-11-01 06:45", "2026-11-01 07:00"], id="ny-fall-every-15"),
    pytest.param(BERLIN, "*/15 * * * *", "2026-10-25 00:30", [
        "2026-10-25 00:45", "2026-10-25 01:00", "2026-10-25 01:15", "2026-10-25 01:30",
        "2026-10-25 01:45", "2026-10-25 02:00"], id="berlin-fall-every-15"),
    # Fall back, a fixed time in the repeated hour fires once, at its first occurrence:
    # New York repeats 01:00-02:00, Berlin 02:00-03:00.
    pytest.param(NY, "30 1 * * *", "2026-10-31 00:00", [
        "2026-10-31 05:30", "2026-11-01 05:30", "2026-11-02 06:30"], id="ny-fall-0130"),
    pytest.param(BERLIN, "30 2 * * *", "2026-10-24 00:00", [
        "2026-10-24 00:30", "2026-10-25 00:30", "2026-10-26 01:30"], id="berlin-fall-0230"),
    # Fall back, a fixed time outside the repeated hour: unaffected.
    pytest.param(NY, "30 2 * * *", "2026-10-31 00:00", [
        "2026-10-31 06:30", "2026-11-01 07:30", "2026-11-02 07:30"], id="ny-fall-0230"),
    pytest.param(BERLIN, "30 1 * * *", "2026-10-24 00:00", [
        "2026-10-24 23:30", "2026-10-26 00:30"], id="berlin-fall-0130"),
    # Several gap ticks landing on instants the new hour's ticks fire at fire once each.
    pytest.param(NY, "0,30 2,3 * * *", "2026-03-08 00:00", [
        "2026-03-08 07:00", "2026-03-08 07:30", "2026-03-09 06:00"], id="ny-gap-collapse"),
    # A restricted hour in the repeated hour: every tick once, at its first occurrence.
    pytest.param(NY, "*/20 1 * * *", "2026-11-01 04:50", [
        "2026-11-01 05:00", "2026-11-01 05:20", "2026-11-01 05:40", "2026-11-02 06:00"],
        id="ny-fall-restricted-hour"),
    # `0-23` matches every hour too.
    pytest.param(NY, "0 0-23 * * *", "2026-11-01 04:30", [
        "2026-11-01 05:00", "2026-11-01 06:00", "2026-11-01 07:00"], id="ny-fall-0-23"),
    # Starting inside the windows a transition opens.
    pytest.param(NY, "30 2 * * *", "2026-03-08 07:10", [
        "2026-03-08 07:30", "2026-03-09 06:30"], id="ny-start-after-spring"),
    pytest.param(NY, "*/20 * * * *", "2026-11-01 06:10", [
        "2026-11-01 06:20", "2026-11-01 06:40", "2026-11-01 07:00"], id="ny-start-in-repeat"),
    pytest.param(NY, "*/20 1 * * *", "2026-11-01 06:10", [
        "2026-11-02 06:00"], id="ny-start-in-repeat-restricted"),
    # A gap tick a year out: the transition is found across months.
    pytest.param(NY, "0 2 8 3 *", "2026-01-01 00:00", [
        "2026-03-08 07:00", "2027-03-08 07:00"], id="ny-yearly-gap-tick"),
    # Lord Howe moves by 30 minutes (01:30 +11 -> 01:30 +10:30 on Apr 5 at 15:00Z).
    pytest.param("Australia/Lord_Howe", "*/30 * * * *", "2026-04-04 14:20", [
        "2026-04-04 14:30", "2026-04-04 15:00", "2026-04-04 15:30"], id="lord-howe-fall"),
    # Samoa skipped Dec 30, 2011: its noon fires at the next day's noon, once.
    pytest.param("Pacific/Apia", "0 12 * * *", "2011-12-28 00:00", [
        "2011-12-28 22:00", "2011-12-29 22:00", "2011-12-30 22:00", "2011-12-31 22:00"],
        id="samoa-skipped-day"),
])
def test_daylight_saving_time(zone: str, schedule: str, start: str,
                              expected: list[str]) -> None:
    assert ticks(cron.parse(schedule, zone), at(start), len(expected)) == [
        at(e) for e in expected]


@pytest.mark.parametrize(("zone", "start"), [
    (NY, "2026-03-07 12:00"), (NY, "2026-10-31 12:00"),
    (BERLIN, "2026-03-28 12:00"), (BERLIN, "2026-10-24 12:00"),
    ("Australia/Lord_Howe", "2026-04-04 00:00"), ("Australia/Lord_Howe", "2026-10-03 00:00"),
])
@pytest.mark.parametrize("schedule", ["*/15 * * * *", "30 2 * * *", "30 1 * * *",
                                      "0,30 2,3 * * *", "*/7 1-3 * * *", "@hourly"])
def test_ticks_strictly_increase_through_transitions(zone: str, start: str,
                                                     schedule: str) -> None:
    parsed = cron.parse(schedule, zone)
    end = at(start) + timedelta(days=2)
    found = [parsed.next_after(at(start))]
    while found[-1] < end:
        found.append(parsed.next_after(found[-1]))
    assert all(a < b for a, b in itertools.pairwise(found))
    assert all(t.tzinfo is UTC and t.second == 0 for t in found)
    assert parsed.missed(at(start), found[-1]) == len(found) - 1


ORACLE_SCHEDULES = {  # schedule: (minutes, hours) it matches, on every day
    "*/15 * * * *": (range(0, 60, 15), range(24)),
    "30 2 * * *": ((30,), (2,)),
    "30 1 * * *": ((30,), (1,)),
    "0,30 2,3 * * *": ((0, 30), (2, 3)),
    "*/7 1-3 * * *": (range(0, 60, 7), (1, 2, 3)),
    "@hourly": ((0,), range(24)),
}


def oracle(schedule: str, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """The module docstring's DST rules, minute by minute over UTC, written the other way
    round: an instant fires if its wall time matches (a repeated wall time only the first
    time, unless every hour matches), or if it falls in a spring-forward gap's hour and
    its reading on the old offset is a nonexistent wall time that matches."""
    minutes, hours = ORACLE_SCHEDULES[schedule]
    tz = ZoneInfo(zone)

    def matches(wall: datetime) -> bool:
        return wall.minute in minutes and wall.hour in hours

    fired, instant = [], start + timedelta(minutes=1)
    while instant <= end:
        local = instant.astimezone(tz)
        fires = matches(local) and (local.fold == 0 or len(hours) == 24)
        earlier = (instant - timedelta(hours=2)).astimezone(tz).utcoffset()
        assert earlier is not None and local.utcoffset() is not None
        if earlier < local.utcoffset():
            old_wall = instant.replace(tzinfo=None) + earlier
            exists = old_wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(
                tzinfo=None) == old_wall
            fires = fires or (not exists and matches(old_wall))
        if fires:
            fired.append(instant)
        instant += timedelta(minutes=1)
    return fired


@pytest.mark.parametrize(("zone", "start"), [
    (NY, "2026-03-07 12:00"), (NY, "2026-10-31 12:00"),
    (BERLIN, "2026-03-28 12:00"), (BERLIN, "2026-10-24 12:00"),
    ("Australia/Lord_Howe", "2026-04-04 00:00"), ("Australia/Lord_Howe", "2026-10-03 00:00"),
])
@pytest.mark.parametrize("schedule", list(ORACLE_SCHEDULES))
def test_next_after_agrees_with_a_minute_by_minute_oracle(zone: str, start: str,
                                                          schedule: str) -> None:
    end = at(start) + timedelta(days=2)
    expected = oracle(schedule, zone, at(start), end)
    parsed = cron.parse(schedule, zone)
    found = [parsed.next_after(at(start))]
    while parsed.next_after(found[-1]) <= end:
        found.append(parsed.next_after(found[-1]))
    assert found == expected


# -- missed ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("schedule", "zone", "last", "now", "limit", "expected"), [
    ("* * * * *", None, "2026-01-01 12:00", "2026-01-01 12:00", 1000, 0),
    ("* * * * *", None, "2026-01-01 12:00", "2026-01-01 12:01", 1000, 0),  # both ends open
    ("* * * * *", None, "2026-01-01 12:00", "2026-01-01 12:02", 1000, 1),
    ("* * * * *", None, "2026-01-01 12:00", "2026-01-01 13:00", 1000, 59),
    ("* * * * *", None, "2026-01-01 12:00", "2026-01-02 12:00", 1000, 1000),  # bounded
    ("* * * * *", None, "2026-01-01 12:00", "2026-01-02 12:00", 10, 10),
    ("*/15 * * * *", None, "2026-01-01 12:00", "2026-01-01 11:00", 1000, 0),  # backwards
    ("@daily", None, "2026-01-01 00:00", "2026-01-08 00:00", 1000, 6),
    ("*/15 * * * *", NY, "2026-03-08 06:00", "2026-03-08 09:00", 1000, 11),  # spring: 3h
    ("*/15 * * * *", NY, "2026-11-01 04:00", "2026-11-01 08:00", 1000, 15),  # fall: 4h
    ("30 1 * * *", NY, "2026-10-31 06:00", "2026-11-02 06:00", 1000, 1),  # once in fall
    ("30 2 * * *", NY, "2026-03-07 08:00", "2026-03-09 06:00", 1000, 1),  # the gap's one
])
def test_missed(schedule: str, zone: str | None, last: str, now: str, limit: int,
                expected: int) -> None:
    assert cron.parse(schedule, zone).missed(at(last), at(now), limit) == expected
