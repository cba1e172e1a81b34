"""Property tests: whatever bytes arrive, the Decoder never raises and accounts for every record."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smdr import layouts
from smdr.decoder import Decoder
from smdr.model import DIRECTIONS, EVENTS
from smdr.normalize import Localizer, PhoneRules, zone
from smdr.quarantine import Quarantine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
IPOFFICE = FIXTURES / "avaya-ipoffice"
CM_FIXTURES = FIXTURES / "avaya-cm"
LAYOUTS = layouts.available()
NAMES = sorted(n for n, info in LAYOUTS.items() if info.spec is not None)
CM_NAMES = sorted(n for n in NAMES if n.startswith("avaya-cm-"))
# every family's fixture lines, so each layout also meets real records of the other families
VALID_LINES = sorted({line for path in sorted(FIXTURES.glob("*/*.smdr"))
                      for line in path.read_bytes().splitlines(keepends=True)})
TEHRAN = zone("Asia/Tehran")
RULES = PhoneRules(area_code="21", local_lengths=(8,), strip_prefixes=("9",),
                   extension_pattern=re.compile(r"1\d\d"))
CALL_ID = re.compile(r"^[0-9a-f]{20}$")

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


class CountingParser:
    """The real compiled layout, counting the records it turned into a Record."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.parsed = inner, inner.name, 0

    @property
    def skipped(self) -> dict[str, int]:
        return self.inner.skipped

    def parse(self, line: bytes):
        rec = self.inner.parse(line)
        if rec is not None:
            self.parsed += 1
        return rec


def make(name: str, max_record: int = 4096) -> tuple[Decoder, CountingParser]:
    parser = CountingParser(LAYOUTS[name].compile())
    return Decoder("prop", parser, localize=Localizer(TEHRAN), phone=RULES, max_record=max_record,
                   fold=LAYOUTS[name].fold), parser  # each layout with its own folding strategy


def feed_chunked(d: Decoder, data: bytes, cuts: list[int]) -> list:
    events, i = [], 0
    for size in cuts:
        if i >= len(data):
            break
        events += d.feed(data[i:i + size])
        i += size
    events += d.feed(data[i:])
    return events


def check(d: Decoder, parser: CountingParser, events: list) -> None:
    for e in events:
        assert e.direction in DIRECTIONS, e
        assert e.event in EVENTS, e
        assert CALL_ID.match(e.call_id), e
        assert e.duration >= 0
        assert e.starttime is None or e.starttime.tzinfo is not None
    stats = d.stats
    assert "parser-error" not in stats.quarantined, "a compiled layout raised something else than RecordRejected"
    assert stats.records == sum(stats.skipped.values()) + sum(stats.quarantined.values()) + parser.parsed


mixtures = st.lists(st.one_of(st.sampled_from(VALID_LINES), st.binary(max_size=120),
                              st.sampled_from([b"\r\n", b"\n", b"\r", b"\x0c", b"\x00\x11\x13", b"\t"])),
                    max_size=25).map(b"".join)
cuts = st.lists(st.integers(min_value=1, max_value=64), max_size=40)


@PROPERTY
@given(name=st.sampled_from(NAMES), data=st.binary(max_size=3000), chunks=cuts)
def test_arbitrary_bytes_never_raise(name: str, data: bytes, chunks: list[int]) -> None:
    d, parser = make(name)
    events = feed_chunked(d, data, chunks)
    events += d.finish()
    check(d, parser, events)


@PROPERTY
@given(name=st.sampled_from(NAMES), data=mixtures, chunks=cuts, lose_link=st.booleans())
def test_valid_lines_mixed_with_noise_never_raise_and_are_accounted_for(name: str, data: bytes, chunks: list[int],
                                                                       lose_link: bool) -> None:
    d, parser = make(name)
    events = feed_chunked(d, data, chunks)
    if lose_link:
        d.link_lost()
        events += d.feed(VALID_LINES[0])
    events += d.finish()
    check(d, parser, events)


@PROPERTY
@given(name=st.sampled_from(NAMES), data=mixtures, chunks=cuts)
def test_chunking_does_not_change_the_events(name: str, data: bytes, chunks: list[int]) -> None:
    whole, _ = make(name)
    expected = [e.to_dict() for e in whole.feed(data) + whole.finish()]
    chunked, _ = make(name)
    got = [e.to_dict() for e in feed_chunked(chunked, data, chunks) + chunked.finish()]
    assert got == expected


@pytest.mark.parametrize(("name", "stream", "at_least"), [
    ("panasonic-kx-tda", "panasonic/kx-tda-a.smdr", 30),
    ("siemens-hipath-3000", "siemens/hipath-3000.smdr", 20),
    ("siemens-hipath-lan", "siemens/hipath-lan.smdr", 9),
    ("siemens-hipath-long", "siemens/hipath-long.smdr", 8),
    ("siemens-hipath5000-getaccount", "siemens/hipath5000-getaccount.smdr", 5),
])
def test_the_strategies_reach_real_records(name: str, stream: str, at_least: int) -> None:
    # guard against a vacuous property: the valid lines do parse under their own layouts
    d, parser = make(name)
    d.feed((FIXTURES / stream).read_bytes())
    assert parser.parsed >= at_least
    assert len(VALID_LINES) > 150 and {name, "siemens-hipath-3000", "siemens-hipath-lan"} <= set(NAMES)
    d, parser = make("avaya-ipoffice")
    events = d.feed((IPOFFICE / "r9-30-fields.smdr").read_bytes())
    assert parser.parsed == 22 and len({e.call_id for e in events}) == 16  # 22 segments, 16 calls


@pytest.mark.parametrize("name", CM_NAMES)
def test_the_strategies_reach_real_cm_records(name: str) -> None:
    # each Avaya CM layout parses the lines of its own fixture, so the properties above exercise it too
    stream = {"avaya-cm-customized-example": "customized.smdr"}.get(name, name.removeprefix("avaya-cm-") + ".smdr")
    d, parser = make(name)
    d.feed((CM_FIXTURES / stream).read_bytes())
    assert parser.parsed >= 7
    assert len(CM_NAMES) == 5


@pytest.mark.parametrize(("name", "record"), [
    ("panasonic-kx-tda", b"1/1/0001 12:00AM   101 01 09121234567               0'05 00:01'25               "),
    ("panasonic-kx-tes", b"9999/1/1   9:04AM 103  04 88451234                              99999999  ....  "),
    ("siemens-hipath-3000", b"01.01.7000:00:00  1   10159:5923:59:5909121234567                          2"),
    ("siemens-hipath-lan", b"31.12.69|23:59:59|1|101|00:05|00:00:07|0912||1|"),
])
def test_date_at_the_edge_of_the_calendar_is_quarantined_not_raised(name: str, record: bytes) -> None:
    d, _ = make(name)
    events = d.feed(record + b"\r\n")
    assert events == [] or all(e.starttime is not None for e in events)
    assert d.stats.records == 1


def _recording_quarantine() -> tuple[Quarantine, list[tuple[bytes, int]]]:
    """A quarantine without a file that also notes (raw, position) of every entry."""
    q = Quarantine(None)
    kept: list[tuple[bytes, int]] = []
    original_add = q.add

    def add(raw: bytes, **kw) -> None:
        kept.append((raw, kw["position"]))
        original_add(raw, **kw)

    q.add = add  # type: ignore[method-assign]
    return q, kept


def test_overlong_line_counts_as_a_record_with_its_own_position() -> None:
    q, kept = _recording_quarantine()
    parser = CountingParser(LAYOUTS["panasonic-kx-tda"].compile())
    d = Decoder("prop", parser, localize=Localizer(TEHRAN), phone=RULES, max_record=100, quarantine=q)
    d.feed(b"Z" * 250)
    d.feed(b"Z" * 250 + b"\r\n")
    (event,) = d.feed(b"21/11/26 08:03AM   101 01 09121234567                    00:01'25               \r\n")
    assert b"".join(raw for raw, _ in kept) == b"Z" * 500
    assert {pos for _, pos in kept} == {1}
    assert event.provenance.position == 2
    assert d.stats.records == 2


PRINTABLE_LINES = [line.rstrip(b"\r\n") for line in VALID_LINES
                   if not re.search(rb"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]", line)]  # as the framer passes them
MIXED_LINES = st.lists(st.one_of(st.sampled_from(PRINTABLE_LINES),
                                 st.text(alphabet="ABCxyz0123456789 :/'<>", min_size=101, max_size=400)
                                 .map(lambda text: b"L" + text.encode("ascii")),
                                 st.sampled_from([b"garbage line", b"21/11/26 99:99XX junk"])),
                       min_size=1, max_size=40)


@PROPERTY
@given(lines=MIXED_LINES, cuts=st.lists(st.integers(min_value=1, max_value=300), max_size=30))
def test_every_event_and_quarantine_entry_points_at_its_own_line_and_the_counts_add_up(
        lines: list[bytes], cuts: list[int]) -> None:
    q, kept = _recording_quarantine()
    d = Decoder("prop", LAYOUTS["panasonic-kx-tda"].compile(), localize=Localizer(TEHRAN), phone=RULES,
                max_record=100, quarantine=q)
    data = b"".join(line + b"\r\n" for line in lines)
    events, start = [], 0
    for cut in cuts:
        events += d.feed(data[start:start + cut])
        start += cut
    events += d.feed(data[start:]) + d.finish()
    framed = [line for line in lines if line]  # an empty line is no record
    for event in events:
        assert framed[event.provenance.position - 1].rstrip().decode("latin-1") == event.provenance.raw.rstrip()
    for raw, position in kept:
        assert raw in framed[position - 1]
    stats = d.stats
    assert stats.records == len(framed)
    assert stats.records == stats.parsed + sum(stats.skipped.values()) + sum(stats.quarantined.values())


IPO_SEGMENTS = (IPOFFICE / "r9-30-fields.smdr").read_bytes().splitlines(keepends=True)


@PROPERTY
@given(order=st.permutations(IPO_SEGMENTS), chunks=cuts)
def test_ip_office_segments_in_any_order_are_one_call_per_call_id(order: list[bytes], chunks: list[int]) -> None:
    d, parser = make("avaya-ipoffice")
    events = feed_chunked(d, b"".join(order), chunks) + d.finish()
    check(d, parser, events)
    by_ref: dict[str, set[str]] = {}
    for event in events:
        by_ref.setdefault(event.provenance.raw.split(",")[9], set()).add(event.call_id)
    assert len(by_ref) == 16 and all(len(ids) == 1 for ids in by_ref.values())
    assert len({e.call_id for e in events}) == 16
