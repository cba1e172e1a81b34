"""Decode a big read in slices, giving the event loop back between them.

A source with data ready never suspends on its own (a socket read with bytes in its buffer returns at
once), so a burst read in large chunks would hold the loop for the whole chunk's decoding, and a popup on
another source would wait behind it. Reads stay large (one commit per read, so a burst costs few fsyncs);
the decoding of one read is cut into slices of about SLICE_BYTES, with a turn of the loop between two.
While urgent work is under way (a popup's request getting onto the wire: ``urgent_started``), the next
slice waits for it, at most URGENT_WAIT: bulk work interleaved with each of its steps would make it wait
a slice per step.

A read bigger than one slice means a burst (a PBX dumping its buffer after a link outage: live records
come a few a second, never kilobytes at once). While one is read, call-record delivery steps aside
(``bulk_over``, bounded per request): its requests would take the loop, the CPU and the CRM from the
popups of the other sources, and a call record can wait a moment; it goes on once the burst is in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from .decoder import Decoder
    from .model import CallEvent

T = TypeVar("T")
#: events handled between two turns of the loop where each costs microseconds (encoding, notifying)
EVENT_SLICE = 100
URGENT_WAIT = 0.01  # seconds a slice waits for urgent work at most (as call records wait for a popup)
#: about 50 records: a slice is decoded in well under a millisecond (the longest one source holds the loop)
SLICE_BYTES = 4096
BULK_QUIET = 0.2  # seconds after a burst's last big read until it counts as over
BULK_STEP_ASIDE = 1.0  # seconds a call record waits for a burst at most, per request


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


class _Urgent:
    """How much urgent work is under way, and an event per loop set while there is none."""

    __slots__ = ("count", "idle")

    def __init__(self) -> None:
        self.count = 0
        self.idle: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}


_URGENT = _Urgent()


class _Bulk:
    __slots__ = ("until",)

    def __init__(self) -> None:
        self.until = 0.0  # monotonic time until which a burst is being read


_BULK = _Bulk()


def bulk_read() -> None:
    """A read bigger than one slice is being decoded: a burst."""
    _BULK.until = time.monotonic() + BULK_QUIET


async def bulk_over(limit: float | None = None) -> None:
    """Until no burst has been read for BULK_QUIET seconds, for at most ``limit`` (default
    BULK_STEP_ASIDE); at once, without a turn of the loop, when none is being read."""
    now = time.monotonic()
    if now >= _BULK.until:
        return
    deadline = now + (BULK_STEP_ASIDE if limit is None else limit)
    while now < _BULK.until and now < deadline:
        await asyncio.sleep(min(_BULK.until, deadline) - now)
        now = time.monotonic()


def urgent_started() -> None:
    """Urgent work starts (call ``urgent_done`` once it is over); slices wait for it meanwhile."""
    _URGENT.count += 1
    for idle in _URGENT.idle.values():
        idle.clear()


def urgent_this_turn() -> None:
    """Urgent work until the callbacks ready now have run (a task just created takes its first step,
    where a ringing event reaches the popup's sender, which is urgent in its own right from there)."""
    urgent_started()
    asyncio.get_running_loop().call_soon(urgent_done)


def live_read(size: int) -> None:
    """A source's link delivered ``size`` bytes. At most a slice is a live record (or a few): it is urgent
    for one turn, in which its source reads it before another source's burst takes its next slice (its
    bytes arrive in a turn where that slice is already queued). A bigger read is a burst of its own."""
    if 0 < size <= SLICE_BYTES:
        urgent_this_turn()


def urgent_done() -> None:
    _URGENT.count = max(0, _URGENT.count - 1)
    if not _URGENT.count:
        for idle in _URGENT.idle.values():
            idle.set()


async def make_way() -> None:
    """A turn of the loop between two slices of bulk work; longer (bounded) while urgent work is under way."""
    if not _URGENT.count:
        await asyncio.sleep(0)
        if not _URGENT.count:  # it may have started in that turn (a live record read meanwhile)
            return
    await urgent_over()


async def urgent_over() -> None:
    """Until no urgent work is under way, for at most URGENT_WAIT; at once, without a turn of the loop,
    when none is."""
    if not _URGENT.count:
        return
    loop = asyncio.get_running_loop()
    idle = _URGENT.idle.get(loop)
    if idle is None:
        for closed in [other for other in _URGENT.idle if other.is_closed()]:
            del _URGENT.idle[closed]
        idle = _URGENT.idle[loop] = asyncio.Event()
    try:
        await asyncio.wait_for(idle.wait(), URGENT_WAIT)
    except TimeoutError:
        pass


async def feed_in_slices(decoder: Decoder, chunk: bytes, received_at: datetime) -> list[CallEvent]:
    """``decoder.feed(chunk)``, the same events, with the loop free between slices."""
    if len(chunk) <= SLICE_BYTES:
        return decoder.feed(chunk, received_at)
    bulk_read()
    events: list[CallEvent] = []
    start = 0
    for end in slice_ends(chunk):
        if start:
            await make_way()
        events.extend(decoder.feed(chunk[start:end], received_at))
        start = end
    return events


async def in_slices(items: list[T], size: int = EVENT_SLICE) -> AsyncIterator[list[T]]:
    """``items`` in slices of ``size``, with a turn of the loop between two (none for a short list)."""
    for start in range(0, len(items), size):
        if start:
            await make_way()
        yield items[start:start + size]
