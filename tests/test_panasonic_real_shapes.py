"""Regressions for what real Panasonic output showed (bench/real_captures.py): each line here is written
for this test in the shape of a public capture line (fixtures/README.md, "Lines modelled on real
captures", names the file and line); none of it is copied."""

from __future__ import annotations

import pytest

from smdr import layouts
from smdr.layouts.record import RecordRejected
from smdr.normalize import PhoneRules
from smdr.pipeline import SourceSpec, make_decoder

TEHRAN = PhoneRules(area_code="21", local_lengths=(8,))


def pattern_a(time: str, ext: str, co: str, dial: str, duration: str, cd: str = "", date: str = "21/11/26") -> bytes:
    """A KX-TDA Pattern A / KX-TD line on the columns of docs/formats/panasonic.md §1.1."""
    return f"{date} {time:7} {ext:>5} {co:2} {dial:25} {'':4} {duration:8} {'':10} {cd:3}".encode()


def events(layout: str, line: bytes, rules: PhoneRules = TEHRAN, date_order: str | None = None) -> list:
    decoder = make_decoder(SourceSpec(name="pbx", url="", layout=layout, phone=rules, date_order=date_order))
    out = decoder.feed(line + b"\r\n")
    assert not decoder.stats.quarantined, decoder.stats.quarantined
    return out


def rejection(layout: str, line: bytes, date_order: str | None = None) -> str:
    parser = layouts.find(layout).compile(date_order)
    with pytest.raises(RecordRejected) as caught:
        parser.parse(line)
    return caught.value.detail


def test_kx_tda_secret_dialled_number_is_sent_as_unknown() -> None:
    # shape of [ATS] Panasonic KX-TDA600.txt line 10
    line = pattern_a("09:42", "103", "14", ".................88776655", "00:12'13")
    (event,) = events("panasonic-kx-tda", line)
    assert event.phone is None and event.direction == "outbound" and event.duration == 733
    assert event.provenance.raw.strip().endswith("00:12'13")


@pytest.mark.parametrize(("dial", "phone"), [
    ("09121234567*", "09121234567"),   # [ATS] KX-TDA600.txt line 13: a trailing star
    ("88776655#2", "02188776655"),     # [ATS] KX-TDA600.txt line 17: DTMF after the answer
])
def test_kx_tda_digits_after_star_or_hash_are_not_the_number(dial: str, phone: str) -> None:
    line = pattern_a("09:54", "162", "14", dial, "00:03'13")
    (event,) = events("panasonic-kx-tda", line)
    assert event.phone == phone


@pytest.mark.parametrize("dial", ["02188776655-", "02188776655-123"])
def test_kx_tda_transfer_dash_ends_the_number(dial: str) -> None:
    # shape of gestionecentralino costa_centralino_mock_source.txt line 23 (Pattern B, TR)
    line = (f"22/11/26 15:02    402 01 {dial:20} 00:03'13   00000.00{'':12}TR ").encode()
    (event,) = events("panasonic-kx-tda-b", line)
    assert event.phone == "02188776655" and event.duration == 193


@pytest.mark.parametrize(("dial", "phone"), [
    ("9PP88776655", "02188776655"),      # [ATS] Panasonic 816.txt line 252
    ("8PP09121234567", "09121234567"),   # [ATS] Panasonic 816.txt line 97
])
def test_kx_td_pauses_after_the_access_digit_are_dropped(dial: str, phone: str) -> None:
    line = pattern_a("06:03PM", "106", "05", dial, "00:00'10", date="11/24/26")
    rules = PhoneRules(area_code="21", local_lengths=(8,), strip_prefixes=("9", "8"))
    (event,) = events("panasonic-kx-td", line, rules)
    assert event.phone == phone


def test_kx_td_trunk_record_without_a_number_or_an_incoming_mark_is_quarantined() -> None:
    # shape of [ATS] Panasonic 816.txt line 91 (and KX-TD816RU.txt: the same with no CD)
    line = pattern_a("04:53PM", "113", "07", "", "00:24'50", "TR", date="11/24/26")
    assert "direction is not printed" in rejection("panasonic-kx-td", line)
    outgoing = pattern_a("04:53PM", "113", "06", "02188776655", "00:20'32", date="11/24/26")
    (event,) = events("panasonic-kx-td", outgoing)
    assert event.direction == "outbound"


def test_kx_ta_overflow_duration_is_unknown_not_sent() -> None:
    # shape of [ATS] Panasonic KX-TA308RU 2.txt line 1
    line = b" 7/12/26   3:15PM 107  01   < DISA  incoming >                  99:59'59\" .... 0"
    (event,) = events("panasonic-kx-ta", line)
    assert event.direction == "inbound" and event.agent == "107"
    assert event.duration == 0 and event.endtime is None   # unknown: no length, no end
    real = b" 7/12/26   3:21PM 107  01   < DISA  incoming >                  00:00'30\" .... 0"
    (event,) = events("panasonic-kx-ta", real)
    assert event.duration == 30 and event.endtime is not None
