"""PingSource schedules: robfig/cron's dialect, and when a schedule fires next. Pure.

Callers: PingSource validation (`ripple.api.sources.ping_source_validation`) admits a
schedule with `parse`; the ping scheduler (`sources.ping.scheduler`) asks
`Schedule.next_after(now)` when to fire, and `Schedule.missed(last, now)` how many ticks
fell while no process ran. Time is always an argument; nothing here reads the clock.

The dialect is the one Knative's PingSource parses, robfig/cron v3 with `SecondOptional |
Minute | Hour | Dom | Month | Dow | Descriptor`
(`knative/eventing:pkg/apis/sources/v1/ping_validation.go`):
- 5 fields, `minute hour day-of-month month day-of-week`, or 6 with SECONDS FIRST
  (`10 0/1 * * * ?` is Knative's own test: second 10 of every minute);
- a field is a comma list of `*` or `?` (the same), `N`, `N-M`, each with an optional
  `/STEP`; `N/STEP` means `N-max/STEP`. Months take `jan`..`dec`, days of week `sun`..`sat`
  (0-6; robfig refuses 7). No `L`, `W`, `#` or `H`: Knative would refuse them;
- descriptors `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and
  `@hourly`. `@every <duration>` is refused, as Knative's validation refuses it;
- days, as robfig and vixie cron: when day-of-month and day-of-week are both restricted,
  a day matching either fires; when either is `*` or `?`, both must match;
- a schedule that can never fire (`0 0 30 2 *`) is refused; robfig accepts it and never
  fires it.

The zone: a `CRON_TZ=<zone> ` or `TZ=<zone> ` prefix, or the `timezone` argument
(PingSource `spec.timezone`, which Knative turns into that prefix); both given and
different is an error. The default is UTC. `Local` also means UTC: Go reads it as the
process's zone, and Knative's adapter container runs in UTC.

croniter does the field matching, over naive wall-clock times; this module translates
robfig's fields into croniter's (explicit value lists, seconds last) and maps each
wall-clock tick to the instants it fires at. Daylight saving time, decided here (robfig's
own behaviour around transitions is an accident of its implementation):

| wall-clock tick                 | fires at                                              |
|---------------------------------|-------------------------------------------------------|
| exists once                     | that instant                                          |
| in a spring-forward gap         | the same offset shifted by the gap, as Go's time.Date |
|                                 | normalizes: New York 02:30 -> 03:30 EDT. A gap tick   |
|                                 | landing on an instant another tick fires at fires    |
|                                 | once (`*/15` keeps a 15-minute beat)                  |
| repeated by a fall-back         | its first occurrence only (`30 1 * * *` fires once),  |
|                                 | unless the hour field matches every hour (`*`, `?`,   |
|                                 | `*/1`, `0-23`): then both occurrences fire, so        |
|                                 | `*/15 * * * *` fires every 15 real minutes through    |
|                                 | the repeated hour                                     |

Instants are always strictly increasing in UTC. Transitions are found by comparing UTC
offsets a day apart and bisecting; a zone whose offset changed twice within one day (none
does today) would be misread around that day.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

DEFAULT_ZONE = "UTC"
DESCRIPTORS = {
    "@yearly": "0 0 0 1 1 *",
    "@annually": "0 0 0 1 1 *",
    "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *",
    "@midnight": "0 0 0 * * *",
    "@hourly": "0 0 * * * *",
}
_ZONE_PREFIXES = ("CRON_TZ=", "TZ=")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMBER = re.compile(r"[0-9]+")
_DAY = timedelta(days=1)
_LOOKBACK = 2 * _DAY  # longer than any gap or repeat a transition makes
_TICK = timedelta(microseconds=1)  # ticks are whole seconds: `T - _TICK` means "from T on"


class CronError(ValueError):
    """A schedule or zone broke a rule; `field` is "schedule" or "timezone"."""

    def __init__(self, message: str, *, field: str = "schedule") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] means low + i

    @property
    def everything(self) -> frozenset[int]:
        return frozenset(range(self.low, self.high + 1))


# In robfig's 6-field order, which is also the order the descriptors above are written in.
_FIELDS = (
    _Field("second", 0, 59),
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 0, 6, _DAYS),
)
_SECOND, _MINUTE, _HOUR, _DOM, _MONTH, _DOW = range(6)


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the cron line without its zone prefix, and the IANA zone."""

    expression: str  # whitespace collapsed, e.g. "*/15 * * * *", "@daily", "10 0/1 * * * ?"
    zone: str  # an IANA key, e.g. "Europe/Berlin"; "UTC" by default
    _cron: str = field(init=False, repr=False, compare=False)  # croniter's form
    _every_hour: bool = field(init=False, repr=False, compare=False)
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        expression = " ".join(self.expression.split())
        tz = load_zone(self.zone)
        cron, every_hour = _compile(expression)
        for name, value in (("expression", expression), ("zone", tz.key), ("_cron", cron),
                            ("_every_hour", every_hour), ("_tz", tz)):
            object.__setattr__(self, name, value)

    def next_after(self, instant: datetime) -> datetime:
        """The first tick strictly after `instant` (aware), as an aware UTC datetime."""
        return next(self._instants(_utc(instant)))

    def missed(self, last: datetime, now: datetime, limit: int = 1000) -> int:
        """How many ticks fell strictly between `last` and `now`, counting up to `limit`."""
        now = _utc(now)
        count = 0
        for instant in self._instants(_utc(last)):
            if instant >= now or count >= limit:
                break
            count += 1
        return count

    def _instants(self, after: datetime) -> Iterator[datetime]:
        """Every instant the schedule fires at after `after`, in order, without end.

        Time is cut into pieces: a steady stretch at one UTC offset, where each tick fires
        at its wall time, and the window a transition opens (as long as its gap or repeat),
        where the module docstring's rules apply.
        """
        cursor = after
        back = _first_change(self._tz, after - _LOOKBACK, after)
        if back is not None and after < back[0] + abs(back[2] - back[1]):
            yield from self._window(*back, after)
            cursor = back[0] + abs(back[2] - back[1]) - _TICK
        while True:
            offset = _offset(self._tz, cursor)
            ticks = croniter(self._cron, _wall(cursor, offset))
            previous = cursor
            while True:
                instant = _instant(ticks.get_next(datetime), offset)
                change = _first_change(self._tz, previous, instant)
                if change is None:
                    yield instant
                    previous = instant
                    continue
                yield from self._window(*change, previous)
                cursor = change[0] + abs(change[2] - change[1]) - _TICK
                break

    def _window(self, at: datetime, before: timedelta, after: timedelta,
                since: datetime) -> Iterator[datetime]:
        """The instants in the window a transition at `at` opens, later than `since`."""
        end = at + abs(after - before)
        if after > before:  # spring forward: the gap's ticks on the old offset, and the new
            offsets: tuple[timedelta, ...] = (before, after)
        else:  # fall back: the repeated hour, read on the new offset, is a second occurrence
            offsets = (after,) if self._every_hour else ()
        start = max(since, at - _TICK)
        last = None
        for instant in heapq.merge(*(self._clock(o, start, end) for o in offsets)):
            if instant != last:
                yield instant
                last = instant

    def _clock(self, offset: timedelta, since: datetime, end: datetime) -> Iterator[datetime]:
        """Ticks read on a clock at `offset`, as instants in (since, end)."""
        ticks = croniter(self._cron, _wall(since, offset))
        while (instant := _instant(ticks.get_next(datetime), offset)) < end:
            yield instant


def parse(schedule: str, timezone: str | None = None) -> Schedule:
    """A PingSource's `spec.schedule` and `spec.timezone`; CronError names the rule broken."""
    if not isinstance(schedule, str) or not isinstance(timezone, str | None):
        raise CronError("the schedule and the time zone must be strings")
    prefix_zone, expression = _split_zone(schedule.strip())
    zone = DEFAULT_ZONE
    if prefix_zone is not None:
        zone = load_zone(prefix_zone, field="schedule").key
    if timezone:
        given = load_zone(timezone, field="timezone").key
        if prefix_zone is not None and given != zone:
            raise CronError(
                f'timezone is "{timezone}" but the schedule\'s prefix says "{prefix_zone}": '
                "give the zone once", field="timezone")
        zone = given
    return Schedule(expression, zone)


def load_zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The IANA zone `name`; "" and "Local" are UTC, as for Knative's adapter."""
    key = name if name and name != "Local" else DEFAULT_ZONE
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CronError(f'unknown time zone "{name}": expected an IANA name such as '
                        '"Europe/Berlin" or "America/New_York"', field=field) from None


def _split_zone(schedule: str) -> tuple[str | None, str]:
    for prefix in _ZONE_PREFIXES:
        if schedule.startswith(prefix):
            zone, space, rest = schedule[len(prefix):].partition(" ")
            if not space or not rest.strip():
                raise CronError(f"{prefix}<zone> must be followed by a space and the schedule")
            return zone, rest.strip()
    return None, schedule


def _compile(expression: str) -> tuple[str, bool]:
    """robfig's schedule -> (croniter's 6 fields, seconds last; does hour match every hour)."""
    if not expression:
        raise CronError("empty schedule: expected 5 fields, e.g. */5 * * * *")
    if expression.startswith(_ZONE_PREFIXES):
        raise CronError("a zone prefix belongs in the zone, not the expression")
    if expression.startswith("@every"):
        raise CronError("@every is not supported: use a cron line or one of "
                        f"{', '.join(DESCRIPTORS)}")
    if expression.startswith("@"):
        if expression not in DESCRIPTORS:
            raise CronError(f'unrecognized descriptor "{expression}": expected one of '
                            f"{', '.join(DESCRIPTORS)}")
        expression = DESCRIPTORS[expression]
    texts = expression.split()
    if len(texts) == 5:
        texts = ["0", *texts]
    elif len(texts) != 6:
        raise CronError(f"expected 5 fields (or 6 with seconds first), got {len(texts)}")
    parsed = [_parse_field(f, text) for f, text in zip(_FIELDS, texts)]
    sets = [values for values, _ in parsed]
    (dom, dom_star), (dow, dow_star) = parsed[_DOM], parsed[_DOW]
    if not (dom_star or dow_star) and (
            dom == _FIELDS[_DOM].everything or dow == _FIELDS[_DOW].everything):
        # Either day matching fires, and one of them matches every day.
        sets[_DOM], sets[_DOW] = _FIELDS[_DOM].everything, _FIELDS[_DOW].everything
    order = (_MINUTE, _HOUR, _DOM, _MONTH, _DOW, _SECOND)
    cron = " ".join(_croniter_field(_FIELDS[i], sets[i]) for i in order)
    try:  # croniter gives up after 50 years without a match: the schedule never fires
        croniter(cron, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterError:
        raise CronError("never fires: none of its months has that day of month") from None
    return cron, sets[_HOUR] == _FIELDS[_HOUR].everything


def _croniter_field(f: _Field, values: frozenset[int]) -> str:
    """`*` for everything (croniter reads a full day field as unrestricted), else a list."""
    return "*" if values == f.everything else ",".join(str(v) for v in sorted(values))


def _parse_field(f: _Field, text: str) -> tuple[frozenset[int], bool]:
    """robfig's getField: (the values, whether robfig's star bit is set)."""
    values: set[int] = set()
    star = False
    for part in text.split(","):
        part_values, part_star = _parse_range(f, text, part)
        values |= part_values
        star = star or part_star
    return frozenset(values), star


def _parse_range(f: _Field, text: str, part: str) -> tuple[frozenset[int], bool]:
    """One list item of a field: `*`, `?`, `N` or `N-M`, with an optional `/STEP`."""
    if not part:
        raise _field_error(f, text, "empty list item")
    range_text, *steps = part.split("/")
    if len(steps) > 1:
        raise _field_error(f, text, 'too many "/": one step per item, e.g. */5')
    bounds = range_text.split("-")
    if len(bounds) > 2:
        raise _field_error(f, text, 'too many "-": a range is start-end')
    star = bounds in (["*"], ["?"])
    if star:
        start, end = f.low, f.high
    else:
        start = _parse_value(f, text, bounds[0])
        end = _parse_value(f, text, bounds[1]) if len(bounds) == 2 else start
    step = 1
    if steps:
        if not _NUMBER.fullmatch(steps[0]) or int(steps[0]) == 0:
            raise _field_error(f, text, f'step "{steps[0]}" must be a positive number')
        step = int(steps[0])
        if len(bounds) == 1 and not star:
            end = f.high  # N/STEP means N-max/STEP
    if start < f.low:
        raise _field_error(f, text, f"{start} is below the minimum {f.low}")
    if end > f.high:
        raise _field_error(f, text, f"{end} is above the maximum {f.high}")
    if start > end:
        raise _field_error(f, text, f"range {start}-{end} runs backwards")
    return frozenset(range(start, end + 1, step)), star and step == 1


def _parse_value(f: _Field, text: str, value: str) -> int:
    if _NUMBER.fullmatch(value):
        return int(value)
    if value.lower() in f.names:
        return f.low + f.names.index(value.lower())
    names = f" or a name ({f.names[0]}..{f.names[-1]})" if f.names else ""
    raise _field_error(f, text, f'"{value}" is not a number{names}')


def _field_error(f: _Field, text: str, rule: str) -> CronError:
    return CronError(f'{f.name} field "{text}": {rule}')


def _utc(instant: datetime) -> datetime:
    if instant.utcoffset() is None:
        raise ValueError(f"{instant!r} is naive: pass an aware datetime")
    return instant.astimezone(UTC)


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _wall(instant: datetime, offset: timedelta) -> datetime:
    """The naive wall-clock reading of `instant` on a clock at `offset`."""
    return instant.astimezone(UTC).replace(tzinfo=None) + offset


def _instant(wall: datetime, offset: timedelta) -> datetime:
    return (wall - offset).replace(tzinfo=UTC)


def _first_change(zone: ZoneInfo, start: datetime,
                  end: datetime) -> tuple[datetime, timedelta, timedelta] | None:
    """The first transition in (start, end]: (its instant, offset before, offset after)."""
    before = _offset(zone, start)
    low = start
    while low < end:
        high = min(low + _DAY, end)
        after = _offset(zone, high)
        if after != before:
            return _bisect(zone, low, high, before), before, after
        low = high
    return None


def _bisect(zone: ZoneInfo, low: datetime, high: datetime, before: timedelta) -> datetime:
    """The first whole second in (low, high] whose offset is not `before`."""
    lo, hi = math.floor(low.timestamp()), math.ceil(high.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(zone, datetime.fromtimestamp(mid, UTC)) == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)
