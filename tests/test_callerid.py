"""Caller-ID parsers and the line_state fold: each protocol's frames, and the line's calls they make."""

from __future__ import annotations

import asyncio
import socket
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures" / "callerid"))
import make_fixtures as mk

from smdr import layouts
from smdr.decoder import Decoder
from smdr.layouts.record import ParserContext, RecordRejected
from smdr.normalize import Localizer, PhoneRules, zone
from smdr.quarantine import Quarantine
from smdr.transports.udp import UdpTransport

TZ = zone("Asia/Tehran")
T0 = datetime(2026, 1, 14, 9, 30, tzinfo=TZ)


def decoder(layout: str, **options: Any) -> Decoder:
    context = ParserContext(zone=TZ, options=options)
    info = layouts.find(layout)
    return Decoder("test", info.compile(None, context), localize=Localizer(TZ), phone=PhoneRules(),
                   quarantine=Quarantine(None), fold=info.fold, context=context)


def play(dec: Decoder, frames: list[tuple[float, bytes]]) -> list[tuple[str, str | None, str | None, int]]:
    """Feed frames at T0 + their offsets (seconds), ticking before each; (event, phone, agent, duration)."""
    out = []
    for offset, data in frames:
        now = T0 + timedelta(seconds=offset)
        out += dec.tick(now)
        out += dec.feed(data, now)
    return [(e.event, e.phone, e.agent, e.duration) for e in out]


# --- FSK ------------------------------------------------------------------------------------------

def test_fsk_sdmf_and_mdmf_give_the_number_and_a_bad_checksum_is_quarantined() -> None:
    dec = decoder("callerid-fsk", lines={1: "101"})
    good = mk.mdmf((0x01, b"01140930"), (0x02, b"09121234567"), (0x07, b"ALI"))
    bad = bytearray(mk.mdmf((0x02, b"02188776655")))
    bad[5] ^= 1
    events = play(dec, [(0, mk.SEIZURE + mk.fsk(0x04, b"01140930" + b"09351112233")),
                        (30, mk.SEIZURE + bytes(bad)), (60, mk.SEIZURE + good[:7]), (60.1, good[7:])])
    assert events == [("ringing", "09351112233", "101", 0), ("ringing", "09121234567", "101", 0)]
    assert dec.quarantine.counts == {"checksum": 1}


def test_fsk_reason_for_absence_pops_up_without_a_number() -> None:
    events = play(decoder("callerid-fsk"), [(0, mk.mdmf((0x01, b"01140930"), (0x04, b"P")))])
    assert events == [("ringing", None, None, 0)]


def test_fsk_parameter_running_past_the_message_is_rejected() -> None:
    parser = layouts.find("callerid-fsk").compile(None, ParserContext(zone=TZ))
    with pytest.raises(RecordRejected, match="malformed"):
        parser.parse(mk.fsk(0x80, bytes([0x02, 9]) + b"0912"))


# --- DTMF, modem ----------------------------------------------------------------------------------

def test_dtmf_forms_and_a_lost_end_tone_closed_by_the_timer() -> None:
    dec = decoder("callerid-dtmf")
    events = play(dec, [(0, b"A09121234567C"), (30, b"D1#"), (60, b"A0935"), (60.5, b"1112233")])
    assert events == [("ringing", "09121234567", None, 0), ("ringing", None, None, 0)]
    late = dec.tick(T0 + timedelta(seconds=71))  # no end tone for 10 s: the timer, not a next frame
    assert [(e.event, e.phone) for e in late] == [("ringing", "09351112233")]


def test_modem_number_only_frame_pops_up_and_a_masked_repeat_is_the_same_call() -> None:
    dec = decoder("callerid-modem", ring_end="no_answer")
    events = play(dec, [(0, b"NMBR = 09121234567\r\n"), (0.2, b"NMBR = O\r\n"), (1, b"RING\r\n"),
                        (6, b"RING\r\n"), (20, b"OK\r\n")])
    assert events == [("ringing", "09121234567", None, 0), ("no_answer", "09121234567", None, 0)]


# --- Whozz Calling --------------------------------------------------------------------------------

def test_ethernet_link_packets_with_binary_bytes_that_look_like_text() -> None:
    unit = int.from_bytes(b"$\n^^\r$", "big")
    frames = [mk.el_packet(unit, 7, text) for _, text in mk.whozz_calls()[:6]]
    dec = decoder("whozz-calling-el", lines={1: "101"})
    events = play(dec, [(i * 2.0, frame) for i, frame in enumerate(frames)])
    assert [e[0] for e in events] == ["ringing", "in-progress", "answered"]
    assert events[-1] == ("answered", "09121234567", "101", 2)  # off hook at 6 s, on hook at 8 s
    assert not dec.quarantine.counts
    glued = decoder("whozz-calling-el")  # a replayed capture: packets glued together, cut by length
    assert [e[0] for e in play(glued, [(0, b"".join(frames[:2]))])] == ["ringing"]


# --- Oj Segal, NCID, YAML signals -----------------------------------------------------------------

def test_oj_segal_duration_unit_is_an_option() -> None:
    frames = [(0, b"\nL1C09121234567@\n"), (0.5, b"L1R01@"), (2, b"L1HF@"), (200, b"L1HND: T0257@")]
    assert play(decoder("oj-segal"), frames)[-1][3] == 257
    assert play(decoder("oj-segal", duration_unit="mmss"), frames)[-1][3] == 177
    assert play(decoder("oj-segal", duration_unit="ignore"), frames)[-1][3] == 198


def test_ncid_greeting_and_call_log_are_not_calls() -> None:
    dec = decoder("ncid")
    assert play(dec, [(0, mk.ncid_stream()[0][1])]) == []
    assert dec.parser.skipped == {"server-status": 4, "call-log": 1, "server-option": 1}


def test_yaml_rules_can_set_signals_for_the_line_state_fold(tmp_path: Path) -> None:
    layout = tmp_path / "box.yaml"
    layout.write_text("""layout: test-box
format: regex
fold: line_state
time_from: received
pattern: '^L(?P<line>\\d) (?P<kind>\\w+) ?(?P<number>\\d*)$'
fields: {line: {}, kind: {}, number: {}}
generic: {linename: line, phone: number}
rules:
  - {when: {kind: CID}, set: {direction: inbound, signal: caller_id}}
  - {when: {kind: UP}, set: {direction: inbound, signal: off_hook}}
  - {when: {kind: DOWN}, set: {direction: inbound, signal: on_hook}}
""", encoding="utf-8")
    context = ParserContext(zone=TZ, options={"lines": {2: "102"}})
    info = layouts.find(str(layout))
    dec = Decoder("t", info.compile(None, context), localize=Localizer(TZ), phone=PhoneRules(),
                  fold=info.fold, context=context)
    events = play(dec, [(0, b"L2 CID 09121234567\n"), (3, b"L2 UP\n"), (63, b"L2 DOWN\n")])
    assert events == [("ringing", "09121234567", "102", 0), ("in-progress", "09121234567", "102", 0),
                      ("answered", "09121234567", "102", 60)]


def test_a_signal_a_rule_cannot_have_is_a_layout_error(tmp_path: Path) -> None:
    layout = tmp_path / "bad.yaml"
    layout.write_text("layout: bad\nformat: regex\nfold: line_state\ntime_from: received\n"
                      "pattern: '(?P<x>.*)'\nfields: {x: {}}\n"
                      "rules:\n  - {set: {direction: inbound, signal: hangup}}\n",
                      encoding="utf-8")
    with pytest.raises(Exception, match="signal must be one of"):
        layouts.find(str(layout))


# --- line state: lost and late frames -------------------------------------------------------------

def test_a_dropped_on_hook_still_closes_the_call() -> None:
    dec = decoder("oj-segal", max_call=600)
    events = play(dec, [(0, b"L1C09121234567@"), (0.5, b"L1R01@"), (3, b"L1HF@"), (40, b"L1D5@")])
    assert [e[0] for e in events] == ["ringing", "in-progress"]
    assert not dec.tick(T0 + timedelta(seconds=500))
    closed = dec.tick(T0 + timedelta(seconds=604))
    assert [(e.event, e.duration) for e in closed] == [("answered", 37)]  # talk known up to its last frame
    assert closed[0].endtime >= closed[0].starttime
    assert not dec.tracker.open_calls()


def test_rings_that_stop_end_the_call_on_the_tick_not_the_next_frame() -> None:
    dec = decoder("oj-segal", ring_timeout=6)
    assert [e[0] for e in play(dec, [(0, b"L1C09121234567@"), (0.5, b"L1R01@"), (4.5, b"L1R02@")])] == ["ringing"]
    assert not dec.tick(T0 + timedelta(seconds=10))
    ended = dec.tick(T0 + timedelta(seconds=11))
    # received times are whole seconds: the last ring was at 4 s
    assert [(e.event, e.endtime) for e in ended] == [("no_answer", T0 + timedelta(seconds=4))]


def test_a_popup_on_the_first_ring_then_the_number_under_the_same_call_id() -> None:
    dec = decoder("callerid-modem", popup_unknown=True)
    out = dec.feed(b"RING\r\n", T0) + dec.feed(b"NMBR = 09121234567\r\n", T0 + timedelta(seconds=1))
    assert [(e.event, e.phone) for e in out] == [("ringing", None), ("ringing", "09121234567")]
    assert out[0].call_id == out[1].call_id


# --- udp:// ---------------------------------------------------------------------------------------

def test_udp_transport_yields_each_datagram(arun) -> None:
    async def scenario() -> list[bytes]:
        transport = UdpTransport("udp://127.0.0.1:0")
        await transport.open()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                for payload in (b"one", b"two\n", b"three"):
                    sender.sendto(payload, ("127.0.0.1", transport.port))
            return [await asyncio.wait_for(transport.read(), 5) for _ in range(3)]
        finally:
            await transport.shutdown()

    assert arun(scenario()) == [b"one", b"two\n", b"three"]
