"""One source end to end: transport -> framer -> parser -> normalizer -> tracker -> sink."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import tracker_state
from .decoder import Decoder, DecoderStats
from .journal import Journal
from .layout_hint import LayoutHint
from .model import CallEvent
from .quarantine import Quarantine
from .replay_position import ReplayPosition, replay_state_path
from .sinks import EventSink
from .slicing import feed_in_slices, in_slices
from .source_journal import SourceJournal
from .source_spec import SourceSpec, make_decoder
from .transports import open_url
from .transports.base import LINK_LOST, Backoff, Transport, read_stream

if TYPE_CHECKING:
    from .monitor.state import SiteStatus

__all__ = ["SourceSpec", "make_decoder", "run_source"]

log = logging.getLogger("smdr.pipeline")


async def _emit(sink: EventSink, events: list[CallEvent], source: str) -> None:
    pending = list(events)  # emit_many takes them from this list: a retry goes on with the rest
    if pending:
        await _deliver(lambda: sink.emit_many(pending), source)


async def _deliver(call: Callable[[], Awaitable[None]], source: str) -> None:
    """Hand events to the sink; while it cannot take them (a sink that raises), hold the source back and
    retry: they are never dropped, and the PBX keeps its own buffer meanwhile."""
    delay = 0.5
    failing = False
    while True:
        try:
            await call()
        except (sqlite3.Error, OSError) as exc:
            if not failing:
                log.error("%s: cannot store a call event (%s); holding the source back and retrying", source, exc)
                failing = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
            continue
        if failing:
            log.warning("%s: call events are stored again", source)
        return


def _resume_replay(spec: SourceSpec, transport: Transport, decoder: Decoder, from_start: bool) -> ReplayPosition | None:
    """A replayed capture goes on where it stopped (``from_start``: from byte 0 on purpose)."""
    capture = transport.capture_identity()
    if capture is None or spec.state_path is None:
        return None
    position = ReplayPosition.load(replay_state_path(spec.state_path), capture, from_start=from_start)
    transport.start_offset, decoder.position = position.offset, position.line
    if 0 < position.offset < transport.size:
        log.info("%s: resuming the replay of %s at byte %d (line %d); `smdr run --from-start` replays it "
                 "all again", spec.name, transport.display_url, position.offset, position.line)
    return position


async def run_source(spec: SourceSpec, sink: EventSink, *, quarantine: Quarantine | None = None,
                     stop: asyncio.Event | None = None, backoff: Backoff | None = None,
                     transport: Transport | None = None, from_start: bool = False,
                     status: SiteStatus | None = None) -> DecoderStats:
    """Read the source until it ends (file replay) or ``stop`` is set; every event goes to ``sink``.

    ``status`` hears the link state, the bytes, records and events (the status page).
    ``transport``: one already made for ``spec.url`` (e.g. a tcp-listen socket bound before the PBX is
    told its port); otherwise it is opened from the URL. Either way this source shuts it down at the end.
    ``from_start``: a replayed capture starts from its first byte, not where the last run stopped.
    """
    decoder = make_decoder(spec, quarantine)
    if transport is None:
        transport = open_url(spec.url, **spec.transport_options)
    replay = _resume_replay(spec, transport, decoder, from_start)
    if replay is not None and replay.offset and replay.offset >= transport.size:
        log.warning("%s: %s was already replayed to its end; `smdr run --from-start` replays it again",
                    spec.name, transport.display_url)
        stats = decoder.stats
        stats.replayed_before = True
        return stats
    tz = decoder.tracker.localize.tz
    journal = None
    if spec.journal_dir is not None and transport.capture_identity() is None:  # a replay needs none
        journal = SourceJournal(spec.name, Journal(spec.journal_dir), sink, decoder,
                                lambda call: _deliver(call, spec.name))
    if journal is not None and journal.restore():
        if spec.state_path is not None:
            spec.state_path.unlink(missing_ok=True)  # the committed state is the newer one
        await journal.recover(lambda: datetime.now(tz))
    elif spec.state_path is not None:
        tracker_state.load(decoder.tracker, spec.state_path)

    watcher = status.source(spec.name) if status is not None else None
    if watcher is not None:
        watcher.live = transport.reconnects

    hint = LayoutHint(spec.name, spec.layout)
    # a read is decoded in slices with the loop free between them: the timer waits for the whole read
    # (and its commit), or its events could go to the outbox before those of the read's first slices
    feeding = asyncio.Lock()

    async def consume() -> None:
        async for chunk in read_stream(transport, backoff, watcher.set_link if watcher is not None else None):
            if chunk is LINK_LOST:
                decoder.link_lost()
                continue
            async with feeding:
                await process(chunk)
        if journal is not None:
            await journal.flush()
        await _emit(sink, decoder.finish(), spec.name)
        if decoder.tick_interval:  # a finite replay: what the timers decide once the line is quiet
            settled = transport.clock(tz) + timedelta(seconds=decoder.settle_seconds)
            await _emit(sink, decoder.tick(settled), spec.name)
        if replay is not None:
            replay.finished(decoder.position, durable=not sink.in_memory())

    async def process(chunk: bytes) -> None:
        received = transport.received_at(tz)
        if journal is not None:
            events = await journal.process(chunk, received)  # to be committed with the source's state
        else:
            events = await feed_in_slices(decoder, chunk, received)
        if hint.wants_advice(chunk, decoder.position, decoder.events):
            await asyncio.to_thread(hint.advise, decoder.position)
        if watcher is not None:
            now = time.time()
            watcher.got_bytes(len(chunk), now)
            watcher.got_records(decoder.position, decoder.events, now)
            async for part in in_slices(events):
                watcher.check_clock(part, received)
        if status is not None:
            for event in events[-(status.recent.maxlen or 0):]:  # a burst: only the last ones are kept
                status.saw_event(spec.name, event)
        if journal is None:
            await _emit(sink, events, spec.name)
        if replay is not None:
            replay.advanced(chunk, decoder.position, durable=not sink.in_memory())

    async def tick(interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            async with feeding:
                if journal is not None:
                    journal.queue(decoder.tick(transport.clock(tz)))  # behind the chunks not committed yet
                else:
                    await _emit(sink, decoder.tick(transport.clock(tz)), spec.name)

    task = asyncio.create_task(consume(), name=f"source {spec.name}")
    ticker = asyncio.create_task(tick(decoder.tick_interval), name=f"timer {spec.name}") if (
        decoder.tick_interval) else None
    try:
        if stop is None:
            await task
        else:
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if task in done:
                task.result()
    finally:
        if ticker is not None:
            ticker.cancel()
        if not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await transport.shutdown()  # also releases a tcp-listen socket
        if journal is not None:
            try:
                await journal.flush()  # what was parsed is committed with its state (else parsed again)
            finally:
                journal.close()
        if replay is not None and not sink.in_memory():
            replay.save()
        if spec.state_path is not None:
            tracker_state.save(decoder.tracker, spec.state_path)
    stats = decoder.stats
    log.info("%s: %s", spec.name, stats.summary())
    return stats
