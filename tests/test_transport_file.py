"""FileReplayTransport: flat, baud-paced and scriptreplay-timed replay."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smdr.errors import TransportClosed, TransportError
from smdr.transports import LINK_LOST, open_url, read_stream
from smdr.transports.file import FileReplayTransport, path_from_url, read_timing_file

STREAM = b"".join(b"21/11/26 08:%02dAM   101 01 0912123%04d          00:01'25\r\n" % (m, m)
                 for m in range(40))


async def read_all(transport: Any) -> list[bytes]:
    chunks: list[bytes] = []
    async for item in read_stream(transport):
        assert item is not LINK_LOST
        chunks.append(item)
    return chunks


def test_flat_replays_the_bytes_in_big_chunks(tmp_path: Path, arun: Callable[..., Any]) -> None:
    capture = tmp_path / "pbx.smdr"
    capture.write_bytes(STREAM)
    chunks = arun(read_all(open_url(f"file://{capture}")))
    assert b"".join(chunks) == STREAM
    assert len(chunks) == 1


def test_end_of_file_is_transport_closed_and_reopen_starts_over(tmp_path: Path,
                                                                arun: Callable[..., Any]) -> None:
    capture = tmp_path / "pbx.smdr"
    capture.write_bytes(b"abc")

    async def scenario() -> None:
        transport = open_url(f"file://{capture}")
        assert transport.reconnects is False
        for _ in range(2):
            await transport.open()
            assert await transport.read() == b"abc"
            with pytest.raises(TransportClosed, match="end of file"):
                await transport.read()
            await transport.close()

    arun(scenario())


def test_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arun: Callable[..., Any]) -> None:
    (tmp_path / "captures").mkdir()
    (tmp_path / "captures" / "x.smdr").write_bytes(b"relative\r\n")
    monkeypatch.chdir(tmp_path)
    assert b"".join(arun(read_all(open_url("file://captures/x.smdr")))) == b"relative\r\n"


@pytest.mark.parametrize(("target", "path"), [
    ("relative/p.smdr", "relative/p.smdr"), ("/abs/p.smdr", "/abs/p.smdr"),
    ("C:/x/p.smdr", "C:/x/p.smdr"), ("/C:/x/p.smdr", "C:/x/p.smdr"),
])
def test_path_forms(target: str, path: str) -> None:
    assert path_from_url(target).as_posix() == path


def test_missing_file_names_the_path(tmp_path: Path, arun: Callable[..., Any]) -> None:
    missing = tmp_path / "nope.smdr"
    with pytest.raises(TransportError, match=str(missing)):
        arun(read_all(open_url(f"file://{missing}")))


def test_baud_pace_takes_the_wire_time(tmp_path: Path, arun: Callable[..., Any]) -> None:
    data = STREAM[:300]
    capture = tmp_path / "pbx.smdr"
    capture.write_bytes(data)
    expected_seconds = len(data) * 10 / 9600
    started = time.monotonic()
    chunks = arun(read_all(open_url(f"file://{capture}?pace=baud&baudrate=9600")))
    elapsed = time.monotonic() - started
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= 10  # small chunks, like bytes trickling off a serial line
    assert elapsed >= expected_seconds * 0.9


def write_timing(path: Path, entries: list[tuple[float, int]]) -> None:
    path.write_text("".join(f"{delay:.6f} {count}\n" for delay, count in entries))


def test_timing_pace_follows_the_timing_file(tmp_path: Path, arun: Callable[..., Any]) -> None:
    capture = tmp_path / "pbx.smdr"
    capture.write_bytes(STREAM[:100])
    entries = [(0.05, 30), (0.1, 0), (0.1, 50), (0.05, 20)]
    write_timing(tmp_path / "pbx.smdr.timing", entries)
    started = time.monotonic()
    chunks = arun(read_all(open_url(f"file://{capture}?pace=timing")))
    elapsed = time.monotonic() - started
    assert [len(c) for c in chunks] == [30, 50, 20]
    assert b"".join(chunks) == STREAM[:100]
    assert elapsed >= 0.3 * 0.9


def test_timing_speed_and_explicit_timing_path(tmp_path: Path, arun: Callable[..., Any]) -> None:
    capture = tmp_path / "pbx.smdr"
    capture.write_bytes(STREAM[:100])
    timing = tmp_path / "other.timing"
    write_timing(timing, [(0.2, 60), (0.2, 40)])
    started = time.monotonic()
    chunks = arun(read_all(open_url(f"file://{capture}?pace=timing&timing={timing}&speed=4")))
    assert [len(c) for c in chunks] == [60, 40]
    assert time.monotonic() - started >= 0.1 * 0.9


def test_data_longer_than_timing_is_delivered_at_the_end(tmp_path: Path, arun: Callable[..., Any]) -> None:
    capture = tmp_path / "pbx.smdr"
    capture.write_bytes(STREAM[:100])
    write_timing(tmp_path / "pbx.smdr.timing", [(0.0, 10)])
    chunks = arun(read_all(open_url(f"file://{capture}?pace=timing")))
    assert [len(c) for c in chunks] == [10, 90]


def test_advanced_timing_format(tmp_path: Path) -> None:
    timing = tmp_path / "t"
    timing.write_text("H 0.000000 START_TIME 2024-01-01\nO 0.5 10\nI 0.25 3\nO 0.25 5\n"
                      "S 0.1 SIGWINCH 80x24\n")
    entries = read_timing_file(timing)
    assert [(e.delay, e.count) for e in entries] == [(0.5, 10), (0.5, 5)]


def test_missing_or_bad_timing_file(tmp_path: Path, arun: Callable[..., Any]) -> None:
    capture = tmp_path / "pbx.smdr"
    capture.write_bytes(b"x")
    with pytest.raises(TransportError, match=r"pbx\.smdr\.timing"):
        arun(read_all(open_url(f"file://{capture}?pace=timing")))
    (tmp_path / "pbx.smdr.timing").write_text("0.1 5\nbanana\n")
    with pytest.raises(TransportError, match=r"pbx.smdr.timing:2: not a timing line"):
        arun(read_all(open_url(f"file://{capture}?pace=timing")))


def test_bad_options() -> None:
    with pytest.raises(TransportError, match="pace='slow'"):
        open_url("file:///x?pace=slow")
    with pytest.raises(TransportError, match=r"speed must be more than 0|at least"):
        open_url("file:///x?pace=timing&speed=-1")
    assert isinstance(open_url("file://C:/x.smdr"), FileReplayTransport)


@pytest.mark.parametrize("pace", ["flat", "timing"])
def test_a_resumed_replay_starts_at_its_offset_and_the_timing_follows(tmp_path: Path, arun: Callable[..., Any],
                                                                     pace: str) -> None:
    capture = tmp_path / "pbx.smdr"
    capture.write_bytes(STREAM[:100])
    write_timing(tmp_path / "pbx.smdr.timing", [(0.0, 30), (0.0, 50), (0.0, 20)])
    transport = open_url(f"file://{capture}?pace={pace}")
    transport.start_offset = 40
    chunks = arun(read_all(transport))
    assert b"".join(chunks) == STREAM[40:100]
    if pace == "timing":
        assert [len(c) for c in chunks] == [40, 20]
    identity = transport.capture_identity()
    capture.write_bytes(b"another capture" + STREAM[:100])
    assert transport.capture_identity() != identity
