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

from ..memo import Memo
from . import fields as conv
from .fields import FieldError, YearLess
from .record import ParserContext, RecordRejected

SECONDS = {f"{n:02d}": timedelta(seconds=n) for n in range(60)}  # the two digits that end a time -> seconds
_PLAIN_TIME = re.compile(r" *[0-9]{1,2}:[0-9]{2}:[0-9]{2}")  # what parse_time reads as hour, minute, second


def date_time_reader(order: str, ctx: ParserContext) -> tuple[dict, Callable[[str, str, object], datetime]]:
    """The memo of date and time texts (two fields) -> datetime, and what reads a text it does not hold.
    ``key`` is the generated code's memo key for the pair (one slice of the record, or a tuple)."""
    memo: Memo[object, datetime] = Memo()
    remember = memo.put
    days: Memo[str, date] = Memo()      # date text -> date (dates printed with their year only)
    moments: Memo[str, time] = Memo()   # time text -> time of day
    minutes: Memo[tuple[str, str], datetime] = Memo()  # (date text, time text less its seconds) -> the minute
    known_days, known_moments, known_minutes = days.entries, moments.entries, minutes.entries

    def read(date_text: str, time_text: str, key: object) -> datetime:
        seconds = SECONDS.get(time_text[-2:])
        if seconds is not None and time_text[-3:-2] == ":":
            minute = known_minutes.get((date_text, time_text[:-2]))
            if minute is not None:
                return remember(key, minute + seconds)
        day, moment = known_days.get(date_text), known_moments.get(time_text)
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
            days.put(date_text, day)
        if moment is None:
            moment = moments.put(time_text, _time(time_text))
        value = remember(key, datetime.combine(day, moment))
        if seconds is not None and _PLAIN_TIME.fullmatch(time_text):
            minutes.put((date_text, time_text[:-2]), value - seconds)
        return value

    return memo.entries, read


def _time(text: str) -> time:
    try:
        return conv.parse_time(text)
    except ValueError as exc:
        raise RecordRejected("bad-field", str(FieldError("time", text, str(exc)))) from None


_PLAIN_DATETIME_TIME = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}")  # parse_datetime's own hh:mm:ss branch


def datetime_reader(order: str) -> tuple[dict, Callable[[str], datetime]]:
    """The memo of one-cell date-and-time texts -> datetime, and what reads a text it does not hold."""
    memo: Memo[str, datetime] = Memo()
    remember = memo.put
    minutes: Memo[str, datetime] = Memo()  # the text less its seconds -> the minute
    known_minutes = minutes.entries

    def read(text: str) -> datetime:
        seconds = SECONDS.get(text[-2:])
        if seconds is not None and text[-3:-2] == ":":
            minute = known_minutes.get(text[:-2])
            if minute is not None:
                return remember(text, minute + seconds)
        try:
            value = conv.parse_datetime(text, order)
        except ValueError as exc:
            raise RecordRejected("bad-field", str(FieldError("datetime", text, str(exc)))) from None
        remember(text, value)
        # the same date text, and a time part parse_datetime reads as hh:mm:ss: any other two seconds
        # digits give this minute plus those seconds
        if seconds is not None and _PLAIN_DATETIME_TIME.fullmatch(text.strip().partition(" ")[2].strip()):
            minutes.put(text[:-2], value - seconds)
        return value

    return memo.entries, read
