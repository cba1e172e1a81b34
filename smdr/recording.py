"""Record a PBX byte stream exactly as it arrives, with scriptreplay timing, for replay via file://.

``capture`` gets the raw bytes, ``capture.timing`` one ``<seconds since the previous chunk> <bytes>`` line per
chunk (util-linux ``scriptreplay`` format; replay with ``file://capture?pace=timing``). Both are flushed after
every chunk, so a recorder that is killed keeps what it got. A lost link is reconnected (``read_stream``);
the gap shows as a longer delay, nothing is written into the data.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .transports import LINK_LOST, Backoff, Transport, open_url, read_stream


@dataclass(slots=True)
class RecordingStats:
    output: Path
    byte_count: int = 0
    chunk_count: int = 0
    links_lost: int = 0
    line_count: int = 0  # line ends seen: about the number of records
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    stop_reason: str = "stopped"

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def summary(self) -> str:
        plural = "s" if self.links_lost != 1 else ""
        lost = f", link lost {self.links_lost} time{plural}" if self.links_lost else ""
        chunks = "chunk" if self.chunk_count == 1 else "chunks"
        return (f"recorded {self.byte_count} bytes in {self.chunk_count} {chunks} over {self.elapsed:.1f} s "
                f"to {self.output} (+ .timing){lost}; {self.stop_reason}")


def timing_path_for(output: Path) -> Path:
    return Path(f"{output}.timing")


class Recorder:
    """Copies one transport's bytes to ``output`` and ``output.timing`` until a limit or the source's end."""

    def __init__(self, transport: Transport, output: str | Path, *, duration: float | None = None,
                 max_bytes: int | None = None, backoff: Backoff | None = None, append: bool = False,
                 on_chunk: Callable[[RecordingStats, bytes], None] | None = None) -> None:
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.transport = transport
        self.output = Path(output)
        self.duration = duration
        self.max_bytes = max_bytes
        self.backoff = backoff
        self.append = append  # add to an existing capture (its timing file goes on too)
        self.on_chunk = on_chunk
        self.stats = RecordingStats(self.output)

    async def run(self) -> RecordingStats:
        self.stats = RecordingStats(self.output)
        data_file, timing = self._open_outputs()
        with data_file, timing:
            try:
                async with asyncio.timeout(self.duration):
                    await self._copy(data_file, timing)
            except TimeoutError:
                self.stats.stop_reason = f"duration {self.duration:g} s reached"
            finally:
                self.stats.finished = time.monotonic()
        return self.stats

    def _open_outputs(self) -> tuple[IO[bytes], IO[str]]:
        data_file = self.output.open("ab" if self.append else "wb")
        try:
            return data_file, timing_path_for(self.output).open("a" if self.append else "w", encoding="ascii")
        except BaseException:
            data_file.close()
            raise

    async def _copy(self, data_file: IO[bytes], timing: IO[str]) -> None:
        last = self.stats.started
        async with contextlib.aclosing(read_stream(self.transport, self.backoff)) as stream:
            async for chunk in stream:
                if chunk is LINK_LOST:
                    self.stats.links_lost += 1
                    continue
                data = chunk if self.max_bytes is None else chunk[:self.max_bytes - self.stats.byte_count]
                now = time.monotonic()
                data_file.write(data)
                data_file.flush()
                timing.write(f"{now - last:.6f} {len(data)}\n")
                timing.flush()
                last = now
                self.stats.byte_count += len(data)
                self.stats.chunk_count += 1
                self.stats.line_count += data.count(b"\n")
                if self.on_chunk is not None:
                    self.on_chunk(self.stats, data)
                if self.max_bytes is not None and self.stats.byte_count >= self.max_bytes:
                    self.stats.stop_reason = f"max bytes {self.max_bytes} reached"
                    return
        self.stats.stop_reason = "end of source"


async def record_url(url: str, output: str | Path, *, duration: float | None = None,
                     max_bytes: int | None = None) -> RecordingStats:
    """Open ``url``, record it (see ``Recorder``), and release the transport for good."""
    transport = open_url(url)
    recorder = Recorder(transport, output, duration=duration, max_bytes=max_bytes)
    try:
        return await recorder.run()
    finally:
        await transport.shutdown()
