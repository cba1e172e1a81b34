"""One call across a caller-ID box and a PBX: a call space joins the PBX's record to the ringing call."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cli_support import write_file
from test_tracker import tda

from smdr import config, layouts
from smdr.callspace import CallSpace, SpaceSink
from smdr.decoder import Decoder
from smdr.errors import ConfigError
from smdr.model import CallEvent
from smdr.normalize import Localizer, PhoneRules, zone
from smdr.pipeline import SourceSpec, make_decoder
from smdr.sinks import ListSink

TZ = zone("Asia/Tehran")

# A caller-ID-like box: a ring with the number, and a hang-up with the talk seconds (its own clock).
BOX_LAYOUT = """
layout: cidbox
format: regex
pattern: '(?P<date>\\S+) (?P<time>\\S+) L(?P<line>\\d+) (?P<num>\\d*) (?P<kind>RING|END)(?: (?P<dur>\\d+))?$'
date_order: DMY
time_is: end
fields:
  date: {type: date}
  time: {type: time}
  line: {}
  num: {}
  kind: {}
  dur: {type: int}
generic: {linename: line, phone: num, duration: dur}
rules:
  - set: {direction: inbound}
  - when: {kind: RING}
    set: {stage: ringing}
"""


def box(time: str, line: int, number: str, kind: str, seconds: int | None = None) -> bytes:
    return f"21/11/26 {time} L{line} {number} {kind}{'' if seconds is None else f' {seconds}'}\r\n".encode()


# The site's morning in arrival order: the box reports live, the PBX prints each call after it ended.
COMBINED: list[tuple[str, bytes]] = [
    ("box", box("10:01:23", 1, "09121234567", "RING")),                         # call 1 rings
    ("box", box("10:02:40", 2, "02188776655", "RING")),                         # call 2 rings
    ("box", box("10:02:58", 1, "09121234567", "END", 89)),
    ("pbx", tda("10:03AM", "101", "01", "<I>09121234567", "0'06", "00:01'25")),  # call 1's record
    ("box", box("10:04:57", 2, "02188776655", "END", 131)),
    ("pbx", tda("10:05AM", "102", "02", "<I>02188776655", "0'06", "00:02'14")),  # call 2's record
    ("box", box("10:08:10", 1, "09351112233", "RING")),                         # call 3: nobody answers
    ("pbx", tda("10:08AM", "101", "01", "<I>09351112233", "0'20", "00:00'00", cd="NA")),
    ("pbx", tda("10:16AM", "103", "03", "09125558899", "", "00:01'10")),       # call 4: outgoing, no box line
    ("box", box("10:20:00", 2, "09127778899", "RING")),                         # call 5: the PBX printed nothing
]
REAL_CALLS = 5


def decoders(tmp_path: Path) -> dict[str, Decoder]:
    box_parser = layouts.find(str(write_file(tmp_path / "cidbox.yaml", BOX_LAYOUT))).compile()
    return {"box": Decoder("box", box_parser, localize=Localizer(TZ), phone=PhoneRules()),
            "pbx": make_decoder(SourceSpec("pbx", "file:///dev/null", "panasonic-kx-tda"))}


def run_combined(tmp_path: Path, lines: dict[str, str] | None, arrivals=COMBINED,
                 window: float = 150.0) -> tuple[list[CallEvent], CallSpace]:
    out = ListSink()
    space = CallSpace("office", window)
    sinks = {"box": SpaceSink(space, "box", out, lines), "pbx": SpaceSink(space, "pbx", out)}
    decs = decoders(tmp_path)

    async def feed() -> None:
        for source, data in arrivals:
            for event in decs[source].feed(data):
                await sinks[source].emit(event)

    asyncio.run(feed())
    return out.events, space


def calls_of(events: list[CallEvent]) -> dict[str, list[CallEvent]]:
    calls: dict[str, list[CallEvent]] = {}
    for event in events:
        calls.setdefault(event.call_id, []).append(event)
    return calls


def test_the_combined_fixture_gives_one_crm_call_per_real_call(tmp_path: Path) -> None:
    events, space = run_combined(tmp_path, {"1": "01", "2": "02"})
    calls = calls_of(events)
    assert len(calls) == REAL_CALLS
    assert space.stats.joined == 3
    for call in calls.values():
        last = call[-1]
        assert last.event in ("answered", "no_answer", "ringing")
        if last.endtime is not None:
            assert last.starttime <= last.endtime
            assert last.endtime - last.starttime >= timedelta(seconds=last.duration)
    first, second, missed, outgoing, box_only = calls.values()
    # call 1: the box's exact ring as its start, the PBX's extension, talk time and line
    assert [e.event for e in first] == ["ringing", "answered", "answered"]
    final = first[-1]
    assert final.starttime == datetime(2026, 11, 21, 10, 1, 23, tzinfo=TZ)
    assert (final.agent, final.duration, final.linename, final.endtime.minute) == ("101", 85, "01", 3)
    assert (second[-1].agent, second[-1].duration) == ("102", 134)
    assert [e.event for e in missed] == ["ringing", "no_answer"]
    assert missed[-1].starttime <= missed[-1].endtime  # the PBX's minute end is before the box's ring
    assert [e.event for e in outgoing] == ["answered"] and outgoing[0].direction == "outbound"
    assert [e.event for e in box_only] == ["ringing"]


def test_the_same_number_joins_without_a_line_map(tmp_path: Path) -> None:
    events, space = run_combined(tmp_path, None)
    assert len(calls_of(events)) == REAL_CALLS and space.stats.joined == 3


def test_a_box_hang_up_after_the_pbx_record_is_not_sent_over_it(tmp_path: Path) -> None:
    late = [COMBINED[0], COMBINED[3], COMBINED[2]]  # the PBX printed before the box's END arrived
    events, space = run_combined(tmp_path, {"1": "01"}, late)
    assert len(calls_of(events)) == 1
    assert [e.agent for e in events] == [None, "101"]
    assert space.stats.dropped == 1


def test_uncertain_evidence_gives_two_calls(tmp_path: Path) -> None:
    same_caller_two_lines = [
        ("box", box("10:30:05", 1, "09121111111", "RING")),
        ("box", box("10:30:20", 2, "09121111111", "RING")),
        ("pbx", tda("10:32AM", "101", "01", "<I>09121111111", "0'05", "00:01'00")),
    ]
    events, space = run_combined(tmp_path, None, same_caller_two_lines)
    assert len(calls_of(events)) == 3 and space.stats.ambiguous == 1
    events, _ = run_combined(tmp_path, {"1": "01", "2": "02"}, same_caller_two_lines)  # the line settles it
    assert len(calls_of(events)) == 2
    too_far = [("box", box("10:30:05", 1, "09121111111", "RING")),
               ("pbx", tda("10:40AM", "101", "01", "<I>09121111111", "0'05", "00:01'00"))]
    assert len(calls_of(run_combined(tmp_path, {"1": "01"}, too_far)[0])) == 2
    other_number = [("box", box("10:30:05", 1, "09121111111", "RING")),
                    ("pbx", tda("10:32AM", "101", "01", "<I>09122222222", "0'05", "00:01'00"))]
    assert len(calls_of(run_combined(tmp_path, {"1": "01"}, other_number)[0])) == 2
    unknown_caller = [("box", box("10:30:05", 1, "", "RING")),
                      ("pbx", tda("10:32AM", "101", "01", "<I>09122222222", "0'05", "00:01'00"))]
    assert len(calls_of(run_combined(tmp_path, None, unknown_caller)[0])) == 2  # no evidence at all


def test_call_space_config(tmp_path: Path) -> None:
    capture = tmp_path / "x.cap"
    capture.write_bytes(b"")
    (tmp_path / "layouts").mkdir()
    write_file(tmp_path / "layouts" / "cidbox.yaml", BOX_LAYOUT)
    path = write_file(tmp_path / "smdr.yaml", f"""
        layout_dirs: [layouts]
        call_spaces: {{office: {{window: 200}}}}
        sources:
          - {{name: box, url: "file://{capture}", layout: cidbox,
              call_space: {{name: office, lines: {{"1": "01"}}}}}}
          - {{name: pbx, url: "file://{capture}", layout: panasonic-kx-tda, call_space: office}}
          - {{name: other, url: "file://{capture}", layout: panasonic-kx-tda}}
        """)
    settings = config.load(path)
    assert settings.call_spaces == {"office": 200.0}
    from smdr.daemon import _source_sinks

    shared = ListSink()
    sinks = _source_sinks(settings, shared)
    assert sinks["other"] is shared
    assert sinks["box"].space is sinks["pbx"].space and sinks["box"].space.window == 200.0
    assert sinks["box"].lines == {"1": "01"} and sinks["pbx"].inner is shared
    assert [(s.call_space, s.space_lines) for s in settings.sources] == [
        ("office", {"1": "01"}), ("office", {}), (None, {})]
    bad = write_file(tmp_path / "bad.yaml", f"""
        call_spaces: {{ofice: {{window: 200}}}}
        sources:
          - {{name: pbx, url: "file://{capture}", layout: panasonic-kx-tda, call_space: office}}
        """)
    with pytest.raises(ConfigError, match="no source names the call space 'ofice'"):
        config.load(bad)
