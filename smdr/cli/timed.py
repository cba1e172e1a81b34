"""`smdr parse` of a capture with its timing file: every chunk received at its recorded time.

The times are the capture's start plus each chunk's offset, so parsing the same capture twice gives the
same received times (and call_ids) whatever the day; the timers (a caller-ID line whose rings stopped)
are run at those times too, before each chunk and once the capture has ended, as on the live line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from ..decoder import Decoder
from ..model import CallEvent
from ..transports.file import read_timing_file, recorded_start


def capture_start(path: Path, total_seconds: float) -> datetime:
    """When a capture began, if nothing says: its file's time less the timing's total (smdr record
    writes the data file as each chunk comes, so its time is the last chunk's)."""
    return datetime.fromtimestamp(path.stat().st_mtime) - timedelta(seconds=total_seconds)


def feed(path: Path, timing: Path, start: datetime | None, decoder: Decoder,
         write: Callable[[list[CallEvent]], object]) -> None:
    """``write`` takes the events of one step (a chunk, a tick) at a time."""
    entries = read_timing_file(timing)
    tz = decoder.tracker.localize.tz
    began = start or _local(recorded_start(timing), tz) or capture_start(path, sum(e.delay for e in entries))
    offset = 0.0
    now = began.replace(tzinfo=tz)
    with path.open("rb") as handle:
        for entry in entries:
            offset += entry.delay
            data = handle.read(entry.count) if entry.count else b""
            now = (began + timedelta(seconds=offset)).replace(tzinfo=tz)
            if decoder.tick_interval:
                write(decoder.tick(now))
            if data:
                write(decoder.feed(data, now))
        rest = handle.read()
        if rest:  # bytes the timing file does not cover: received at its last time
            write(decoder.feed(rest, now))
    write(decoder.finish())
    if decoder.tick_interval:
        write(decoder.tick(now + timedelta(seconds=decoder.settle_seconds)))


def _local(moment: datetime | None, tz) -> datetime | None:
    """A journal's recorded start (an instant) as the naive local time the rest of this module uses."""
    return None if moment is None else moment.astimezone(tz).replace(tzinfo=None)
