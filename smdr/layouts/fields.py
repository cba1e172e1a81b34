"""Typed field converters used by compiled layouts.

Each converter takes the field's text (already cut out of the record) and returns a value or raises
``FieldError``. Converters that are called for every record with few distinct inputs (dates, times,
durations) memoize their results in a bounded dict: a day of SMDR has a few hundred distinct dates
and minutes, so this turns string parsing into one dict lookup.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

FIELD_TYPES = ("str", "int", "date", "time", "datetime", "duration", "ring", "phone")
DATE_ORDERS = ("MDY", "DMY", "YMD")
_CACHE_LIMIT = 8192


class FieldError(ValueError):
    """A field's text is not what its type expects."""

    def __init__(self, field: str, text: str, expected: str) -> None:
        self.field, self.text, self.expected = field, text, expected
        super().__init__(f"field '{field}': {text.strip()!r} is not {expected}")


def _memo(func):
    cache: dict = {}

    def cached(text: str, *args):
        key = (text, *args) if args else text
        try:
            return cache[key]
        except KeyError:
            pass
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        value = cache[key] = func(text, *args)
        return value

    cached.__wrapped__ = func
    cached.__name__ = func.__name__
    return cached


_DATE_RE = re.compile(r"^\s*(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{1,4})\s*$")


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
        raise ValueError("a date")
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


_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp])?\.?[Mm]?\.?\s*$")


@_memo
def parse_time(text: str) -> time:
    """12 h (``03:22PM``, `` 3:04PM``, ``12:50 am``) or 24 h (``09:27``, ``17:05:33``) times."""
    m = _TIME_RE.match(text)
    if m is None:
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


@_memo
def parse_datetime(text: str, order: str, split: int) -> datetime:
    """Date and time cut as one slice (faster: one cache lookup); ``split`` is where the time starts."""
    return datetime.combine(parse_date(text[:split], order), parse_time(text[split:]))


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
    if type_name == "int":
        return parse_int
    raise KeyError(type_name)
