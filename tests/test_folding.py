"""The line fold's later rules: ringing lines per extension, reprints of call memory, a group segment
ended by the answering extension's own record, open calls closed when the line moves on."""

from __future__ import annotations

from pathlib import Path

from cli_support import write_file
from test_tracker import run, tda

from smdr import layouts
from smdr.decoder import Decoder
from smdr.normalize import Localizer, PhoneRules, zone

RINGS = """
layout: rings
format: regex
pattern: '(?P<date>\\S+) (?P<time>\\S+) (?P<trunk>\\d+) (?P<ext>\\d+) (?:-|(?P<dur>\\S+)) (?P<num>\\d*) (?P<code>\\d)$'
date_order: DMY
fields:
  date: {type: date}
  time: {type: time}
  trunk: {}
  ext: {}
  dur: {type: duration}
  num: {}
  code: {}
generic: {agent: ext, linename: trunk, phone: num, duration: dur}
rules:
  - set: {direction: inbound}
  - when: {code: "0"}
    set: {stage: ringing}
"""


def rings_decoder(tmp_path: Path) -> Decoder:
    parser = layouts.find(str(write_file(tmp_path / "rings.yaml", RINGS))).compile()
    return Decoder("pbx", parser, localize=Localizer(zone("Asia/Tehran")), phone=PhoneRules())


def test_one_ringing_line_per_called_extension_rings_one_call(tmp_path: Path) -> None:
    d = rings_decoder(tmp_path)
    events = d.feed(b"21.11.26 10:00:05 801 21 - 09121234567 0\r\n"
                    b"21.11.26 10:00:05 801 22 - 09121234567 0\r\n"
                    b"21.11.26 10:01:40 801 22 00:01:20 09121234567 1\r\n")
    assert [(e.event, e.agent) for e in events] == [("ringing", "21"), ("ringing", "22"), ("answered", "22")]
    assert len({e.call_id for e in events}) == 1
    assert events[2].duration == 80


def test_a_ringing_call_is_not_joined_by_another_callers_ring(tmp_path: Path) -> None:
    d = rings_decoder(tmp_path)
    events = d.feed(b"21.11.26 10:00:05 801 21 - 09121234567 0\r\n"
                    b"21.11.26 10:00:09 801 22 - 02188776655 0\r\n")
    assert events[0].call_id != events[1].call_id


def test_a_reprint_of_the_call_memory_is_not_five_new_calls() -> None:
    calls = (tda("08:21AM", "110", "09", "<I>02614301566", "0'07", "00:00'56")
             + tda("08:25AM", "111", "08", "09125558899", "", "00:01'10")
             + tda("08:29AM", "112", "07", "<I>02188776655", "0'03", "00:00'20"))
    events = run("panasonic-kx-tda", calls + calls + calls + calls + calls)
    assert len(events) == 3
    assert len({e.call_id for e in events}) == 3


def test_a_repeat_with_nothing_newer_between_is_a_new_call() -> None:
    line = tda("08:21AM", "110", "09", "<I>02614301566", "0'07", "00:00'00", cd="NA")
    events = run("panasonic-kx-tda", line + line)
    assert len({e.call_id for e in events}) == 2  # when in doubt, two calls


def test_the_answering_extensions_own_zero_second_record_ends_the_group_call() -> None:
    events = run("panasonic-kx-tda",
                 tda("08:12AM", "605", "05", "<I>09121234567", "0'02", "00:00'00")
                 + tda("08:12AM", "101", "05", "<I>09121234567", "0'00", "00:00'00")
                 + tda("08:20AM", "102", "05", "<I>02188776655", "0'04", "00:01'00"))
    segment, answered, later = events
    assert segment.call_id == answered.call_id != later.call_id
    assert (answered.event, answered.agent, answered.duration) == ("answered", "101", 0)
    assert answered.endtime is not None
    assert len(events) == 3  # the call is over: nothing closes it again when the line moves on


def test_an_in_progress_call_ends_when_its_line_moves_on() -> None:
    events = run("panasonic-kx-tda",
                 tda("08:24AM", "111", "08", "<I>09125558899", "0'08", cd="AN")
                 + tda("09:40AM", "112", "08", "<I>02188776655", "0'03", "00:00'20"))
    progress, closed, later = events
    assert progress.event == "in-progress"
    assert (closed.call_id, closed.event, closed.agent) == (progress.call_id, "answered", "111")
    assert later.call_id != progress.call_id


def test_the_seeded_call_id_hash_is_the_documented_one() -> None:
    from smdr.model import CallIds, make_call_id

    ids = CallIds("pbx")
    for raw, occurrence in (("21/11/26 08:21AM   110 09 <I>0261 ", 0), ("x", 3), ("۰۹۱۲", 1)):
        assert ids(raw, occurrence) == make_call_id("pbx", raw, occurrence)


def test_the_span_worked_out_inline_in_add_is_the_span_method_s() -> None:
    from datetime import datetime

    from smdr.folding import SingleFold
    from smdr.layouts.record import ANSWERED_STAGE, FINAL_STAGE, RINGING_STAGE, Record

    fold = SingleFold("pbx", "x", Localizer(zone("Asia/Tehran")))
    checked = 0
    for n, (stage, time_is_end, unknown) in enumerate(
            (s, e, u) for s in (RINGING_STAGE, ANSWERED_STAGE, FINAL_STAGE) for e in (True, False)
            for u in ((), ("duration",))):
        rec = Record(raw=f"record {n}", when=datetime(2026, 1, 14, 9, n), direction="inbound", stage=stage,
                     time_is_end=time_is_end, ring=5, duration=70, held=3, unknown=unknown)
        event, = fold.add(rec)
        assert (event.starttime, event.endtime) == fold.span(rec), (stage, time_is_end, unknown)
        checked += 1
    assert checked == 12


def test_the_seen_records_forget_what_an_ordered_dict_halved_when_full_would() -> None:
    """SeenRecords keeps two halves instead of copying the newer half when full: the same records are
    remembered, with the same values, after every step of a stream with repeats (call ids depend on it)."""
    import random

    from smdr.folding.base import SeenRecords

    limit, rng = 16, random.Random(7)
    seen, reference = SeenRecords(limit), {}
    keys = [f"record {n}" for n in range(60)]
    for step in range(3000):
        key = rng.choice(keys[:20] if step % 3 else keys)  # some records come back often, others rarely
        assert seen.get(key) == reference.get(key), step
        opens = rng.choice((0, 1))  # a record that opens a call, or one folded into a call
        before = reference.get(key)
        if len(reference) >= limit:  # the former code: a copy of the half first seen most recently
            reference = dict(list(reference.items())[limit // 2:])
        count = 0 if before is None else before[0]
        reference[key] = (count + opens, step)
        assert seen.see(key, step, opens) == count, step
        assert len(seen) == len(reference), step
        assert all(seen.get(k) == reference.get(k) for k in keys), step


def test_every_strategy_by_name_and_a_source_imports_only_its_own() -> None:
    import subprocess
    import sys

    from smdr import folding
    from smdr.folding.base import Fold

    for name, (_module, class_name) in folding.STRATEGIES.items():
        cls = folding.strategy(name)
        assert cls is getattr(folding, class_name) and issubclass(cls, Fold) and cls.__name__ == class_name
    assert folding.strategy("no-such-strategy") is None
    code = ("import sys\n"
            "from smdr.pipeline import SourceSpec, make_decoder\n"
            "make_decoder(SourceSpec(name='x', url='', layout='panasonic-kx-tda'))\n"
            "print(sorted(m for m in sys.modules if m.startswith('smdr.folding.')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['smdr.folding.base', 'smdr.folding.line']"
