"""Avaya IP Office SMDR (parsers/avaya-ipoffice.yaml): every release's field count, bad bytes, call ids
numbered again after a restart, and the engine parts the layout needs (sums in `set:`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cli_support import write_file

from smdr import layouts
from smdr.decoder import Decoder
from smdr.errors import ConfigError
from smdr.normalize import Localizer, PhoneRules, zone
from smdr.quarantine import Quarantine

TEHRAN = zone("Asia/Tehran")
# 17 fields, as the old releases print them (vendor "External Call" pattern, Persian party name)
BASE = ("2026/11/21 09:00:05,00:02:10,6,09121234567@10.10.0.5,I,201,88001201,,0,1004001,0,E201,علی رضایی,T9001,"
        "Line 1.1,3,2")


def decoder(quarantine: Quarantine | None = None) -> Decoder:
    info = layouts.find("avaya-ipoffice")
    return Decoder("ipo", info.compile(), localize=Localizer(TEHRAN), phone=PhoneRules(), fold=info.fold,
                   quarantine=quarantine)


def summary(event) -> tuple:
    return (event.direction, event.event, event.agent, event.phone, event.linename, event.duration,
            event.starttime.isoformat(), event.endtime.isoformat())


@pytest.mark.parametrize("count", range(17, 38))
def test_every_release_field_count_gives_the_same_call(count: int) -> None:
    tail = ["0", "n/a", "Ali", "   0.0618", "IRR", "0001.45", "1", "0", "618", "1.00", "U XfP", "Ali", "0912",
            "10.0.0.1", "48211", "10.0.0.2", "48214", "2026/11/21 09:02:30", "1", "x"][:count - 17]
    line = ",".join([BASE, *tail]) if tail else BASE
    assert line.count(",") + 1 == count
    (event,) = decoder().feed(line.encode("utf-8") + b"\r\n")
    # talk 130 s; the end adds ring 6, hold 3 and park 2: 09:00:05 + 141 s
    assert summary(event) == ("inbound", "answered", "201", "09121234567", "Line 1.1", 130,
                              "2026-11-21T09:00:05+03:30", "2026-11-21T09:02:26+03:30")


@pytest.mark.parametrize("raw", [
    BASE.replace("علی رضایی", "نيما").encode("cp1256"),          # a name in a Windows code page
    BASE.encode("utf-8")[:60] + b"\xff\xfe" + BASE.encode("utf-8")[60:],  # stray bytes in a field
    BASE.encode("utf-8")[:75],                                     # a record cut in its 7th field
    BASE.replace(",I,", ",X,").encode("utf-8"),                    # a Direction no source lists
    BASE.replace(",1004001,0,", ",1004001,7,").encode("utf-8"),    # a Continuation no source lists
    BASE.replace("00:02:10", "00:0x:10").encode("utf-8"),          # a Connected Time that is no time
])
def test_bad_records_are_quarantined_with_their_bytes_and_the_next_one_is_read(raw: bytes) -> None:
    quarantine = Quarantine(None)
    kept: list[bytes] = []
    original = quarantine.add

    def add(data: bytes, **kw) -> None:
        kept.append(data)
        original(data, **kw)

    quarantine.add = add  # type: ignore[method-assign]
    d = decoder(quarantine)
    events = d.feed(raw + b"\r\n" + BASE.encode("utf-8") + b"\r\n")
    assert kept == [raw]
    assert [e.agent for e in events] == ["201"]
    assert sum(quarantine.counts.values()) == 1


def test_a_call_id_numbered_again_after_a_restart_is_a_new_call() -> None:
    d = decoder()
    received = datetime(2026, 11, 21, 9, 5, tzinfo=TEHRAN)
    first_segment = BASE.replace(",1004001,0,", ",1004001,1,")
    (opened,) = d.feed(first_segment.encode("utf-8") + b"\r\n", received)
    assert opened.event == "transferred"
    # the IP Office restarted (its last segment never came) and gives the same Call ID to a call an hour later
    later = BASE.replace("09:00:05", "10:00:05")
    closed, new = d.feed(later.encode("utf-8") + b"\r\n", received + timedelta(hours=1))
    assert (closed.call_id, closed.event, closed.duration) == (opened.call_id, "answered", 130)
    assert new.call_id != opened.call_id and new.starttime.isoformat() == "2026-11-21T10:00:05+03:30"
    # and a finished call's id printed again later is a new call too, not a late segment of it
    again = BASE.replace("09:00:05", "11:00:05")
    (third,) = d.feed(again.encode("utf-8") + b"\r\n", received + timedelta(hours=2))
    assert third.call_id not in (opened.call_id, new.call_id) and third.duration == 130


def test_a_voicemail_segment_is_not_talk_but_stays_inside_the_call() -> None:
    d = decoder()
    answered = BASE.replace(",1004001,0,", ",1004001,1,")
    voicemail = ("2026/11/21 09:00:05,00:00:25,0,09121234567,I,201,88001201,,0,1004001,0,V9502,VM Channel 2,"
                 "T9001,Line 1.1,0,0")
    _, last = d.feed(f"{answered}\r\n{voicemail}\r\n".encode())
    assert (last.event, last.agent, last.duration) == ("answered", "201", 130)
    assert last.endtime - last.starttime == timedelta(seconds=6 + 130 + 3 + 2 + 25)
    (only_voicemail,) = decoder().feed(voicemail.replace(",1004001,", ",1004002,").encode() + b"\r\n")
    assert (only_voicemail.event, only_voicemail.agent, only_voicemail.duration) == ("no_answer", None, 0)


SUMS = """
layout: sums
format: csv
quoting: false
time_is: start
fields:
  datetime: {index: 0}
  talk: {index: 1, type: int}
  hold: {index: 2, type: int}
  park: {index: 3, type: int}
  kind: {index: 4}
generic: {duration: talk, held: hold}
rules:
  - set: {direction: inbound}
  - when: {kind: machine}
    set: {held: '{held} + {talk}+{park}', duration: 0}
"""


def test_an_int_output_may_add_up_references(tmp_path: Path) -> None:
    info = layouts.find(str(write_file(tmp_path / "sums.yaml", SUMS)))
    d = Decoder("s", info.compile(), localize=Localizer(TEHRAN), phone=PhoneRules())
    person, machine = d.feed(b"2026/11/21 09:00:00,30,5,0,person\r\n2026/11/21 09:10:00,30,5,7,machine\r\n")
    assert (person.duration, (person.endtime - person.starttime).seconds) == (30, 35)
    assert (machine.duration, (machine.endtime - machine.starttime).seconds) == (0, 42)


@pytest.mark.parametrize("value", ["'{held} - {talk}'", "'{held} {talk}'", "'x{held}'", "'{held} +'"])
def test_an_int_output_that_is_not_a_sum_is_refused_where_it_is_written(tmp_path: Path, value: str) -> None:
    text = SUMS.replace("'{held} + {talk}+{park}'", value)
    with pytest.raises(ConfigError, match=r"sums.yaml:15 .*held is seconds"):
        layouts.read_layout_file(write_file(tmp_path / "sums.yaml", text))
