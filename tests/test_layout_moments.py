"""The memoized date and time readers (layouts/moments.py) give what the converters give, text by text.

The readers note a minute's datetime and add the seconds of the next texts of that minute; these
tests feed one reader many texts (so the shortcut is taken wherever it can be) and compare every
answer, value or rejection, with the converters of fields.py called on that text alone.
"""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from smdr.layouts import fields as conv
from smdr.layouts.fields import YearLess
from smdr.layouts.moments import date_time_reader, datetime_reader
from smdr.layouts.record import ParserContext, RecordRejected

DATES = ["21/11/26", "14.12.26", "2026/11/21", "2026-11-21", "11/ 5/02", " 1/ 2/26", "31/02/26", "01/14", "0114",
         "21/11/1969", "٢١/١١/٢٦", "xx/yy/zz", ""]
TIMES = ["08:01:07", " 8:01:07", "08:01", "0801", "080107", "0801:07", "801:07", "12:", "12:00", "12:34",
         "03:22PM", "12:50 am", "23:59:59", "24:00:00", "08:60:00", "08:01:60", "08:01:٠٧", "08:01:0 ", "8:1:07",
         "08:01:07:09", "080107:09", ""]
SECONDS = ["00", "07", "30", "59", "60", "٠٧", " 7"]


def texts(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Date and time texts, many of them sharing a minute with one seen before."""
    out = []
    for _ in range(count):
        day, moment = rng.choice(DATES), rng.choice(TIMES)
        if rng.random() < 0.6 and len(moment) >= 2:
            moment = moment[:-2] + rng.choice(SECONDS)
        out.append((day, moment))
    return out


def reference_pair(day: str, moment: str, ctx: ParserContext) -> object:
    try:
        try:
            printed = conv.parse_date(day, "DMY")
        except YearLess as missing:
            printed = ctx.resolve_year(missing.month, missing.day)
    except ValueError:
        return "bad date"
    try:
        return datetime.combine(printed, conv.parse_time(moment))
    except ValueError:
        return "bad time"


def answer(read, *args: object) -> object:
    try:
        return read(*args)
    except RecordRejected as exc:
        return "bad date" if "field 'date'" in exc.detail else "bad time" if "field 'time'" in exc.detail else \
            "bad datetime"


def test_date_and_time_fields_read_as_the_converters_read_them() -> None:
    ctx = ParserContext(reference_date=date(2026, 12, 1))
    whens, read = date_time_reader("DMY", ctx)
    for day, moment in texts(random.Random(11), 20_000):
        key = (day, moment)
        got = whens.get(key) or answer(read, day, moment, key)
        assert got == reference_pair(day, moment, ctx), (day, moment)


def test_a_minute_is_taken_only_from_a_plain_time() -> None:
    _whens, read = date_time_reader("DMY", ParserContext(reference_date=date(2026, 12, 1)))
    assert read("21/11/26", "12:00", 1) == datetime(2026, 11, 21, 12, 0)  # "12:" + "00" is 12:00, no seconds
    assert read("21/11/26", "12:34", 2) == datetime(2026, 11, 21, 12, 34)
    assert read("21/11/26", "08:01:07", 3) == datetime(2026, 11, 21, 8, 1, 7)
    assert read("21/11/26", "08:01:59", 4) == datetime(2026, 11, 21, 8, 1, 59)  # from the minute
    with pytest.raises(RecordRejected):
        read("21/11/26", "08:01:60", 5)


def test_one_cell_date_and_time_reads_as_parse_datetime_reads_it() -> None:
    rng = random.Random(12)
    whens, read = datetime_reader("YMD")
    cells = [f"{rng.choice(DATES[:5])}{rng.choice([' ', '  '])}{rng.choice(TIMES)}" for _ in range(400)]
    for _ in range(20_000):
        cell = rng.choice(cells)
        if rng.random() < 0.6:
            cell = cell[:-2] + rng.choice(SECONDS)
        try:
            expected: object = conv.parse_datetime(cell, "YMD")
        except ValueError:
            expected = "bad datetime"
        got = whens.get(cell) or answer(read, cell)
        assert got == expected, cell
