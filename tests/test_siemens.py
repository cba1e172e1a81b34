"""Siemens HiPath layouts: what the golden files cannot show (quarantine reasons and counts, the fold of
"on ringing" lines, skipped headers), checked on the fixture streams and on single records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smdr import layouts
from smdr.decoder import Decoder
from smdr.layouts.record import RecordRejected
from smdr.pipeline import SourceSpec, make_decoder
from smdr.quarantine import Quarantine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "siemens"


def decode(stream: str, layout: str, tmp_path: Path) -> tuple[list, Decoder, list[dict]]:
    quarantine = Quarantine(tmp_path / "q.jsonl", log_first=False)
    decoder = make_decoder(SourceSpec(name=stream, url="", layout=layout), quarantine)
    events = decoder.feed((FIXTURES / stream).read_bytes()) + decoder.finish()
    kept = [json.loads(line) for line in (tmp_path / "q.jsonl").read_text().splitlines()] if (
        tmp_path / "q.jsonl").exists() else []
    return events, decoder, kept


@pytest.mark.parametrize(("stream", "layout", "reasons", "skipped"), [
    ("hipath-3000.smdr", "siemens-hipath-3000", [
        (13, "information element 35: a call-type code the Siemens manual does not list (kept as printed)"),
        (24, "information element 19: a call-type code the Siemens manual does not list (kept as printed)"),
        (25, "no information element (call-type code) in columns 75-76"),
        (26, "outgoing record with a blank call duration: turn the PBX's 'Call duration' flag on")], {}),
    ("hipath-lan.smdr", "siemens-hipath-lan", [
        (8, "information element 37: a call-type code the Siemens manual does not list (kept as printed)")], {}),
    ("hipath-lan-header.smdr", "siemens-hipath-lan", [], {"header": 2}),
    ("hipath-long.smdr", "siemens-hipath-long", [
        (11, "information element 36: a call-type code the Siemens manual does not list (kept as printed)")],
     {"header": 2}),
    ("hipath5000-getaccount.smdr", "siemens-hipath5000-getaccount", [
        (6, "call type 3: not 1 (incoming) or 2 (outgoing), the values the manual lists")], {}),
])
def test_unknown_codes_are_quarantined_with_the_code_and_counted(stream, layout, reasons, skipped, tmp_path):
    _, decoder, kept = decode(stream, layout, tmp_path)
    assert [(q["position"], q["reason"]) for q in kept] == reasons
    assert all(q["kind"] == "rejected" for q in kept)
    assert decoder.stats.quarantined == ({"rejected": len(reasons)} if reasons else {})
    assert {k: v for k, v in decoder.stats.skipped.items() if k != "blank"} == skipped


def test_on_ringing_lines_of_two_extensions_then_the_answer_are_one_call(tmp_path):
    events, _, _ = decode("hipath-3000.smdr", "siemens-hipath-3000", tmp_path)
    call = [e for e in events if e.linename == "3" and e.phone == "09131234567"]
    assert [(e.event, e.agent) for e in call] == [("ringing", "103"), ("ringing", "104"), ("answered", "104")]
    assert len({e.call_id for e in call}) == 1 and call[-1].duration == 132
    missed = [e for e in events if e.linename == "4" and e.phone == "02144556677"]
    assert [(e.event, e.agent) for e in missed] == [("ringing", "105"), ("ringing", "106"), ("no_answer", "106")]
    assert len({e.call_id for e in missed}) == 1 and missed[-1].starttime.isoformat() == "2026-12-14T08:20:30+03:30"


def record(layout: str, line: str):
    return layouts.load(layout).parse(line.encode("latin-1"))


@pytest.mark.parametrize(("line", "direction", "event", "stage"), [
    ("14.12.2609:10:48  8   10400:0300:00:4502166554433                         51", "inbound", "answered", "final"),
    ("14.12.2609:13:43  9   10400:0800:01:3509197778899                        452", "outbound", "answered", "final"),
    ("14.12.2609:13:43  9   104             09197778899                         50", "inbound", "ringing", "ringing"),
    ("14.12.2609:13:43  9   104     00:01:3509197778899                          4", "outbound", "answered", "final"),
    ("14.12.2609:13:43  9   104     00:01:3509197778899                          3", "inbound", "answered", "final"),
    ("14.12.2609:13:43  9   104     00:01:3509197778899                          7", "inbound", "answered", "final"),
])
def test_call_type_codes_and_disa(line, direction, event, stage):
    rec = record("siemens-hipath-3000", line)
    assert (rec.direction, rec.event, rec.stage) == (direction, event, stage)


@pytest.mark.parametrize("code", ["10", "35", "39", "60", "99", "0A"])
def test_codes_outside_the_manual_are_refused_naming_the_code(code):
    line = f"14.12.2609:13:43  9   104     00:01:3509197778899                         {code:>2}"
    with pytest.raises(RecordRejected, match=f"information element {code}:"):
        record("siemens-hipath-3000", line)


def test_sentinels_and_suppressed_digits():
    ring = record("siemens-hipath-3000", "14.12.2610:30:00  3   10559:59        09141112233                          1")
    assert ring.unknown == ("ring",) and ring.ring == 0 and ring.event == "no_answer"
    talk = record("siemens-hipath-3000", "14.12.2610:31:00  4   10600:0223:59:5900441619251900                  1350 2")
    assert talk.unknown == ("duration",) and talk.duration == 0 and talk.ring == 2
    decoder = make_decoder(SourceSpec(name="hidden", url="", layout="siemens-hipath-lan"))
    (hidden,) = decoder.feed(b"15.12.26|13:50:40|201|33303|00:04|00:00:36|0935111????|2|2||||||\n")
    assert hidden.phone is None and "0935111????" in hidden.provenance.raw  # never the digits left over


def test_full_112_column_record_and_81_column_real_shape_read_the_same_fields():
    full = record("siemens-hipath-3000", "14.12.2611:10:28  8    16     00:05:2302317324856                       12 2"
                  "12345678901     902725  841 1       ")
    real = record("siemens-hipath-3000",  # the shape of a real 81-column line (quartx-analytics/calllogger)
                  "11.04.1900:35:48  1   10400:0100:00:070876153281                           1 9923")
    assert (full.agent, full.phone, full.duration, full.direction) == ("16", "02317324856", 323, "outbound")
    assert (real.agent, real.ring, real.duration, real.direction) == ("104", 1, 7, "inbound")


@pytest.mark.parametrize("name", ["siemens-hipath-3000", "siemens-openscape-business", "siemens-hicom-150"])
def test_device_profiles_listen_for_the_pbx_and_name_real_layouts(name):
    from smdr import devices

    device = devices.find(name)
    assert device.apply_to_url("tcp-listen://") == "tcp-listen://0.0.0.0:5100"  # the PBX connects out
    assert device.apply_to_url("tcp-listen://0.0.0.0:6000") == "tcp-listen://0.0.0.0:6000"
    assert device.date_order == "DMY" and set(device.layouts) <= set(layouts.available())
    assert "tcp-listen://" in device.notes and "choice" in device.notes
