"""Recordings -> ``recordingurl``: watch the folder, match each file to its call, send the CRM the link.

The update of a call repeats every field of its final event (the CRM reads an absent duration as 0
and an absent starttime as now) with ``recordingurl`` added, and goes through the outbox like every
event. The calls come from the outbox: its recent history when the connector starts, then each event
as it is committed. A file that fits no call yet stays listed as unmatched (log line, counter,
`smdr recordings`) and is tried again whenever a call ends near its time. A later final event of a
call that has its recording already (a PBX record after the caller-ID box's) is sent on with the link.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from ..httpd import HttpError, LinkSigner, Request, Response, Router
from ..httpd.files import file_response
from ..model import CallEvent, Provenance
from ..normalize import Localizer
from ..outbox import Outbox
from .matcher import CallIndex
from .pattern import FileFacts
from .settings import RecordingSettings
from .store import UNMATCHED, RecordingRow, RecordingStore
from .watcher import FolderWatcher, FoundFile

log = logging.getLogger("smdr.recordings")

ROUTE = "/recordings/"
HISTORY_SECONDS = 2 * 86400  # calls of the last two days are matched against when the connector starts


@dataclasses.dataclass(slots=True)
class RecordingStats:
    taken: int = 0
    matched: int = 0
    unmatched: int = 0      # files that matched no call when last tried (now)
    scan_errors: int = 0


class RecordingService:
    def __init__(self, settings: RecordingSettings, outbox: Outbox, store: RecordingStore, zone: ZoneInfo, *,
                 links: LinkSigner | None = None, base_url: str = "", clock: Callable[[], float] = time.time) -> None:
        if settings.url_template is None and links is None:
            raise ValueError("recordings need a link signer (the http: server) or a url_template")
        self.settings, self.outbox, self.store = settings, outbox, store
        self.zone, self.localize = zone, Localizer(zone)
        self.links, self.base_url = links, base_url.rstrip("/")
        self._clock = clock
        self.index = CallIndex(settings.lines, settings.window)
        self.watcher = FolderWatcher(settings.folder, settings.extensions, recursive=settings.recursive,
                                     settle=settings.settle, known=store.paths())
        self._matched = {call_id: url for call_id, (_path, url) in store.matched_calls().items()}
        self._ended: list[str] = []     # calls that ended since the last pass: unmatched files may fit them
        self._resend: list[str] = []    # calls with a recording whose newer final event lacks the link
        self._wake = asyncio.Event()
        self._retry_all = False
        self.stats = RecordingStats(matched=len(self._matched), unmatched=store.counts()[UNMATCHED])

    # -- wiring --------------------------------------------------------------------------------

    def start(self) -> None:
        """Read the calls of the last days from the outbox, then follow every new event."""
        for event in self.outbox.store.iter_events_since(self._clock() - HISTORY_SECONDS):
            self.index.note(event)
        self.outbox.add_listener(self._on_event)
        self._retry_all = True  # files left unmatched before a restart, against the calls read back

    def stop(self) -> None:
        self.outbox.remove_listener(self._on_event)

    def add_routes(self, router: Router) -> None:
        if self.links is not None:
            router.add("GET", ROUTE, self.serve, prefix=True, auth=False)  # each link carries its own token

    def _on_event(self, event_id: int, event: CallEvent) -> None:
        if not self.index.note(event) or event.recordingurl:
            return
        (self._resend if event.call_id in self._matched else self._ended).append(event.call_id)
        self._wake.set()

    # -- the loop ------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        log.info("recordings: watching %s (%s)", self.settings.folder, self.settings.pattern.text)
        while not stop.is_set():
            try:
                await self.process()
            except Exception as exc:  # the folder or the store failing must not end the connector
                log.error("recordings: %s: %s; trying again", type(exc).__name__, exc, exc_info=exc)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.poll):
                    await self._wake.wait()
            self._wake.clear()

    async def process(self) -> None:
        """One pass: new stable files, then unmatched files against calls that ended meanwhile."""
        errors_before = self.watcher.errors
        found = await asyncio.to_thread(self.watcher.scan)
        self.stats.scan_errors += self.watcher.errors - errors_before
        for file in found:
            await self._take(file)
        if self._retry_all:
            self._retry_all = False
            for row in self.store.unmatched_between(self._clock() - HISTORY_SECONDS, float("inf")):
                await self._try(row, log_unmatched=False)
        ended, self._ended = self._ended, []
        for call_id in dict.fromkeys(ended):
            event = self.index.get(call_id)
            if event is None:
                continue
            start, end = self.index.span(event)
            window = self.settings.window
            for row in self.store.unmatched_between((start.timestamp() - window), end.timestamp() + window):
                await self._try(row, log_unmatched=False)
        resend, self._resend = self._resend, []
        for call_id in dict.fromkeys(resend):
            event = self.index.get(call_id)
            if event is not None and not event.recordingurl:
                await self.outbox.emit(dataclasses.replace(event, recordingurl=self._matched[call_id]))

    async def _take(self, file: FoundFile) -> None:
        facts = self.settings.pattern.read(file.relative, self.localize)
        at = facts.time if facts is not None and facts.time is not None else datetime.fromtimestamp(
            file.mtime, self.zone)
        row = RecordingRow(file.relative, file.size, file.mtime, facts.line if facts else None,
                           facts.number if facts else None, at.timestamp(), UNMATCHED, None, None, None,
                           self._clock(), None)
        self.stats.taken += 1
        if facts is None:
            row.at = None  # never tried against calls: the name says nothing
            row.reason = f"the name does not fit the pattern {self.settings.pattern.text!r}"
            self.store.add(row)
            self.stats.unmatched += 1
            log.warning("recording %s: %s; `smdr recordings` lists it", file.relative, row.reason)
            return
        self.store.add(row)
        self.stats.unmatched += 1
        await self._try(row, log_unmatched=True)

    async def _try(self, row: RecordingRow, *, log_unmatched: bool) -> None:
        assert row.at is not None
        facts = FileFacts(row.line, row.number, None)
        found = self.index.match(facts, datetime.fromtimestamp(row.at, self.zone))
        reason = found.reason
        event = found.event
        if event is not None and event.call_id in self._matched:
            reason, event = f"its call {event.call_id} has a recording already", None
        if event is None:
            self.store.set_unmatched(row.path, reason)
            if log_unmatched:
                log.warning("recording %s matches no call yet (%s); it stays listed (`smdr recordings`) and is "
                            "matched when its call arrives", row.path, reason)
            return
        url = self.url_for(row.path)
        source = event.provenance.source if event.provenance else "recordings"
        update = dataclasses.replace(event, recordingurl=url,
                                     provenance=Provenance(source, "recording", row.path, 0,
                                                           datetime.fromtimestamp(self._clock(), self.zone)))
        await self.outbox.emit(update)
        self.store.set_matched(row.path, event.call_id, url, self._clock())
        self._matched[event.call_id] = url
        self.stats.matched += 1
        self.stats.unmatched -= 1
        log.info("recording %s -> call %s", row.path, event.call_id)

    # -- links ---------------------------------------------------------------------------------

    def url_for(self, relative: str) -> str:
        template = self.settings.url_template
        if template is not None:
            return template.replace("{path}", quote(relative, safe="/")).replace(
                "{name}", quote(relative.rpartition("/")[2], safe=""))
        assert self.links is not None
        return f"{self.base_url}{ROUTE}{quote(relative, safe='/')}?t={self.links.sign(relative)}"

    async def serve(self, request: Request) -> Response:
        relative = request.route_rest
        assert self.links is not None
        if not self.links.verify(relative, request.query.get("t", "")):
            raise HttpError(403, "this link's token is missing or wrong")
        return file_response(request, self._inside(relative))

    def _inside(self, relative: str) -> Path:
        parts = relative.split("/")
        if "\\" in relative or any(part in ("", ".", "..") for part in parts):
            raise HttpError(404, "no such recording")
        path = self.settings.folder.joinpath(*parts)
        try:
            path.resolve().relative_to(self.settings.folder.resolve())
        except ValueError:
            raise HttpError(404, "no such recording") from None
        return path
