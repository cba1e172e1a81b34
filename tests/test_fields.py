"""Typed field converters: dates, times and durations as PBXs print them."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from smdr.layouts.fields import converter, parse_date, parse_datetime, parse_duration, parse_int, parse_time


@pytest.mark.parametrize(("text", "order", "expected"), [
    ("11/21/26", "MDY", date(2026, 11, 21)),
    ("21/11/26", "DMY", date(2026, 11, 21)),
    ("26/11/21", "YMD", date(2026, 11, 21)),
    ("11/ 5/02", "MDY", date(2002, 11, 5)),     # KX-TES space padding
    (" 6/12/02", "DMY", date(2002, 12, 6)),     # KX-TA space padding
    ("12/ 5/26", "MDY", date(2026, 12, 5)),
    (" 7/12/26", "DMY", date(2026, 12, 7)),
    ("11/21/2026", "MDY", date(2026, 11, 21)),
    ("21/11/2026", "DMY", date(2026, 11, 21)),
    ("2026/11/21", "YMD", date(2026, 11, 21)),
    ("2026-11-21", "DMY", date(2026, 11, 21)),  # a 4-digit first part is always the year
    ("21.11.26", "DMY", date(2026, 11, 21)),
    ("01/02/69", "MDY", date(2069, 1, 2)),      # two-digit years: 00-69 -> 20xx
    ("01/02/70", "MDY", date(1970, 1, 2)),      # 70-99 -> 19xx
])
def test_dates(text: str, order: str, expected: date) -> None:
    assert parse_date(text, order) == expected


def test_same_text_different_order_gives_different_dates() -> None:
    assert parse_date("05/06/26", "MDY") == date(2026, 5, 6)
    assert parse_date("05/06/26", "DMY") == date(2026, 6, 5)


@pytest.mark.parametrize(("text", "order"), [
    ("31/02/26", "DMY"),   # 31 February
    ("02/31/26", "MDY"),
    ("21/11/26", "MDY"),   # month 21
    ("00/01/26", "DMY"),
    ("**/**/**", "DMY"),
    ("", "MDY"),
    ("11/21", "MDY"),
    ("ab/cd/ef", "MDY"),
])
def test_invalid_dates_raise_value_error(text: str, order: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text, order)


@pytest.mark.parametrize(("text", "expected"), [
    ("12:05AM", time(0, 5)),
    ("12:05PM", time(12, 5)),
    ("12:00AM", time(0, 0)),
    ("01:03PM", time(13, 3)),
    ("08:03AM", time(8, 3)),
    (" 3:04PM", time(15, 4)),
    ("  9:04AM", time(9, 4)),
    ("11:59PM", time(23, 59)),
    ("12:50 am", time(0, 50)),
    ("09:27  ", time(9, 27)),      # KX-TDA 24 h with the two trailing spaces
    ("00:00", time(0, 0)),
    ("23:59", time(23, 59)),
    ("17:05:33", time(17, 5, 33)),
])
def test_times(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["13:00PM", "00:05AM", "24:00", "12:60", "9:5", "**:****", "", "noon", "10:61PM"])
def test_invalid_times_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)


@pytest.mark.parametrize(("text", "seconds"), [
    ("00:01'23", 83),
    ("00:01'23\"", 83),
    ("0'05", 5),
    ("1'05", 65),
    ("0'00", 0),
    ("99:59'59\"", 99 * 3600 + 59 * 60 + 59),
    ("01:02:03", 3723),
    ("  00:22'22 ", 1342),
    ("", 0),
    ("        ", 0),
    ("42", 42),
])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["garbage", "*'**", "**:**'**", "1'60", "00:01'75\"", "1:2:3:4", "-5", "1''05"])
def test_invalid_durations_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_parse_int() -> None:
    assert parse_int(" 42 ") == 42
    assert parse_int("   ") == 0
    with pytest.raises(ValueError):
        parse_int("4 2")


def test_parse_datetime_splits_at_the_space() -> None:
    assert parse_datetime("21/11/26 08:03AM", "DMY") == datetime(2026, 11, 21, 8, 3)


def test_memoized_converters_still_raise_on_repeat() -> None:
    # a failure must not be cached as a value
    for _ in range(2):
        with pytest.raises(ValueError):
            parse_date("31/02/26", "DMY")
        with pytest.raises(ValueError):
            parse_duration("xx")


def test_converter_dispatch() -> None:
    assert converter("date", "DMY")("05/06/26") == date(2026, 6, 5)
    assert converter("date", "MDY")("05/06/26") == date(2026, 5, 6)
    assert converter("time", "MDY")(" 3:04PM") == time(15, 4)
    assert converter("ring", "MDY")("0'07") == 7
    assert converter("duration", "MDY")("00:02'14") == 134
    assert converter("int", "MDY")("17") == 17
    with pytest.raises(KeyError):
        converter("phone", "MDY")
