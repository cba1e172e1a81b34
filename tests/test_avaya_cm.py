"""Avaya CM specifics the goldens do not show: received-time records (LSU), an unreadable date record,
NUL padding and records split across reads, the G ring record folded into its call, unlisted codes."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cli_support import write_file

from smdr import layouts
from smdr.decoder import Decoder
from smdr.errors import ConfigError
from smdr.layouts import ParserContext
from smdr.normalize import Localizer, PhoneRules, zone
from smdr.quarantine import Quarantine

TEHRAN = zone("Asia/Tehran")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "avaya-cm"
TAIL = b"\r\n\x00\x00\x00"


def decoder(layout: str, context: ParserContext, quarantine: Quarantine | None = None) -> Decoder:
    info = layouts.find(layout)
    return Decoder("cm", info.compile(None, context), localize=Localizer(TEHRAN), phone=PhoneRules(),
                   quarantine=quarantine, fold=info.fold, context=context, tolerance=info.fold_tolerance)


def lsu(dur: str, cond: str, dialed: str, calling: str, circuit: str = "") -> bytes:
    line = f"{dur}{cond}{'':6}{dialed:>15}{calling:>4}{'':14}4 {circuit:>2}0   0 "
    assert len(line) == 54
    return line.encode() + TAIL


def test_lsu_records_take_the_received_time_and_the_g_record_folds_into_its_call() -> None:
    d = decoder("avaya-cm-lsu", ParserContext())
    answered = datetime(2026, 1, 13, 22, 3, 12, 500000, tzinfo=TEHRAN)
    (ring,) = d.feed(lsu("0002", "G", "5190", "707", "02"), answered)       # 12 s ring, printed at the answer
    (call,) = d.feed(lsu("0041", "9", "5190", "707", "02"), answered + timedelta(seconds=246))
    assert ring.event == "in-progress" and call.event == "answered"
    assert ring.call_id == call.call_id
    assert call.starttime == datetime(2026, 1, 13, 22, 3, tzinfo=TEHRAN)   # first ring = answer - 12 s
    assert call.endtime == datetime(2026, 1, 13, 22, 7, 18, tzinfo=TEHRAN)  # received, to the second
    assert call.duration == 246 and call.linename == "707/002" and call.phone is None


def test_lsu_replay_without_timing_uses_the_date_records_day() -> None:
    d = decoder("avaya-cm-lsu", ParserContext(reference_date=datetime(2026, 1, 20).date()))
    events = d.feed(b"00:00 01/14" + TAIL + lsu("0010", "H", "5972", "707", "03"))
    (missed,) = events
    assert missed.event == "no_answer" and missed.endtime == datetime(2026, 1, 14, tzinfo=TEHRAN)


def test_a_layout_without_time_must_say_time_from_received(tmp_path: Path) -> None:
    body = "layout: x\nformat: fixed\nfields: {dur: {cols: [0, 3], type: duration_tenths}}\n"
    with pytest.raises(ConfigError, match="time_from: received"):
        layouts.find(str(write_file(tmp_path / "x.yaml", body)))
    timed = body.replace("fields: {", "time_from: received\nfields: {time: {cols: [5, 8], type: time}, ")
    with pytest.raises(ConfigError, match="no date and no time"):
        layouts.find(str(write_file(tmp_path / "y.yaml", timed)))


def test_an_unreadable_date_record_does_not_leave_the_previous_date_on_later_records() -> None:
    received = datetime(2026, 12, 29, 23, 0, tzinfo=TEHRAN)
    q = Quarantine(None)
    kept: list[str] = []
    q.add = lambda raw, **kw: kept.append(kw["reason"])  # type: ignore[method-assign]
    d = decoder("avaya-cm-unformatted", ParserContext(), q)
    record = (FIXTURES / "unformatted.smdr").read_bytes().split(TAIL)[1] + TAIL  # a 9 record ending 21:52
    first = d.feed(b"21:50 12/20" + TAIL + record, received)
    later = d.feed(b"21:51 28/12" + TAIL + record, received)  # the PBX switched to day/month meanwhile
    assert first[0].endtime.date() == datetime(2026, 12, 20).date()
    assert later[0].endtime.date() == received.date()  # the received date, not 20 December again
    assert len(kept) == 1 and "date format MDY" in kept[0]


def test_nul_runs_and_records_split_at_any_byte_give_the_same_calls() -> None:
    stream = (FIXTURES / "unformatted.smdr").read_bytes()
    stream = stream.replace(TAIL, b"\r\n" + b"\x00" * 1011, 3)  # collector buffer padding, as in real files
    whole = decoder("avaya-cm-unformatted", ParserContext(reference_date=datetime(2026, 1, 15).date()))
    expected = [e.to_dict() for e in whole.feed(stream) + whole.finish()]
    rng = random.Random(7)
    for _ in range(20):
        d = decoder("avaya-cm-unformatted", ParserContext(reference_date=datetime(2026, 1, 15).date()))
        events, i = [], 0
        while i < len(stream):
            size = rng.choice((1, 2, 3, 7, 50, 101, 105, 1024))
            events += d.feed(stream[i:i + size])
            i += size
        assert [e.to_dict() for e in events + d.finish()] == expected
        assert d.stats.records == whole.stats.records == 29  # NUL runs are never records


@pytest.mark.parametrize(("code", "reason"), [("O", "condition code O is not in"), ("E", "condition code E: listed")])
def test_a_condition_code_the_manual_does_not_explain_is_quarantined_with_the_code(code: str, reason: str) -> None:
    q = Quarantine(None)
    kept: list[str] = []
    q.add = lambda raw, **kw: kept.append(kw["reason"])  # type: ignore[method-assign]
    d = decoder("avaya-cm-unformatted", ParserContext(reference_date=datetime(2026, 1, 15).date()), q)
    line = f"0905000{4}{code}   9 707  4479199673677      548088888{'':19}5   0064       1      000".ljust(100)
    assert d.feed(line.encode() + TAIL) == []
    assert len(kept) == 1 and reason in kept[0]
