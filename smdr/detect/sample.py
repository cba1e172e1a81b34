"""The first part of a capture, cut into records the way a source would cut it (detection reads no more)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from ..detect_limits import MAX_BYTES, MAX_LINES
from ..framing import Framer

__all__ = ["MAX_BYTES", "MAX_LINES", "Sample", "read_sample", "sample_of"]


@dataclass(slots=True)
class Sample:
    lines: list[bytes]      # framed records (empty lines are already gone, as in a source)
    size: int               # bytes read
    complete: bool          # the whole capture was read (not cut at max_bytes or max_lines)
    data: bytes = b""       # the bytes read, for a parser that frames its own (binary) protocol
    max_lines: int = MAX_LINES


def sample_of(data: bytes, *, max_lines: int = MAX_LINES, complete: bool = True) -> Sample:
    """Frame ``data``; when it is the head of a longer capture, its last, partial record is left out."""
    overlong: list[bytes] = []
    framer = Framer(on_overlong=lambda fragment, continued: None if continued else overlong.append(fragment))
    lines = framer.feed(data)
    if complete:
        tail = framer.take_partial()
        if tail:
            lines.append(tail)
    lines = overlong + lines if overlong else lines  # an endless line is a (rejected) record too
    if len(lines) > max_lines:
        return Sample(lines[:max_lines], len(data), False, data, max_lines)
    return Sample(lines, len(data), complete, data, max_lines)


def read_sample(handle: BinaryIO, *, max_bytes: int = MAX_BYTES, max_lines: int = MAX_LINES) -> tuple[Sample, bytes]:
    """Read the head of ``handle``; returns the sample and the bytes read (to be fed on, for stdin)."""
    head = handle.read(max_bytes + 1)
    complete = len(head) <= max_bytes
    return sample_of(head[:max_bytes], max_lines=max_lines, complete=complete), head
