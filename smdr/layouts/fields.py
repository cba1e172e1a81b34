"""Typed field converters used by compiled layouts.

Each converter takes the field's text (already cut out of the record) and returns a value or raises
``FieldError``. Converters that are called for every record with few distinct inputs (dates, times,
durations) memoize their results in a bounded dict: a day of SMDR has a few hundred distinct dates
and minutes, so this turns string parsing into one dict lookup.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

from ..memo import Memo

FIELD_TYPES = ("str", "int", "date", "time", "datetime", "duration", "ring", "duration_tenths", "phone")
DATE_ORDERS = ("MDY", "DMY", "YMD")


class FieldError(ValueError):
    """A field's text is not what its type expects."""

    def __init__(self, field: str, text: str, expected: str) -> None:
        self.field, self.text, self.expected = field, text, expected
        super().__init__(f"field '{field}': {text.strip()!r} is not {expected}")


def _memo(func):
    memo: Memo = Memo()
    cache = memo.entries

    def cached(text: str, *args):
        key = (text, *args) if args else text
        try:
            return cache[key]
        except KeyError:
            pass
        return memo.put(key, func(text, *args))

    cached.__wrapped__ = func
    cached.__name__ = func.__name__
    return cached


_DATE_RE = re.compile(r"^\s*(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,4})\s*$")
_MONTH_DAY_RE = re.compile(r"^\s*(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*$|^\s*(\d\d)(\d\d)\s*$")


class YearLess(ValueError):
    """A date printed without its year (``01/14``, ``0114``): the caller resolves the year."""

    def __init__(self, month: int, day: int) -> None:
        self.month, self.day = month, day
        super().__init__("a date with a year")


def _year(text: str) -> int:
    year = int(text)
    if len(text) <= 2:
        year += 2000 if year < 70 else 1900
    return year


@_memo
def parse_date(text: str, order: str) -> date:
    """Dates as PBXs print them: 21/11/26, 11/ 5/02, 2026/11/21, 2026-11-21 (order MDY, DMY or YMD)."""
    m = _DATE_RE.match(text)
    if m is None:
        compact = text.strip()
        if compact.isdigit() and len(compact) in (6, 8):  # 011416 (MMDDYY), 20260114
            if len(compact) == 8:
                a, b, c = (compact[:4], compact[4:6], compact[6:]) if order == "YMD" or compact[:2] in (
                    "19", "20", "21") else (compact[:2], compact[2:4], compact[4:])
            else:
                a, b, c = compact[:2], compact[2:4], compact[4:]
            return parse_date.__wrapped__(f"{a}/{b}/{c}", order)
        month, day = month_day(text, order)
        raise YearLess(month, day)
    a, b, c = m.groups()
    if order == "YMD" or len(a) == 4:
        y, mo, d = _year(a), int(b), int(c)
    elif order == "DMY":
        d, mo, y = int(a), int(b), _year(c)
    else:
        mo, d, y = int(a), int(b), _year(c)
    if not 1970 <= y <= 2199:  # a PBX clock is never set outside this; arithmetic on it could overflow
        raise ValueError("a date between 1970 and 2199")
    try:
        return date(y, mo, d)
    except ValueError:
        raise ValueError(f"a date in {order} order") from None


def month_day(text: str, order: str) -> tuple[int, int]:
    """Month and day of a year-less date (``01/14``, ``01 14``, ``0114``) in ``order`` (MDY or DMY)."""
    m = _MONTH_DAY_RE.match(text)
    if m is None:
        raise ValueError("a date")
    a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    month, day = (int(b), int(a)) if order == "DMY" else (int(a), int(b))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValueError(f"a date in {order} order")
    return month, day


_TIME_RE = re.compile(r"^\s*(\d{1,2}):?(\d{2})(?::?(\d{2}))?\s*([AaPp])?\.?[Mm]?\.?\s*$")


@_memo
def parse_time(text: str) -> time:
    """12 h (``03:22PM``, `` 3:04PM``, ``12:50 am``) or 24 h (``09:27``, ``17:05:33``, ``1508``, ``150842``)."""
    m = _TIME_RE.match(text)
    if m is None or (":" not in text and len(text.strip()) not in (4, 6)):
        raise ValueError("a time")
    hour, minute = int(m.group(1)), int(m.group(2))
    second = int(m.group(3) or 0)
    half = m.group(4)
    if half:
        if not 1 <= hour <= 12:
            raise ValueError("a 12-hour time")
        hour = hour % 12 + (12 if half in "Pp" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError("a time")
    return time(hour, minute, second)


def parse_datetime(text: str, order: str) -> datetime:
    """A date and a time in one cell: ``2017/07/03 09:12:41``, ``03.07.17 09:12`` (split at the space).

    Not memoized as a whole: such cells are nearly all distinct (IP Office prints one per call, to the
    second). The date part is memoized; ``hh:mm:ss`` is read directly."""
    date_text, _, time_text = text.strip().partition(" ")
    if not time_text:
        raise ValueError("a date and a time")
    day = parse_date(date_text, order)
    t = time_text.strip()
    if len(t) == 8 and t[2] == ":" == t[5] and t[:2].isdigit() and t[3:5].isdigit() and t[6:].isdigit():
        hour, minute, second = int(t[:2]), int(t[3:5]), int(t[6:])
        if hour < 24 and minute < 60 and second < 60:
            return datetime(day.year, day.month, day.day, hour, minute, second)
    return datetime.combine(day, parse_time(time_text))


_DURATION_RE = re.compile(r"""^\s*(?:(\d+):)?(\d+)[:'](\d{1,2})["']?\s*$""")


@_memo
def parse_duration(text: str) -> int:
    """Seconds from ``00:01'23``, ``00:01'23"``, ``01:02:03``, ``0'05``, ``12:05`` (m:ss) or plain seconds."""
    stripped = text.strip()
    if not stripped:
        return 0
    if stripped.isdigit():
        return int(stripped)
    m = _DURATION_RE.match(stripped)
    if m is None:
        raise ValueError("a duration")
    hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2)), int(m.group(3))
    if seconds > 59:
        raise ValueError("a duration")
    return hours * 3600 + minutes * 60 + seconds


@_memo
def parse_duration_tenths(text: str) -> int:
    """Seconds from Avaya's hours, minutes and tenths of a minute: ``0123`` is 0 h 12.3 min (738 s)."""
    digits = text.strip()
    if not digits:
        return 0
    if not digits.isdigit() or len(digits) > 5:
        raise ValueError("hours, minutes and tenths (hmmt)")
    tenths, minutes, hours = int(digits[-1]), int(digits[-3:-1] or 0), int(digits[:-3] or 0)
    if minutes > 59:
        raise ValueError("hours, minutes and tenths (hmmt)")
    return hours * 3600 + minutes * 60 + tenths * 6


def parse_phone(text: str) -> str:
    """A party number as a PBX prints it: spaces go, and a SIP host part (``12345@192.0.2.123``)."""
    return text.strip().partition("@")[0].replace(" ", "")


def parse_int(text: str) -> int:
    stripped = text.strip()
    if not stripped:
        return 0
    try:
        return int(stripped)
    except ValueError:
        raise ValueError("a whole number") from None


def converter(type_name: str, date_order: str):
    """The function a compiled layout calls for a field of ``type_name``: text -> value."""
    if type_name == "date":
        return lambda text: parse_date(text, date_order)
    if type_name == "time":
        return parse_time
    if type_name in ("duration", "ring"):
        return parse_duration
    if type_name == "duration_tenths":
        return parse_duration_tenths
    if type_name == "int":
        return parse_int
    raise KeyError(type_name)
