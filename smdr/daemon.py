"""The long-running connector: every configured source into one sink (JSONL, or the CRM outbox)."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress

from . import __version__
from .config import Settings
from .cti.dialing import Dialers, can_dial
from .cti.gis_recordings import CACHE_DIR, GisRecordingLinks, provides_recordings
from .cti.makecall import MakeCall
from .datalock import DataDirLock
from .decoder import DecoderStats
from .httpd import HttpServer, Router
from .monitor.routes import add_routes as add_status_routes
from .monitor.routes import site_status
from .monitor.state import SiteStatus
from .pipeline import SourceSpec, run_source
from .quarantine import Quarantine
from .sinks import EventSink, JsonlSink
from .transports import open_url, transport_class, url_scheme
from .transports.base import Backoff

log = logging.getLogger("smdr.run")

# A middle collection scans what survived the young collections since the last one: during a burst,
# mostly call events on their way to disk (4,000-5,000 of them, and their provenance). After ten young
# collections (Python's default) that took 3-15 ms, and held the event loop as long; after two, at most
# 3-5 ms, for the same collector time in all (measured: bench/popup.py with a 100k burst, 2 runs each).
MIDDLE_COLLECTION_EVERY = 2  # collections of the youngest generation
# A full collection scans every object alive: during a burst it held the event loop 20-45 ms, seven
# times per 100,000 records (measured). Every 1,000 young collections instead of 100 (Python's default):
# about none per burst, and the few cycles this program makes wait that much longer.
FULL_COLLECTION_EVERY = 500  # collections of the middle generation


async def run(settings: Settings, *, once: bool = False, stop: asyncio.Event | None = None,
              router: Router | None = None, from_start: bool = False) -> int:
    """Run until stopped (SIGINT/SIGTERM or ``stop``); with ``once``, until finite sources end and the
    events they gave are delivered (exit 1 if there was nothing to do: every capture already replayed).
    With an ``http:`` section, the HTTP server serves ``router``'s routes (features add theirs to it).
    ``from_start``: replayed captures start from their first byte, not where the last run stopped."""
    stop = stop or asyncio.Event()
    with DataDirLock(settings.data_dir, "smdr run") as lock:  # DataDirBusy (naming the PID) if one runs
        return await _run_locked(settings, once, stop, router, from_start, lock)


async def _run_locked(settings: Settings, once: bool, stop: asyncio.Event, router: Router | None,
                      from_start: bool, lock: DataDirLock) -> int:
    _install_signal_handlers(stop)
    router = router or Router()
    http = HttpServer(settings.http, router) if settings.http is not None else None
    if http is not None:
        await http.start()  # first: a port in use is a clear error before anything else starts
    log.info("smdr %s starting (%s)", __version__, settings.path)
    quarantine = Quarantine(settings.quarantine_path)
    sink, background, drained, close = _make_sink(settings, stop, lock)
    backlog_at_start = sink.backlog()
    status = site_status(settings, quarantine, sink)
    if http is not None:
        add_status_routes(router, status, settings.http)
    watch = asyncio.create_task(status.watch(stop), name="status")
    recordings = _start_recordings(settings, sink, router, http.base_url if http is not None else "", stop) if (
        settings.recordings is not None) else None
    sinks = _source_sinks(settings, sink)
    pbx_recordings = _pbx_recordings(settings, router, http.base_url) if http is not None else None
    if pbx_recordings is not None:
        sinks = {name: pbx_recordings.sink(name, source_sink) for name, source_sink in sinks.items()}
    dialers = Dialers()
    if settings.click_to_call is not None:
        MakeCall(settings.click_to_call, dialers).add_routes(router)
    sources = [asyncio.create_task(_supervise(spec, sinks[spec.name], quarantine, stop, restart=not once,
                                              dialers=dialers, from_start=from_start, status=status,
                                              recordings=pbx_recordings), name=spec.name)
               for spec in settings.sources]
    if background is not None:
        background.add_done_callback(_report_unexpected_end)
    await asyncio.sleep(0)  # each source has compiled its layout and restored its state
    _settle_collector()
    log.info("smdr running: %d source(s): %s", len(sources),
             ", ".join(f"{s.name} ({s.layout})" for s in settings.sources))
    exit_code = 0
    try:
        if once:
            results = await asyncio.gather(*sources, return_exceptions=True)
            for spec, result in zip(settings.sources, results):
                if isinstance(result, BaseException):
                    log.error("%s: %s", spec.name, result)
                    exit_code = 1
            if not await drained():
                exit_code = 1
            if not backlog_at_start and all(isinstance(r, DecoderStats) and r.replayed_before for r in results):
                log.error("nothing to do: every source was already replayed and nothing waits for the CRM "
                          "(`smdr run --from-start` replays the captures again)")
                exit_code = 1
            stop.set()
        else:
            await stop.wait()
    finally:
        stop.set()
        watch.cancel()
        for task in sources:
            task.cancel()
        for task in sources:
            with suppress(asyncio.CancelledError, Exception):
                await task
        if background is not None:
            with suppress(asyncio.CancelledError):
                await background
        if http is not None:
            await http.close()
        if recordings is not None:
            await recordings()
        await close()
        quarantine.close()
        if quarantine.total:
            log.warning("%d record(s) quarantined in %s: %s", quarantine.total, settings.quarantine_path,
                        quarantine.counts)
    return exit_code


async def _supervise(spec: SourceSpec, sink: EventSink, quarantine: Quarantine, stop: asyncio.Event, *,
                     restart: bool, dialers: Dialers | None = None, from_start: bool = False,
                     status: SiteStatus | None = None,
                     recordings: GisRecordingLinks | None = None) -> DecoderStats | None:
    """Run one source; if it fails (a bug, a resource error), say so and start it again with backoff.
    A source whose transport can place calls (TAPI, GIS) is click-to-call's dialer while it runs; one
    that hands out its PBX's recordings (GIS) serves them through ``recordings``."""
    backoff = Backoff(initial=1.0, cap=300.0)
    while not stop.is_set():
        try:
            transport = open_url(spec.url, **spec.transport_options)
            if dialers is not None and can_dial(transport):
                dialers.add(spec.name, transport)  # type: ignore[arg-type]
            if recordings is not None and provides_recordings(transport):
                recordings.add(spec.name, transport)  # type: ignore[arg-type]
            try:
                return await run_source(spec, sink, quarantine=quarantine, stop=stop, transport=transport,
                                        from_start=from_start, status=status)
            finally:
                if dialers is not None:
                    dialers.remove(spec.name)
                if recordings is not None:
                    recordings.remove(spec.name)
        except Exception as exc:
            if not restart:
                raise
            from_start = False  # a restart after a failure goes on where it stopped
            delay = backoff.next_delay()
            log.error("%s: the source stopped (%s: %s); starting it again in %.0f s", spec.name,
                      type(exc).__name__, exc, delay, exc_info=exc)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    return None


def _settle_collector() -> None:
    """What start-up made lives as long as the daemon: out of the collector's scans (gc.freeze); middle
    collections smaller (MIDDLE_COLLECTION_EVERY) and full ones rarer (FULL_COLLECTION_EVERY)."""
    gc.collect()
    gc.freeze()
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, min(middle, MIDDLE_COLLECTION_EVERY), max(full, FULL_COLLECTION_EVERY))


def _report_unexpected_end(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("delivery to the CRM stopped: %s; events stay queued in the outbox until smdr restarts",
                  task.exception(), exc_info=task.exception())


def _make_sink(settings: Settings, stop: asyncio.Event, lock: DataDirLock) -> tuple[
        EventSink, asyncio.Task | None, Callable[[], Awaitable[bool]], Callable[[], Awaitable[None]]]:
    """The sink, its delivery task (if any), a coroutine that waits until it has delivered, a closer."""
    crm = settings.section("crm")
    if crm is None:
        sink = JsonlSink(settings.output or "-")

        async def written() -> bool:
            return True

        return sink, None, written, sink.aclose
    from .delivery import start_delivery  # the CRM side is only imported when configured

    return start_delivery(settings, stop, on_storage=lambda problem: lock.set_status(disk_full=problem))


def _source_sinks(settings: Settings, sink: EventSink) -> dict[str, EventSink]:
    """Each source's sink: the shared one, or through its call space (one call across box and PBX)."""
    from .callspace import CallSpace, SpaceSink

    spaces = {name: CallSpace(name, window) for name, window in settings.call_spaces.items()}
    return {spec.name: SpaceSink(spaces[spec.call_space], spec.name, sink, spec.space_lines)
            if spec.call_space else sink for spec in settings.sources}


def _pbx_recordings(settings: Settings, router: Router, base_url: str) -> GisRecordingLinks | None:
    """Links to recordings a PBX keeps itself (GIS), when a source's transport can hand them out."""
    if not any(provides_recordings(transport_class(url_scheme(spec.url))) for spec in settings.sources):
        return None
    from .httpd import LinkSigner

    links = GisRecordingLinks(LinkSigner.for_data_dir(settings.data_dir), base_url, settings.data_dir / CACHE_DIR)
    links.add_routes(router)
    return links


def _start_recordings(settings: Settings, sink: EventSink, router: Router, base_url: str,
                      stop: asyncio.Event) -> Callable[[], Awaitable[None]]:
    """Watch the recorder's folder and link its files to their calls; returns the closer."""
    from .httpd import LinkSigner
    from .normalize import zone
    from .outbox import Outbox
    from .recordings.service import RecordingService
    from .recordings.store import RECORDINGS_FILE, RecordingStore

    assert settings.recordings is not None and isinstance(sink, Outbox)  # config.py checks crm: is there
    store = RecordingStore.open(settings.data_dir / RECORDINGS_FILE)
    use_links = settings.recordings.url_template is None
    service = RecordingService(settings.recordings, sink, store, zone(settings.timezone),
                               links=LinkSigner.for_data_dir(settings.data_dir) if use_links else None,
                               base_url=base_url)
    service.start()
    service.add_routes(router)
    task = asyncio.create_task(service.run(stop), name="recordings")

    async def close() -> None:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        service.stop()
        store.close()

    return close


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError, ValueError):  # Windows: KeyboardInterrupt instead
            loop.add_signal_handler(sig, stop.set)
