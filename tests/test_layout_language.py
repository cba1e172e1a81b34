"""The layout language beyond Panasonic: date-less and year-less records, date records, combined date-time
cells, hhmm times, tenths of minutes, sentinels, summed outputs, plain-split CSV, the phone type."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from cli_support import events_of, run_smdr, write_file

from smdr import layouts
from smdr.decoder import Decoder
from smdr.errors import ConfigError
from smdr.layouts import ParserContext
from smdr.layouts.fields import YearLess, month_day, parse_date, parse_duration_tenths, parse_phone, parse_time
from smdr.normalize import Localizer, PhoneRules, zone

TEHRAN = zone("Asia/Tehran")


def decoder_for(path: Path, context: ParserContext) -> Decoder:
    info = layouts.find(str(path))
    parser = info.compile(None, context)
    return Decoder("pbx", parser, localize=Localizer(TEHRAN), phone=PhoneRules(), fold=info.fold, context=context)


def test_field_readers_for_other_vendors() -> None:
    assert parse_time("1508") == time(15, 8)
    assert parse_time("150842") == time(15, 8, 42)
    with pytest.raises(ValueError):
        parse_time("158")  # three digits: neither hhmm nor hh:mm
    assert parse_date("011416", "MDY") == date(2016, 1, 14)
    assert parse_date("140116", "DMY") == date(2016, 1, 14)
    assert parse_date("20160114", "DMY") == date(2016, 1, 14)
    with pytest.raises(YearLess) as missing:
        parse_date("01/14", "MDY")
    assert (missing.value.month, missing.value.day) == (1, 14)
    assert month_day("14 01", "DMY") == (1, 14)
    assert month_day("0114", "MDY") == (1, 14)
    with pytest.raises(ValueError):
        month_day("13/40", "MDY")
    assert parse_duration_tenths("0123") == 12 * 60 + 18
    assert parse_duration_tenths("1000") == 3600
    assert parse_duration_tenths("    ") == 0
    with pytest.raises(ValueError):
        parse_duration_tenths("0703")  # 70 minutes is not a minute count
    assert parse_phone(" 12345@192.0.2.123 ") == "12345"


def test_year_is_the_latest_not_in_the_future_of_the_received_time() -> None:
    ctx = ParserContext(received_at=datetime(2026, 1, 3, 10, 0, tzinfo=TEHRAN))
    assert ctx.resolve_year(12, 30) == date(2025, 12, 30)
    assert ctx.resolve_year(1, 2) == date(2026, 1, 2)
    assert ctx.resolve_year(1, 4) == date(2026, 1, 4)   # a day of slack for a PBX clock ahead of ours
    assert ctx.resolve_year(1, 9) == date(2025, 1, 9)
    leap = ParserContext(reference_date=date(2026, 3, 1))
    assert leap.resolve_year(2, 29) == date(2024, 2, 29)


CM_LIKE = """
layout: cm-like
format: fixed
time_is: end
date_order: MDY
fields:
  time: {cols: [0, 3], type: time}
  dur: {cols: [5, 8], type: duration_tenths, unknown: ["9999"]}
  cond: {cols: [10, 10]}
  num: {cols: [12, 21]}
date_records:
  - {match: '^\\d\\d:\\d\\d (?P<date>\\d\\d/\\d\\d)$'}
  - {match: '^(?P<date>\\d\\d \\d\\d)$'}
generic: {phone: num, duration: dur}
rules:
  - set: {direction: inbound}
"""


def cm_line(hhmm: str, dur: str, num: str) -> bytes:
    return f"{hhmm} {dur} 9 {num:>10}".encode() + b"\r\n\x00\x00\x00"


def test_date_records_and_midnight_give_every_record_its_date(tmp_path: Path) -> None:
    layout = write_file(tmp_path / "cm.yaml", CM_LIKE)
    ctx = ParserContext(received_at=datetime(2026, 1, 20, 9, 0, tzinfo=TEHRAN))
    d = decoder_for(layout, ctx)
    stream = (b"15:04 12/31\r\n\x00\x00\x00" + cm_line("2350", "0012", "02188776655")
              + cm_line("0005", "0100", "09121234567")       # past midnight, before any date record
              + b"01 01\r\n\x00\x00\x00"                      # the PBX's midnight date record
              + cm_line("0010", "0015", "09121234567") + cm_line("0012", "9999", "02188776655"))
    events = d.feed(stream) + d.finish()
    assert d.quarantine.total == 0
    ends = [e.endtime.isoformat() for e in events]
    assert ends == ["2025-12-31T23:50:00+03:30", "2026-01-01T00:05:00+03:30", "2026-01-01T00:10:00+03:30",
                    "2026-01-01T00:12:00+03:30"]
    assert [e.duration for e in events] == [72, 600, 90, 0]
    assert events[0].starttime == events[0].endtime - timedelta(seconds=72)
    assert events[3].starttime == events[3].endtime  # 9999: the length is not known, the start is not guessed
    assert d.stats.skipped == {"date-record": 2}
    # the same line on another day is another call: the call_id includes the resolved date
    again = decoder_for(layout, ParserContext(received_at=datetime(2026, 1, 20, 9, 0, tzinfo=TEHRAN)))
    later = again.feed(b"15:04 12/30\r\n" + cm_line("2350", "0012", "02188776655"))
    assert later[0].call_id != events[0].call_id


def test_a_replay_gives_the_same_ids_and_dates_as_the_live_run(tmp_path: Path) -> None:
    layout = write_file(tmp_path / "cm.yaml", CM_LIKE)
    stream = b"15:04 01/14\r\n" + cm_line("1508", "0012", "02188776655")

    def run() -> list:
        d = decoder_for(layout, ParserContext(received_at=datetime(2026, 1, 14, 15, 9, tzinfo=TEHRAN)))
        return d.feed(stream)

    assert [e.to_dict() for e in run()] == [e.to_dict() for e in run()]


IPO_LIKE = """
layout: ipo-like
format: csv
quoting: false
time_is: start
fold: call_ref
fields:
  datetime: {index: 0}
  connected: {index: 1, type: duration}
  ring: {index: 2, type: int}
  caller: {index: 3, type: phone}
  dir: {index: 4}
  callid: {index: 5}
  cont: {index: 6}
  party: {index: 7}
  hold: {index: 8, type: int}
  park: {index: 9, type: int}
generic: {phone: caller, duration: connected, ring: ring, held: [hold, park], call_ref: callid}
rules:
  - set: {direction: inbound}
  - when: {party: {match: '^E(?P<ext>\\d+)$'}}
    set: {agent: '{ext}'}
  - when: {cont: "1"}
    set: {more: true}
  - when: {connected: 0}
    set: {event: no_answer}
"""


def test_segments_sharing_a_call_id_are_one_call(tmp_path: Path) -> None:
    layout = write_file(tmp_path / "ipo.yaml", IPO_LIKE)
    stream = (b"2026/11/21 09:30:57,00:00:13,7,09121234567@10.0.0.5,I,1000014160,1,E4750,11,0\r\n"
              b"2026/11/21 09:31:05,00:00:00,5,02188776655,I,1000014161,0,E4751,0,0\r\n"
              b"2026/11/21 09:30:57,00:00:21,0,09121234567,I,1000014160,0,V9502,0,0\r\n")
    d = decoder_for(layout, ParserContext())
    first, lost, last = d.feed(stream)
    assert first.call_id == last.call_id != lost.call_id
    assert (first.event, first.agent, first.duration, first.phone) == ("transferred", "4750", 13, "09121234567")
    # voicemail is no agent: the extension that handled the call stays; talk is summed
    assert (last.event, last.agent, last.duration) == ("answered", "4750", 34)
    assert last.starttime.isoformat() == "2026-11-21T09:30:57+03:30"
    # each segment adds its own ring + talk + hold after the previous one: 7+13+11, then 0+21
    assert last.endtime - last.starttime == timedelta(seconds=52)
    assert (lost.event, lost.duration, lost.agent) == ("no_answer", 0, "4751")


def test_a_call_whose_last_segment_never_comes_is_closed_by_the_timer(tmp_path: Path) -> None:
    layout = write_file(tmp_path / "ipo.yaml", IPO_LIKE)
    d = decoder_for(layout, ParserContext())
    received = datetime(2026, 11, 21, 9, 32, tzinfo=TEHRAN)
    (open_event,) = d.feed(b"2026/11/21 09:30:57,00:00:13,7,0912,I,77,1,E4750,0,0\r\n", received)
    assert d.tick_interval and d.tick(received + timedelta(minutes=5)) == []
    (closed,) = d.tick(received + timedelta(minutes=11))
    assert (closed.call_id, closed.event, closed.duration, closed.agent) == (open_event.call_id, "answered", 13, "4750")
    assert d.tick(received + timedelta(minutes=30)) == []


def test_sums_and_types_are_checked_when_the_layout_loads(tmp_path: Path) -> None:
    bad_sum = IPO_LIKE.replace("held: [hold, park]", "held: [hold, party]")
    with pytest.raises(ConfigError, match="must be a number field"):
        layouts.read_layout_file(write_file(tmp_path / "a.yaml", bad_sum))
    bad_unknown = CM_LIKE.replace('num: {cols: [12, 21]}', 'num: {cols: [12, 21], unknown: ["x"]}')
    with pytest.raises(ConfigError, match="number fields"):
        layouts.read_layout_file(write_file(tmp_path / "b.yaml", bad_unknown))
    both = IPO_LIKE.replace("  connected:", "  time: {index: 10, type: time}\n  connected:")
    with pytest.raises(ConfigError, match="either a 'datetime' field"):
        layouts.read_layout_file(write_file(tmp_path / "c.yaml", both))
    dated = CM_LIKE.replace("  time:", "  date: {cols: [30, 37], type: date}\n  time:")
    with pytest.raises(ConfigError, match="date_records"):
        layouts.read_layout_file(write_file(tmp_path / "d.yaml", dated))


def test_reference_date_places_a_capture_without_dates(tmp_path: Path) -> None:
    layout = write_file(tmp_path / "cm.yaml", CM_LIKE)
    capture = tmp_path / "cm.cdr"
    capture.write_bytes(b"15:04 01/14\r\n" + cm_line("1508", "0012", "02188776655"))
    result = run_smdr("parse", str(capture), "--layout", str(layout), "--reference-date", "2027-02-01", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (event,) = events_of(result.stdout)
    assert event["endtime"] == "2027-01-14T15:08:00+03:30"
    bad = run_smdr("parse", str(capture), "--layout", str(layout), "--reference-date", "14/01/2027", cwd=tmp_path)
    assert bad.returncode == 2 and "2026-01-14" in bad.stderr


def test_true_and_false_in_conditions_on_flags_are_booleans(tmp_path: Path) -> None:
    text = IPO_LIKE.replace('''  - when: {connected: 0}''', '''  - when: {more: false, cont: "0"}
    set: {account: last}
  - when: {connected: 0}''')
    layout = write_file(tmp_path / "ipo.yaml", text)
    parser = layouts.find(str(layout)).compile()
    last = parser.parse(b"2026/11/21 09:30:57,00:00:21,0,0912,I,77,0,E4750,0,0")
    more = parser.parse(b"2026/11/21 09:30:57,00:00:21,0,0912,I,77,1,E4750,0,0")
    assert (last.account, more.account) == ("last", None)
