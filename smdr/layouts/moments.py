"""A record's date and time, read through memo dicts: the part of a compiled layout that makes ``when``.

The generated code looks the printed text up itself (``_when.get(key)``) and calls the reader here on
a miss. A miss must be cheap too: a PBX that prints the time to the second (HiPath, IP Office) prints
a new text on nearly every record, so the whole text is rarely seen twice. Its minute is: the reader
keeps the datetime of each minute printed as ``...hh:mm:`` and adds the seconds to it, and goes
through the full converters (fields.py) only once per minute, for texts of another form, and for the
errors. What the shortcut gives is what the converters give for the same text (the minute is only
noted from a text whose time part is plain ``[h]h:mm:ss`` in ASCII digits).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from . import fields as conv
from .fields import FieldError, YearLess
from .record import ParserContext, RecordRejected

CACHE_LIMIT = 8192
SECONDS = {f"{n:02d}": timedelta(seconds=n) for n in range(60)}  # the two digits that end a time -> seconds
_PLAIN_TIME = re.compile(r" *[0-9]{1,2}:[0-9]{2}:[0-9]{2}")  # what parse_time reads as hour, minute, second


def _bounded_set(cache: dict, key: object, value: object) -> None:
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def date_time_reader(order: str, ctx: ParserContext) -> tuple[dict, Callable[[str, str, object], datetime]]:
    """The memo of date and time texts (two fields) -> datetime, and what reads a text it does not hold.
    ``key`` is the generated code's memo key for the pair (one slice of the record, or a tuple)."""
    whens: dict[object, datetime] = {}
    days: dict[str, date] = {}        # date text -> date (dates printed with their year only)
    moments: dict[str, time] = {}     # time text -> time of day
    minutes: dict[tuple[str, str], datetime] = {}  # (date text, time text less its seconds) -> the minute

    def read(date_text: str, time_text: str, key: object) -> datetime:
        seconds = SECONDS.get(time_text[-2:])
        if seconds is not None and time_text[-3:-2] == ":":
            minute = minutes.get((date_text, time_text[:-2]))
            if minute is not None:
                value = minute + seconds
                _bounded_set(whens, key, value)
                return value
        day, moment = days.get(date_text), moments.get(time_text)
        if day is None:
            try:
                day = conv.parse_date(date_text, order)
            except YearLess as missing:
                try:  # the year depends on when the record was received: not memoized
                    return datetime.combine(ctx.resolve_year(missing.month, missing.day), _time(time_text))
                except ValueError as exc:
                    raise RecordRejected("bad-field", str(FieldError("date", date_text, str(exc)))) from None
            except ValueError as exc:
                raise RecordRejected("bad-field", str(FieldError("date", date_text, str(exc)))) from None
            _bounded_set(days, date_text, day)
        if moment is None:
            moment = _time(time_text)
            _bounded_set(moments, time_text, moment)
        value = datetime.combine(day, moment)
        _bounded_set(whens, key, value)
        if seconds is not None and _PLAIN_TIME.fullmatch(time_text):
            _bounded_set(minutes, (date_text, time_text[:-2]), value - seconds)
        return value

    return whens, read


def _time(text: str) -> time:
    try:
        return conv.parse_time(text)
    except ValueError as exc:
        raise RecordRejected("bad-field", str(FieldError("time", text, str(exc)))) from None


_PLAIN_DATETIME_TIME = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}")  # parse_datetime's own hh:mm:ss branch


def datetime_reader(order: str) -> tuple[dict, Callable[[str], datetime]]:
    """The memo of one-cell date-and-time texts -> datetime, and what reads a text it does not hold."""
    whens: dict[str, datetime] = {}
    minutes: dict[str, datetime] = {}  # the text less its seconds -> the minute

    def read(text: str) -> datetime:
        seconds = SECONDS.get(text[-2:])
        if seconds is not None and text[-3:-2] == ":":
            minute = minutes.get(text[:-2])
            if minute is not None:
                value = minute + seconds
                _bounded_set(whens, text, value)
                return value
        try:
            value = conv.parse_datetime(text, order)
        except ValueError as exc:
            raise RecordRejected("bad-field", str(FieldError("datetime", text, str(exc)))) from None
        _bounded_set(whens, text, value)
        # the same date text, and a time part parse_datetime reads as hh:mm:ss: any other two seconds
        # digits give this minute plus those seconds
        if seconds is not None and _PLAIN_DATETIME_TIME.fullmatch(text.strip().partition(" ")[2].strip()):
            _bounded_set(minutes, text[:-2], value - seconds)
        return value

    return whens, read
