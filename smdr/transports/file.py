"""Replay a captured byte stream from a file, as fast as possible or paced like the real line.

    file://captures/pbx.smdr                 relative to the working directory
    file:///var/lib/smdr/pbx.smdr            absolute
    file://C:/captures/pbx.smdr              Windows drive path
    ?pace=flat                               (default) big chunks, no waiting
    ?pace=baud&baudrate=9600                 10 bits of wire time per byte, in small chunks
    ?pace=timing[&timing=PATH][&speed=2.0]   util-linux scriptreplay timing (default PATH.timing), sped up
    ?pace=timing&start=2026-01-14T09:30:00   when the capture began (local time of the source's zone)

With timing, the bytes are received at their recorded times: the capture's start (``start=``, else
the data file's modification time less the timing's total: ``smdr record`` writes the file as each
chunk comes) plus each chunk's offset; the source's timers run on the same clock. So a replay gives
the same times, and the same decisions of the timers, as the line did.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from ..errors import TransportClosed, TransportError
from .base import Transport
from .urls import merge_options, option_float, option_int, parse_url

FILE_OPTIONS = ("pace", "baudrate", "timing", "speed", "chunk_size", "start")
PACES = ("flat", "baud", "timing")
FLAT_CHUNK = 65536
BITS_PER_BYTE = 10  # start + 8 data + stop: the usual 8N1 wire time
BAUD_TICK_SECONDS = 0.01  # a paced chunk carries about this much wire time
IDENTITY_BYTES = 65536  # a capture is known by its path and a hash of this many first bytes


@dataclass(slots=True, frozen=True)
class TimingEntry:
    """One line of a scriptreplay timing file: wait ``delay`` seconds, then ``count`` bytes follow."""

    delay: float
    count: int


def read_timing_file(path: Path) -> list[TimingEntry]:
    """Parse ``<delay> <count>`` lines (classic ``script -t``) or advanced ``O <delay> <count>`` lines.

    In the advanced format only output (``O``) entries carry bytes of the data file; the delays of other
    entries (input, header, signal) still count as time passing.
    """
    try:
        lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError as exc:
        raise TransportError(f"cannot read timing file {path}: {exc.strerror or exc}") from exc
    entries: list[TimingEntry] = []
    carried_delay = 0.0
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        kind = "O"
        if fields[0].isalpha():
            kind, fields = fields[0].upper(), fields[1:]
        try:
            delay = float(fields[0])
            count = int(fields[1]) if kind in ("O", "I") else 0
        except (IndexError, ValueError):
            raise TransportError(
                f"{path}:{number}: not a timing line (expected '<seconds> <bytes>'): {line!r}") from None
        if delay < 0 or count < 0:
            raise TransportError(f"{path}:{number}: negative delay or byte count: {line!r}")
        if kind == "O":
            entries.append(TimingEntry(carried_delay + delay, count))
            carried_delay = 0.0
        else:
            carried_delay += delay
    return entries


def _skip_timing(entries: list[TimingEntry], offset: int) -> tuple[list[TimingEntry], float]:
    """The timing entries after the first ``offset`` bytes (a resumed replay), the first one cut, and
    the seconds the skipped ones took."""
    index, skipped = 0, 0.0
    while offset > 0 and index < len(entries):
        skipped += entries[index].delay
        if entries[index].count > offset:
            entries[index] = TimingEntry(0.0, entries[index].count - offset)
            break
        offset -= entries[index].count
        index += 1
    return entries[index:], skipped


def recorded_start(timing: Path) -> datetime | None:
    """The wall-clock start a journal segment's timing file carries (``H 0 START_TIME <iso>``)."""
    try:
        with timing.open(encoding="ascii", errors="replace") as handle:
            fields = handle.readline().split()
        return datetime.fromisoformat(fields[3]) if fields[:1] == ["H"] and fields[2:3] == ["START_TIME"] else None
    except (OSError, ValueError, IndexError):
        return None


def path_from_url(target: str) -> Path:
    """``file://`` target -> path: ``relative/p``, ``/abs/p``, ``C:/x``; ``/C:/x`` -> ``C:/x``."""
    if re.match(r"^/[A-Za-z]:[/\\]", target):
        target = target[1:]
    return Path(target)


class FileReplayTransport(Transport):
    """A finite source: delivers the file once, then raises TransportClosed (``reconnects`` is False)."""

    reconnects = False

    def __init__(self, url: str, **overrides: Any) -> None:
        super().__init__(url)
        parsed = parse_url(url)
        options = merge_options(url, parsed.query, overrides, FILE_OPTIONS)
        if not parsed.target:
            raise TransportError(f"{self.display_url}: no file; use file://relative/path or file:///abs/path")
        self.path = path_from_url(parsed.target)
        self.pace = str(options.get("pace", "flat")).lower()
        if self.pace not in PACES:
            raise TransportError(
                f"{self.display_url}: pace={self.pace!r}; expected one of {', '.join(PACES)}")
        self.baudrate = option_int(url, options, "baudrate", 9600)
        if self.baudrate <= 0:
            raise TransportError(f"{self.display_url}: baudrate must be positive")
        speed = option_float(url, options, "speed", 1.0)
        self.speed = 1.0 if speed is None else speed
        if self.speed <= 0:
            raise TransportError(f"{self.display_url}: speed must be more than 0")
        timing = options.get("timing")
        self.timing_path = Path(str(timing)) if timing else Path(f"{self.path}.timing")
        default_chunk = max(1, round(self.baudrate / BITS_PER_BYTE * BAUD_TICK_SECONDS)) \
            if self.pace == "baud" else FLAT_CHUNK
        self.chunk_size = max(1, option_int(url, options, "chunk_size", default_chunk))
        self.start_offset = 0  # bytes skipped at open: a resumed replay
        self.start = self._start_option(options.get("start"))
        self._file: IO[bytes] | None = None
        self._timing: Iterator[TimingEntry] | None = None
        self._capture_start: datetime | None = None  # naive local: when the recorded stream began
        self._started = 0.0
        self._wire_seconds = 0.0  # when (after _started) the bytes delivered so far are due

    def capture_identity(self) -> str | None:
        try:
            with self.path.open("rb") as handle:
                head = handle.read(IDENTITY_BYTES)
        except OSError:
            return None
        return f"{self.path.resolve()}|{hashlib.sha256(head).hexdigest()[:32]}"

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    async def open(self) -> None:
        await self.close()
        self._file = self._open_file()
        self._file.seek(self.start_offset)
        if self.pace == "timing":
            try:
                entries = read_timing_file(self.timing_path)
            except TransportError:
                await self.close()
                raise
            remaining, skipped_delay = _skip_timing(list(entries), self.start_offset)
            self._timing = iter(remaining)
            start = self.start or recorded_start(self.timing_path) or (
                datetime.fromtimestamp(self.path.stat().st_mtime) - timedelta(seconds=sum(e.delay for e in entries)))
            self._capture_start = start + timedelta(seconds=skipped_delay)
        self._started = time.monotonic()
        self._wire_seconds = 0.0

    def _start_option(self, value: Any) -> datetime | None:
        if value in (None, ""):
            return None
        try:
            return datetime.fromisoformat(str(value)).replace(tzinfo=None)
        except ValueError:
            raise TransportError(f"{self.display_url}: start={value!r} is not a time like 2026-01-14T09:30:00") \
                from None

    def received_at(self, tz: Any) -> datetime:
        if self._capture_start is None:
            return datetime.now(tz)
        return _in_zone(self._capture_start + timedelta(seconds=self._wire_seconds * self.speed), tz)

    def clock(self, tz: Any) -> datetime:
        if self._capture_start is None:
            return datetime.now(tz)
        played = (time.monotonic() - self._started) * self.speed
        return _in_zone(self._capture_start + timedelta(seconds=played), tz)

    def _open_file(self) -> IO[bytes]:
        try:
            return self.path.open("rb")
        except OSError as exc:
            reason = exc.strerror or exc
            raise TransportError(f"{self.display_url}: cannot open {self.path}: {reason}") from exc

    async def read(self) -> bytes:
        if self._file is None:
            raise TransportClosed(f"{self.display_url}: not open")
        if self.pace == "timing":
            return await self._read_timed()
        data = self._file.read(self.chunk_size)
        if not data:
            raise TransportClosed(f"{self.display_url}: end of file")
        if self.pace == "baud":
            self._wire_seconds += len(data) * BITS_PER_BYTE / self.baudrate
            await self._sleep_until_due()
        else:
            await asyncio.sleep(0)  # let others run between big chunks
        return data

    async def _read_timed(self) -> bytes:
        assert self._file is not None and self._timing is not None
        while True:
            entry = next(self._timing, None)
            if entry is None:  # timing ran out before the data: the rest at once
                data = self._file.read(FLAT_CHUNK)
                if not data:
                    raise TransportClosed(f"{self.display_url}: end of file")
                return data
            self._wire_seconds += entry.delay / self.speed
            if entry.count == 0:
                continue
            data = self._file.read(entry.count)
            if not data:
                raise TransportClosed(f"{self.display_url}: end of file")
            await self._sleep_until_due()
            return data

    async def _sleep_until_due(self) -> None:
        delay = self._started + self._wire_seconds - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def close(self) -> None:
        file, self._file, self._timing = self._file, None, None
        if file is not None:
            file.close()


def _in_zone(moment: datetime, tz: Any) -> datetime:
    """A naive capture time is the PBX's local time; a journal's start is a real instant."""
    return moment.astimezone(tz) if moment.tzinfo is not None else moment.replace(tzinfo=tz)
