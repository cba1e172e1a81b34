"""Framer: bytes from the wire -> records, whatever line ends, page feeds and noise the cable adds."""

from __future__ import annotations

import pytest

from smdr.framing import Framer

TDA_HEADER = b"  Date     Time    Ext CO        Dial Number        Ring Duration  Acc code  CD "
TDA_REC = b"21/11/26 08:03AM   101 01 09121234567                    00:01'25               "


def feed_all(framer: Framer, chunks: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for chunk in chunks:
        out += framer.feed(chunk)
    return out


@pytest.mark.parametrize("end", [b"\r", b"\n", b"\r\n", b"\x0b", b"\x0c"])
def test_every_line_end_ends_a_record(end: bytes) -> None:
    framer = Framer()
    assert framer.feed(b"one" + end + b"two" + end + b"three") == [b"one", b"two"]
    assert framer.take_partial() == b"three"


def test_mixed_line_ends_in_one_stream() -> None:
    framer = Framer()
    stream = b"a\rb\nc\r\nd\n\re\r\n\r\nf\x0bg\x0ch\r\n"
    assert framer.feed(stream) == [b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h"]
    assert framer.take_partial() == b""


def test_crlf_split_between_chunks_gives_no_empty_record() -> None:
    framer = Framer()
    assert framer.feed(b"first\r") == [b"first"]
    assert framer.feed(b"\nsecond\r") == [b"second"]
    assert framer.feed(b"\n") == []
    assert framer.take_partial() == b""


def test_record_split_at_every_byte_position_gives_the_same_records() -> None:
    stream = b"\x0c" + TDA_HEADER + b"\r\n" + b"-" * 80 + b"\r\n" + TDA_REC + b"\r\n" + TDA_REC[:40] + b"\rX\n"
    expected = Framer().feed(stream)
    assert expected == [TDA_HEADER, b"-" * 80, TDA_REC, TDA_REC[:40], b"X"]
    for cut in range(len(stream) + 1):
        framer = Framer()
        got = feed_all(framer, [stream[:cut], stream[cut:]])
        assert got == expected, f"split at byte {cut}"
        assert framer.take_partial() == b""


def test_byte_by_byte_feeding_gives_the_same_records() -> None:
    stream = TDA_HEADER + b"\r\n" + TDA_REC + b"\r\n" + TDA_REC + b"\n"
    framer = Framer()
    got = feed_all(framer, [stream[i:i + 1] for i in range(len(stream))])
    assert got == [TDA_HEADER, TDA_REC, TDA_REC]


def test_form_feed_glued_to_a_header_starts_a_new_record_without_the_ff() -> None:
    framer = Framer()
    records = framer.feed(TDA_REC + b"\r\n\x0c" + TDA_HEADER + b"\r\n" + TDA_REC + b"\r\n")
    assert records == [TDA_REC, TDA_HEADER, TDA_REC]
    assert all(b"\x0c" not in r for r in records)


def test_control_bytes_are_dropped_but_tab_is_kept() -> None:
    framer = Framer()
    noisy = b"\x00\x0021/11\x11/26\x13 08:03\x7fAM\x01\x1b\tX\x00\r\n"
    assert framer.feed(noisy) == [b"21/11/26 08:03AM\tX"]
    # NUL NUL XON XOFF DEL SOH ESC NUL: 8 dropped bytes (CR LF are line ends, not dropped bytes)
    assert framer.dropped_bytes == 8


def test_nul_padding_between_records_makes_no_record() -> None:
    framer = Framer()
    assert framer.feed(b"\x00" * 50 + b"\r\n" + b"\x00\x11\x13\r\n" + TDA_REC + b"\r\n") == [TDA_REC]


def test_blank_lines_are_dropped() -> None:
    framer = Framer()
    assert framer.feed(b"\r\n\r\n\n\n\r\rA\r\n\r\n\x0c\r\nB\n\n") == [b"A", b"B"]


def test_max_record_endless_line_keeps_memory_bounded_and_every_byte_reaches_on_overlong() -> None:
    fragments: list[bytes] = []
    framer = Framer(max_record=100, on_overlong=lambda fragment, _continued: fragments.append(fragment))
    sent = b""
    for i in range(500):  # 500 * 37 bytes, never a line end
        chunk = bytes([65 + i % 26]) * 37
        sent += chunk
        assert framer.feed(chunk) == []
        assert len(framer._pending) <= framer.max_record
    assert fragments, "the overlong line never reached on_overlong"
    # then the line finally ends, and the stream goes on normally
    assert framer.feed(b"tail\r\nnext record\r\n") == [b"next record"]
    assert b"".join(fragments) == sent + b"tail"
    assert framer.overlong == len(fragments)
    assert all(len(f) <= max(framer.max_record, 37 + 100) for f in fragments)


def test_max_record_line_overlong_within_one_chunk_is_not_emitted() -> None:
    fragments: list[bytes] = []
    framer = Framer(max_record=10, on_overlong=lambda fragment, _continued: fragments.append(fragment))
    assert framer.feed(b"short\n" + b"x" * 11 + b"\nexactly10!\nok\n") == [b"short", b"exactly10!", b"ok"]
    assert fragments == [b"x" * 11]


def test_take_partial_returns_half_record_once() -> None:
    framer = Framer()
    assert framer.feed(TDA_REC + b"\r\n" + TDA_REC[:30]) == [TDA_REC]
    assert framer.take_partial() == TDA_REC[:30]
    assert framer.take_partial() == b""
    # the half record is forgotten: the next line is not glued to it
    assert framer.feed(b"new\r\n") == [b"new"]


def test_take_partial_inside_an_overlong_line_returns_nothing_and_resumes_cleanly() -> None:
    fragments: list[bytes] = []
    framer = Framer(max_record=8, on_overlong=lambda fragment, _continued: fragments.append(fragment))
    framer.feed(b"y" * 20)
    assert framer.take_partial() == b""
    assert framer.feed(b"fresh\n") == [b"fresh"]
    assert b"".join(fragments) == b"y" * 20
