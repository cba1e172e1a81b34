"""Decode a big read in slices, giving the event loop back between them.

A source with data ready never suspends on its own (a socket read with bytes in its buffer returns at
once), so a burst read in large chunks would hold the loop for the whole chunk's decoding, and a popup on
another source would wait behind it. Reads stay large (one commit per read, so a burst costs few fsyncs);
the decoding of one read is cut into slices of about SLICE_BYTES, with a turn of the loop between two.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from .decoder import Decoder
    from .model import CallEvent

T = TypeVar("T")
#: events handled between two turns of the loop where each costs microseconds (encoding, notifying)
EVENT_SLICE = 100
#: about 50 records: a slice is decoded in well under a millisecond (the longest one source holds the loop)
SLICE_BYTES = 4096


def slice_ends(chunk: bytes, size: int = SLICE_BYTES) -> list[int]:
    """Where to cut ``chunk``: just after a line end near every ``size`` bytes (at ``size`` itself in a
    line longer than that); the last end is ``len(chunk)``."""
    ends: list[int] = []
    start, total = 0, len(chunk)
    while total - start > size:
        cut = chunk.rfind(b"\n", start, start + size) + 1
        start = cut if cut > start else start + size
        ends.append(start)
    ends.append(total)
    return ends


async def feed_in_slices(decoder: Decoder, chunk: bytes, received_at: datetime) -> list[CallEvent]:
    """``decoder.feed(chunk)``, the same events, with the loop free between slices."""
    if len(chunk) <= SLICE_BYTES:
        return decoder.feed(chunk, received_at)
    events: list[CallEvent] = []
    start = 0
    for end in slice_ends(chunk):
        if start:
            await asyncio.sleep(0)
        events.extend(decoder.feed(chunk[start:end], received_at))
        start = end
    return events


async def in_slices(items: list[T], size: int = EVENT_SLICE) -> AsyncIterator[list[T]]:
    """``items`` in slices of ``size``, with a turn of the loop between two (none for a short list)."""
    for start in range(0, len(items), size):
        if start:
            await asyncio.sleep(0)
        yield items[start:start + size]
