"""Folding records into calls, through the Decoder with the real Panasonic layouts and short inline streams."""

from __future__ import annotations

from smdr import layouts
from smdr.decoder import Decoder
from smdr.model import CallEvent
from smdr.normalize import Localizer, PhoneRules, zone


def decoder(layout: str, source: str = "pbx") -> Decoder:
    return Decoder(source, layouts.load(layout), localize=Localizer(zone("Asia/Tehran")), phone=PhoneRules())


def tda(time: str, ext: str, co: str, dial: str, ring: str = "", dur: str = "", cd: str = "",
        date: str = "21/11/26") -> bytes:
    """One KX-TDA Pattern A (and KX-TD) record on its 0-based columns, with CR LF."""
    rec = f"{date:8} {time:7} {ext:>5} {co:2} {dial:25} {ring:>4} {dur:>8} {'':10} {cd:3}"
    assert len(rec) == 80
    return rec.encode() + b"\r\n"


def tes(time: str, ext: str, co: str, dial: str, dur: str = "", flag: str = " ", date: str = "12/ 5/26") -> bytes:
    """One KX-TES824 record (start time; '*' flag at column 9), with CR LF."""
    rec = f"{date:8} {flag:1}{time:>7} {ext:4} {co:2} {dial:37} {dur:9} {'....':4}  "
    assert len(rec) == 80
    return rec.encode() + b"\r\n"


def run(layout: str, stream: bytes, source: str = "pbx") -> list[CallEvent]:
    d = decoder(layout, source)
    events = d.feed(stream) + d.finish()
    assert d.quarantine.total == 0, d.quarantine.counts
    return events


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def test_rc_then_final_fold_into_one_call() -> None:
    events = run("panasonic-kx-tda",
                 tda("08:21AM", "110", "09", "<I>02614301566", cd="RC")
                 + tda("08:22AM", "110", "09", "<I>02614301566", "0'07", "00:00'56"))
    assert [e.event for e in events] == ["ringing", "answered"]
    assert events[0].call_id == events[1].call_id
    ringing, answered = events
    assert iso(ringing.starttime) == "2026-11-21T08:21:00+03:30"
    assert ringing.endtime is None and ringing.duration == 0
    # the call started when it rang (the RC time), not at end - duration - ring (08:20:57)
    assert iso(answered.starttime) == "2026-11-21T08:21:00+03:30"
    assert iso(answered.endtime) == "2026-11-21T08:22:00+03:30"
    assert (answered.duration, answered.agent, answered.phone, answered.linename) == (56, "110", "02614301566", "09")


def test_rc_an_final_give_ringing_in_progress_answered() -> None:
    events = run("panasonic-kx-tda",
                 tda("08:24AM", "111", "08", "<I>09125558899", cd="RC")
                 + tda("08:24AM", "111", "08", "<I>09125558899", "0'08", cd="AN")
                 + tda("08:27AM", "111", "08", "<I>09125558899", "0'08", "00:02'33"))
    assert [e.event for e in events] == ["ringing", "in-progress", "answered"]
    assert len({e.call_id for e in events}) == 1
    assert [e.duration for e in events] == [0, 0, 153]
    assert [iso(e.endtime) for e in events] == [None, None, "2026-11-21T08:27:00+03:30"]


def test_transfer_leg_folds_with_summed_talk_and_last_agent() -> None:
    events = run("panasonic-kx-tda",
                 tda("08:28AM", "102", "01", "<I>09123334455", "0'05", "00:00'40")
                 + tda("08:28AM", "102", "", "EXT125")
                 + tda("08:31AM", "125", "01", "<I>09123334455", "0'00", "00:02'17", cd="TR"))
    first, intercom, leg = events
    assert intercom.direction == "internal" and intercom.call_id != first.call_id
    assert leg.call_id == first.call_id
    assert (first.agent, first.duration) == ("102", 40)
    assert (leg.event, leg.agent, leg.duration) == ("answered", "125", 40 + 137)
    assert iso(leg.starttime) == iso(first.starttime) == "2026-11-21T08:27:15+03:30"
    assert iso(leg.endtime) == "2026-11-21T08:31:00+03:30"


def test_kx_tes_transfer_star_leg_folds() -> None:
    events = run("panasonic-kx-tes",
                 tes("9:17AM", "", "02", "<    incoming    >09121112233")
                 + tes("9:17AM", "101", "02", "<    incoming    >09121112233", "00:01'01\"")
                 + tes("9:18AM", "104", "02", "<    incoming    >09121112233", "00:04'13\"", flag="*"))
    assert len({e.call_id for e in events}) == 1
    assert [(e.event, e.agent, e.duration) for e in events] == [
        ("ringing", None, 0), ("answered", "101", 61), ("answered", "104", 61 + 253)]


def test_icd_segment_then_answering_record_with_the_same_number_fold() -> None:
    events = run("panasonic-kx-tda",
                 tda("08:12AM", "600", "05", "<I>02144556677", "0'09", "00:00'00")
                 + tda("08:15AM", "106", "05", "<I>02144556677", "0'00", "00:03'12"))
    segment, answered = events
    assert segment.call_id == answered.call_id
    assert segment.event != "answered"
    assert (answered.event, answered.agent, answered.duration) == ("answered", "106", 192)
    assert iso(answered.starttime) == "2026-11-21T08:11:51+03:30"   # the group's ring start


def test_icd_segment_folds_with_the_answering_record_on_its_line_even_without_a_number() -> None:
    # Decision (parsers/panasonic-kx-tda.yaml notes, tracker rule 1): the zero-duration segment without NA
    # is an open call, and a CO line carries one call at a time, so the answering record that starts
    # within the tolerance on the same line is the same call, with or without a caller number.
    events = run("panasonic-kx-tda",
                 tda("08:12AM", "600", "05", "<I>", "0'09", "00:00'00")
                 + tda("08:15AM", "106", "05", "<I>", "0'00", "00:03'12"))
    assert len(events) == 2
    assert events[0].call_id == events[1].call_id
    assert [e.event for e in events] == ["in-progress", "answered"]


def test_records_on_one_line_that_do_not_overlap_are_not_folded() -> None:
    events = run("panasonic-kx-tda",
                 tda("08:12AM", "600", "05", "<I>", "0'09", "00:00'00")
                 + tda("08:45AM", "106", "05", "<I>", "0'00", "00:03'12"))
    segment, closed, later = events
    assert later.call_id != segment.call_id
    # the segment nobody completed is not left in progress for ever: the line moved on
    assert (closed.call_id, closed.event, closed.agent) == (segment.call_id, "answered", "600")
    assert (later.event, later.agent, later.duration) == ("answered", "106", 192)


def test_missed_call_with_na_then_callback_is_not_merged() -> None:
    events = run("panasonic-kx-tda",
                 tda("08:11AM", "600", "04", "<I>09351234567", "0'32", "00:00'00", cd="NA")
                 + tda("08:13AM", "105", "04", "<I>09351234567", "0'05", "00:01'00"))
    assert [e.event for e in events] == ["no_answer", "answered"]
    assert events[0].call_id != events[1].call_id


def test_calls_on_different_co_lines_never_fold() -> None:
    events = run("panasonic-kx-tda",
                 tda("08:21AM", "110", "09", "<I>02614301566", cd="RC")
                 + tda("08:22AM", "110", "07", "<I>02614301566", "0'07", "00:00'56")
                 + tda("08:23AM", "125", "06", "<I>02614301566", "0'00", "00:00'30", cd="TR")
                 + tda("08:24AM", "600", "04", "<I>09351234567", "0'09", "00:00'00")
                 + tda("08:25AM", "106", "03", "<I>09351234567", "0'00", "00:00'40"))
    assert len({e.call_id for e in events}) == len(events) == 5


def test_kx_tes_caller_id_line_then_answered_line_fold() -> None:
    events = run("panasonic-kx-tes",
                 tes("9:07AM", "", "01", "<    incoming    >02177461847")
                 + tes("9:02AM", "106", "03", "09121234567", "00:04'58\"")
                 + tes("9:07AM", "106", "01", "<    incoming    >02177461847", "00:00'24\""))
    ringing, other, answered = events
    assert ringing.call_id == answered.call_id != other.call_id
    assert (ringing.event, ringing.agent, ringing.phone) == ("ringing", None, "02177461847")
    assert (answered.event, answered.agent, answered.duration) == ("answered", "106", 24)
    assert iso(answered.starttime) == "2026-12-05T09:07:00+03:30"
    assert iso(answered.endtime) == "2026-12-05T09:07:24+03:30"          # START-time family: end = start + talk


def test_kx_tes_ringing_line_then_another_call_on_the_line_gives_no_answer() -> None:
    d = decoder("panasonic-kx-tes")
    first = d.feed(tes("9:20AM", "", "01", "<    incoming    >88776655"))
    assert [e.event for e in first] == ["ringing"]
    later = d.feed(tes("9:40AM", "105", "01", "09121234567", "00:01'15\""))
    assert [e.event for e in later] == ["no_answer", "answered"]
    missed, outgoing = later
    assert missed.call_id == first[0].call_id
    assert (missed.phone, missed.duration, missed.direction) == ("88776655", 0, "inbound")
    assert outgoing.call_id != missed.call_id and outgoing.direction == "outbound"


def test_kx_tes_ringing_line_is_not_closed_by_a_call_on_another_line() -> None:
    d = decoder("panasonic-kx-tes")
    d.feed(tes("9:20AM", "", "01", "<    incoming    >88776655"))
    assert [e.event for e in d.feed(tes("9:40AM", "105", "02", "09121234567", "00:01'15\""))] == ["answered"]


STREAM = (tda("08:03AM", "101", "01", "09121234567", "", "00:01'25")
          + tda("08:21AM", "110", "09", "<I>02614301566", cd="RC")
          + tda("08:22AM", "110", "09", "<I>02614301566", "0'07", "00:00'56")
          + tda("08:28AM", "102", "01", "<I>09123334455", "0'05", "00:00'40")
          + tda("08:31AM", "125", "01", "<I>09123334455", "0'00", "00:02'17", cd="TR")
          + tda("08:40AM", "101", "01", "09121234567", "", "00:01'25", date="21/11/26"))


def test_call_id_is_deterministic_across_decoders() -> None:
    ids_a = [e.call_id for e in run("panasonic-kx-tda", STREAM)]
    d = decoder("panasonic-kx-tda")
    ids_b = []
    for i in range(0, len(STREAM), 7):       # same bytes, other chunking
        ids_b += [e.call_id for e in d.feed(STREAM[i:i + 7])]
    assert ids_a == ids_b
    assert len(set(ids_a)) == 4


def test_call_id_depends_on_the_source_name() -> None:
    a = [e.call_id for e in run("panasonic-kx-tda", STREAM, source="site-a")]
    b = [e.call_id for e in run("panasonic-kx-tda", STREAM, source="site-b")]
    assert not set(a) & set(b)


def test_byte_identical_records_in_one_stream_get_different_ids() -> None:
    rec = tda("08:03AM", "101", "01", "09121234567", "", "00:01'25")
    events = run("panasonic-kx-tda", rec + rec + rec)
    assert len(events) == 3
    assert len({e.call_id for e in events}) == 3
    # and a replay gives the same three ids in the same order
    assert [e.call_id for e in run("panasonic-kx-tda", rec + rec + rec)] == [e.call_id for e in events]


def test_starttime_is_end_minus_duration_minus_ring_for_end_time_layouts() -> None:
    (event,) = run("panasonic-kx-tda", tda("08:05AM", "102", "02", "<I>02188776655", "0'06", "00:02'14"))
    assert iso(event.endtime) == "2026-11-21T08:05:00+03:30"
    assert iso(event.starttime) == "2026-11-21T08:02:40+03:30"    # 08:05 - 134 s - 6 s
    (event,) = run("panasonic-kx-td", tda("08:05AM", "102", "02", "<I>02188776655", "0'06", "00:02'14",
                                          date="11/24/26"))
    assert iso(event.starttime) == "2026-11-24T08:02:40+03:30"
    (out,) = run("panasonic-kx-tda", tda("12:01PM", "101", "01", "09121112222", "", "00:03'10"))
    assert (iso(out.starttime), iso(out.endtime)) == ("2026-11-21T11:57:50+03:30", "2026-11-21T12:01:00+03:30")


def test_kx_tda_b_without_ring_time_starts_at_end_minus_duration() -> None:
    rec = f"{'22/11/26':8} {'09:27':7} {'120':>4} {'02':2} {'88451234':20} {'00:02' + chr(39) + '25':>8} "
    rec = (rec + f"{'00000.00':10} {'':10} {'':3}").encode() + b"\n"
    (event,) = run("panasonic-kx-tda-b", rec)
    assert (event.direction, event.agent, event.duration) == ("outbound", "120", 145)
    assert (iso(event.starttime), iso(event.endtime)) == ("2026-11-22T09:24:35+03:30", "2026-11-22T09:27:00+03:30")
