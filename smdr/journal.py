"""The raw journal of a live source: every byte it reads, appended before it is parsed.

One directory per source (``data_dir/journal/NAME``) of segments in the ``smdr record`` format: the bytes
in ``<offset>.cap`` (``offset``: the source's byte count at the segment's first byte, 16 digits, so the
names sort in stream order) and their timing in ``<offset>.cap.timing`` (util-linux advanced format: an
``H 0 START_TIME <iso>`` header with the wall-clock start, then ``O <seconds> <bytes>`` per chunk). A
segment is replayable with ``file://SEGMENT?pace=timing`` and readable by ``smdr parse``.

Written with plain ``write`` calls and no fsync: a killed process loses nothing it wrote (the page cache
keeps it); a power cut can lose the last seconds. Segments are rotated by size and age and deleted after
``keep_days``. The source's committed position (a byte offset in this numbering) lives in the outbox with
the events of the same chunk; on restart ``read_after(offset)`` gives back what was read but not committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

log = logging.getLogger("smdr.journal")

SEGMENT_BYTES = 16 * 2**20
SEGMENT_SECONDS = 24 * 3600
KEEP_DAYS = 30.0
SUFFIX = ".cap"
_LINE_ENDS = (b"\n", b"\r", b"\x0b", b"\x0c")


def last_line_end(chunk: bytes) -> int:
    """Index just after the last line end in ``chunk``; 0 when there is none."""
    return max(chunk.rfind(end) for end in _LINE_ENDS) + 1


class Journal:
    def __init__(self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES,
                 segment_seconds: float = SEGMENT_SECONDS, keep_days: float = KEEP_DAYS) -> None:
        self.directory = directory
        self.segment_bytes, self.segment_seconds, self.keep_days = segment_bytes, segment_seconds, keep_days
        self.end = end_offset(directory)  # the source's byte count: continues across restarts
        self._data: IO[bytes] | None = None
        self._timing: IO[str] | None = None
        self._segment_start = 0
        self._opened_at = 0.0
        self._last_chunk_at = 0.0
        self._failing = False

    def append(self, chunk: bytes) -> int:
        """Append ``chunk``; the source's byte count after it (also when the disk refused it)."""
        start = self.end
        self.end += len(chunk)
        try:
            now = time.monotonic()
            if self._data is None or self._data.tell() >= self.segment_bytes or \
                    now - self._opened_at >= self.segment_seconds:
                self._open_segment(start, now)
            assert self._data is not None and self._timing is not None
            self._data.write(chunk)
            self._data.flush()
            self._timing.write(f"O {now - self._last_chunk_at:.6f} {len(chunk)}\n")
            self._timing.flush()
            self._last_chunk_at = now
            self._failing = False
        except OSError as exc:
            self.close()  # the next chunk starts a new segment, at its own offset: no hole inside one
            if not self._failing:
                self._failing = True
                log.error("cannot write the raw journal in %s (%s): bytes are parsed but not journaled until "
                          "it works again", self.directory, exc.strerror or exc)
        return self.end

    def _open_segment(self, start: int, now: float) -> None:
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{start:016d}{SUFFIX}"
        self._data = open(path, "ab")
        self._timing = open(f"{path}.timing", "a", encoding="ascii")
        self._timing.write(f"H 0.000000 START_TIME {datetime.now(UTC).isoformat()}\n")
        self._timing.flush()
        self._segment_start, self._opened_at, self._last_chunk_at = start, now, now
        self._delete_old()

    def _delete_old(self) -> None:
        cutoff = time.time() - self.keep_days * 86400
        for path in segments(self.directory)[:-1]:
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    Path(f"{path}.timing").unlink(missing_ok=True)
                    log.info("journal segment %s older than %g days removed", path, self.keep_days)
            except OSError:
                pass

    def close(self) -> None:
        for handle in (self._data, self._timing):
            if handle is not None:
                try:
                    handle.close()
                except OSError:
                    pass
        self._data = self._timing = None


def segments(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if p.name.endswith(SUFFIX) and p.stem.isdigit())
    except FileNotFoundError:
        return []


def end_offset(directory: Path) -> int:
    found = segments(directory)
    if not found:
        return 0
    return int(found[-1].stem) + found[-1].stat().st_size


def read_after(directory: Path, offset: int) -> Iterator[tuple[bytes, datetime | None]]:
    """(bytes, wall-clock time they were read) of the journal after ``offset``, in order."""
    for path in segments(directory):
        start = int(path.stem)
        if start + path.stat().st_size > offset:
            yield from read_segment(path, max(0, offset - start))


def read_segment(path: Path, skip: int = 0) -> Iterator[tuple[bytes, datetime | None]]:
    """(bytes, wall-clock time they were read) of one segment (or any capture with such a timing file)."""
    position = 0
    with open(path, "rb") as data:
        for count, received_at in _timed_counts(Path(f"{path}.timing")):
            chunk = data.read(count)
            if not chunk:
                break
            position += len(chunk)
            if position > skip:
                yield chunk[max(0, len(chunk) - (position - skip)):], received_at
        data.seek(max(position, skip))
        rest = data.read()  # written before its timing line when the process was killed
    if rest:
        yield rest, None


def _timed_counts(timing: Path) -> Iterator[tuple[int, datetime | None]]:
    try:
        lines = timing.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return
    at: datetime | None = None
    for line in lines:
        fields = line.split()
        try:
            if fields[:1] == ["H"] and len(fields) >= 4 and fields[2] == "START_TIME":
                at = datetime.fromisoformat(fields[3])
            elif fields[:1] == ["O"] and len(fields) >= 3:
                if at is not None:
                    at += timedelta(seconds=float(fields[1]))
                yield int(fields[2]), at
        except ValueError:
            return  # a line cut by a kill: the data after it comes as the rest


def journal_dir(data_dir: Path, name: str) -> Path:
    return Path(data_dir) / "journal" / name
