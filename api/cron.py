"""Cron schedules as Kubernetes reads them (robfig/cron v3's `ParseStandard`), pure.

Owns `parse_standard(spec)`: five fields (minute hour day-of-month month day-of-week) with
`*`, `?`, lists, ranges, steps and month/day names; the descriptors `@yearly`/`@annually`,
`@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly` and `@every <duration>`; an optional
`TZ=<zone> ` or `CRON_TZ=<zone> ` prefix. Errors are `CronError`s worded as robfig's
(`expected exactly 5 fields, found 1: [foo]`), which Kubernetes shows verbatim.

`Schedule.next(t)` is robfig's `SpecSchedule.Next`: the first matching second after `t`,
computed on the wall clock of the schedule's zone (or of `t`'s own zone when none was
named); day-of-month and day-of-week are OR-ed unless either is `*`/`?`. No match within
five years answers None (robfig's zero time).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

STAR_BIT = 1 << 63


class CronError(ValueError):
    """A schedule robfig/cron would refuse, with its wording."""


@dataclass(frozen=True)
class _Bounds:
    min: int
    max: int
    names: dict[str, int] | None = None


_MINUTES = _Bounds(0, 59)
_HOURS = _Bounds(0, 23)
_DOM = _Bounds(1, 31)
_MONTHS = _Bounds(1, 12, {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))})
_DOW = _Bounds(0, 6, {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))})


def _all(b: _Bounds) -> int:
    return _bits(b.min, b.max, 1) | STAR_BIT


def _bits(start: int, end: int, step: int) -> int:
    out = 0
    for i in range(start, end + 1, step):
        out |= 1 << i
    return out


def _atoi(expr: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", expr):
        raise CronError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": '
                        "invalid syntax")
    num = int(expr)
    if num < 0:
        raise CronError(f"negative number ({num}) not allowed: {expr}")
    return num


def _int_or_name(expr: str, names: dict[str, int] | None) -> int:
    if names and expr.lower() in names:
        return names[expr.lower()]
    return _atoi(expr)


def _range(expr: str, b: _Bounds) -> int:
    """robfig's getRange: `*`, `?`, `N`, `N-M`, each optionally `/step`."""
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    extra = 0
    if low_high[0] in ("*", "?"):
        start, end, extra = b.min, b.max, STAR_BIT
    else:
        start = _int_or_name(low_high[0], b.names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], b.names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _atoi(range_and_step[1])
        if len(low_high) == 1:      # "N/step" means "N-max/step"
            end = b.max
        if step > 1:
            extra = 0
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < b.min:
        raise CronError(f"beginning of range ({start}) below minimum ({b.min}): {expr}")
    if end > b.max:
        raise CronError(f"end of range ({end}) above maximum ({b.max}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return _bits(start, end, step) | extra


def _field(text: str, b: _Bounds) -> int:
    out = 0
    for expr in (e for e in text.split(",") if e):
        out |= _range(expr, b)
    return out


# ---------------------------------------------------------------- schedules
@dataclass(frozen=True)
class Schedule:
    """A five-field schedule (seconds fixed at 0). `location` None: the zone of the time
    `next` is given (robfig's time.Local)."""

    minute: int
    hour: int
    dom: int
    month: int
    dow: int
    location: tzinfo | None = None

    def _day_matches(self, t: datetime) -> bool:
        dom_match = bool(1 << t.day & self.dom)
        dow_match = bool(1 << ((t.weekday() + 1) % 7) & self.dow)
        if self.dom & STAR_BIT or self.dow & STAR_BIT:
            return dom_match and dow_match
        return dom_match or dow_match

    def next(self, t: datetime) -> datetime | None:
        """The first time after `t` that matches, in `t`'s zone; None if none in 5 years."""
        orig = t.tzinfo or UTC
        loc = self.location or orig
        wall = t.astimezone(loc).replace(tzinfo=None, microsecond=0) + timedelta(seconds=1)
        year_limit = wall.year + 5
        added = False
        while True:
            if wall.year > year_limit:
                return None
            wrapped = False
            while not (1 << wall.month & self.month):
                if not added:
                    added = True
                    wall = wall.replace(day=1, hour=0, minute=0, second=0)
                wall = _add_month(wall)
                if wall.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not self._day_matches(wall):
                if not added:
                    added = True
                    wall = wall.replace(hour=0, minute=0, second=0)
                wall += timedelta(days=1)
                if wall.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << wall.hour & self.hour):
                if not added:
                    added = True
                    wall = wall.replace(minute=0, second=0)
                wall += timedelta(hours=1)
                if wall.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (1 << wall.minute & self.minute):
                if not added:
                    added = True
                    wall = wall.replace(second=0)
                wall += timedelta(minutes=1)
                if wall.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            if wall.second != 0:        # seconds are fixed at 0: on to the next minute
                added = True
                wall = wall.replace(second=0) + timedelta(minutes=1)
                continue
            return wall.replace(tzinfo=loc).astimezone(orig)


@dataclass(frozen=True)
class ConstantDelay:
    """`@every <duration>`: `delay` whole seconds after the given time."""

    delay: int

    def next(self, t: datetime) -> datetime | None:
        return t.replace(microsecond=0) + timedelta(seconds=self.delay)


def _add_month(t: datetime) -> datetime:
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return t.replace(year=year, month=month)


_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration (`1h30m`, `90s`, `500ms`); ValueError as Go words it."""
    s = text
    sign = 1.0
    if s[:1] in "+-":
        sign, s = (-1.0 if s[0] == "-" else 1.0), s[1:]
    if s == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(s):
        m = _GO_DURATION.match(s, pos)
        if m is None:
            raise ValueError(f'time: invalid duration "{text}"' if s and not s[-1:].isdigit()
                             else f'time: missing unit in duration "{text}"')
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if not s:
        raise ValueError(f'time: invalid duration "{text}"')
    return sign * total


_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def load_location(name: str) -> tzinfo:
    """Go's time.LoadLocation: "" and "UTC" are UTC, "Local" the process' zone."""
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        return local_zone()
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", name) or ".." in name.split("/"):
        raise CronError(f"unknown time zone {name}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CronError(f"unknown time zone {name}") from None


def local_zone() -> tzinfo:
    """The controller process' zone: $TZ, else /etc/localtime, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return UTC
    try:
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key="Local")
    except (OSError, ValueError):
        return UTC


def parse_standard(spec: str) -> Schedule | ConstantDelay:
    """robfig/cron's ParseStandard (with descriptors and a TZ=/CRON_TZ= prefix)."""
    if not spec:
        raise CronError("empty spec string")
    location: tzinfo | None = None
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        eq = spec.find("=")
        name = spec[eq + 1:space] if space >= 0 else spec[eq + 1:]
        try:
            location = load_location(name)
        except CronError as e:
            raise CronError(f"provided bad location {name}: {e}") from None
        spec = spec[space:].strip() if space >= 0 else ""
    if spec.startswith("@"):
        if spec.startswith("@every "):
            try:
                seconds = parse_go_duration(spec[len("@every "):])
            except ValueError as e:
                raise CronError(f"failed to parse duration {spec}: {e}") from None
            return ConstantDelay(max(1, int(seconds)))
        expanded = _DESCRIPTORS.get(spec)
        if expanded is None:
            raise CronError(f"unrecognized descriptor: {spec}")
        spec = expanded
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    return Schedule(minute=_field(fields[0], _MINUTES), hour=_field(fields[1], _HOURS),
                    dom=_field(fields[2], _DOM), month=_field(fields[3], _MONTHS),
                    dow=_field(fields[4], _DOW), location=location)


__all__ = ["ConstantDelay", "CronError", "Schedule", "load_location", "local_zone",
           "parse_go_duration", "parse_standard"]
