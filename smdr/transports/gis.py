"""``gis://``: the GIS cloud PBX's call records, polled over HTTPS, one JSON line per new record; a dialer.

    gis://api.phoncall.co/pbx/gisapi.php                  key and tenant from the config or
                                                           SMDR_GIS_KEY / SMDR_GIS_TENANT
    gis://api.phoncall.co/pbx/gisapi.php?interval=30&overlap=7200&tz=Asia/Jerusalem
    gis://127.0.0.1:8080/pbx/gisapi.php?tls=0              plain HTTP (tests, a local proxy)

Every ``interval`` seconds it asks ``info=cdrs`` for the window from the last window's end minus
``overlap`` (a call is written when it ends, with its start time: the overlap must be longer than the
longest call) to now. A record is handed on only the first time its unique id is seen (SeenStore, in the
data directory, so restarts do not deliver it again). An answer that is not JSON (an error page, a
timeout) is logged without the key and the window is asked again later: nothing is skipped. Parse with
the ``gis-cdr`` layout (or a copy mapping other field names).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..backoff import backoff_delay
from ..cti.dialing import DialError, DialResult
from ..cti.gis_api import GisClient, GisCredentials, GisError, record_uid, records_in
from ..cti.seen_store import SeenStore
from ..errors import TransportClosed, TransportError
from ..layouts.jsoncut import parse_path, value_at
from ..model import CallEvent
from ..normalize import zone
from .base import Transport
from .urls import merge_options, option_bool, option_float, parse_url

log = logging.getLogger("smdr.transport.gis")

GIS_OPTIONS = ("key", "tenant", "tls", "interval", "overlap", "backfill", "tz", "timeout", "id_field", "records",
               "info", "state_path", "dial", "autoanswer", "recording", "recordings", "recording_field",
               "recording_id_field")
KEY_ENV, TENANT_ENV = "SMDR_GIS_KEY", "SMDR_GIS_TENANT"
_CURSOR = "window_end"


class GisTransport(Transport):
    keeps_state = True   # the config gives it a state_path in the data directory
    recordings = True    # hands out the PBX's recordings by id (``recordings=0``: not)

    def __init__(self, url: str, **overrides: Any) -> None:
        super().__init__(url)
        parsed = parse_url(url)
        options = merge_options(url, parsed.query, overrides, GIS_OPTIONS)
        scheme = "https" if option_bool(url, options, "tls", True) else "http"
        self.api_url = f"{scheme}://{parsed.target}"
        self.credentials = GisCredentials(str(options.get("key") or os.environ.get(KEY_ENV, "")),
                                          str(options.get("tenant") or os.environ.get(TENANT_ENV, "")))
        self.interval = option_float(url, options, "interval", 60.0, minimum=0.05) or 60.0
        self.overlap = timedelta(seconds=option_float(url, options, "overlap", 7200.0) or 0.0)
        self.backfill = timedelta(seconds=option_float(url, options, "backfill", 3600.0) or 0.0)
        self.timeout = option_float(url, options, "timeout", 20.0, minimum=0.1) or 20.0
        self.tz = zone(str(options.get("tz") or "Asia/Jerusalem"))
        self.id_field = str(options.get("id_field") or "")
        self.records_path = str(options.get("records") or "")
        self.info = str(options.get("info") or "cdrs")
        self.state_path = options.get("state_path")
        self.can_dial = option_bool(url, options, "dial", True)
        self.dial_options = {name: "yes" for name in ("autoanswer", "recording")
                             if option_bool(url, options, name, False)}
        self.recordings = option_bool(url, options, "recordings", True)
        self.recording_field = parse_path(str(options.get("recording_field") or "recordingfile"))
        self.recording_id_field = parse_path(str(options.get("recording_id_field") or ""))
        self._client: GisClient | None = None
        self._seen: SeenStore | None = None
        self._handed: list[str] = []          # ids of the chunk read() returned last
        self._handed_end: datetime | None = None
        self._next_poll = 0.0
        self._failures = 0
        self.polls = 0
        self.duplicates = 0

    @property
    def display_url(self) -> str:
        return self.credentials.scrub(super().display_url)

    async def open(self) -> None:
        if not (self.credentials.key and self.credentials.tenant):
            raise TransportError(f"{self.display_url}: the GIS key and tenant are needed (source keys api_key "
                                 f"and tenant, or {KEY_ENV} / {TENANT_ENV})")
        if self._seen is None:
            self._seen = SeenStore(self.state_path)
        if self._client is None:
            self._client = GisClient(self.api_url, self.credentials, timeout=self.timeout)

    def _commit_handed(self) -> None:
        """The pipeline asks for more only after it stored the events of the last chunk."""
        if self._seen is None:
            return
        if self._handed:
            self._seen.mark(self._handed)
            self._handed = []
        if self._handed_end is not None:
            self._seen.set_cursor(_CURSOR, self._handed_end.isoformat())
            self._handed_end = None

    def _window_start(self, now: datetime) -> datetime:
        assert self._seen is not None
        cursor = self._seen.get_cursor(_CURSOR)
        last_end = datetime.fromisoformat(cursor) if cursor else now - self.backfill
        return min(last_end, now) - self.overlap

    async def read(self) -> bytes:
        if self._client is None or self._seen is None:
            raise TransportClosed(f"{self.display_url}: not open")
        self._commit_handed()
        while True:
            delay = self._next_poll - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = datetime.now(self.tz).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
            start = self._window_start(now)
            self.polls += 1
            try:
                answer = await self._client.cdrs(start, now, info=self.info)
            except GisError as exc:
                self._failures += 1
                wait = max(self.interval, backoff_delay(self._failures, self.interval, 600.0, 0.2))
                log.warning("%s: call records %s .. %s not read (%s); asking again in %.0f s", self.display_url,
                            start, now, exc, wait)
                self._next_poll = time.monotonic() + wait
                continue
            self._failures = 0
            self._next_poll = time.monotonic() + self.interval
            chunk = self._new_records(answer)
            self._handed_end = now
            if chunk:
                return chunk
            self._commit_handed()

    def _new_records(self, answer: Any) -> bytes:
        assert self._seen is not None
        records = records_in(answer, self.records_path)
        uids = [record_uid(record, self.id_field) for record in records]
        new = self._seen.unseen(uids)
        lines, handed = [], []
        for record, uid in zip(records, uids):
            if uid not in new or uid in handed:
                self.duplicates += 1
                continue
            handed.append(uid)
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        self._handed = handed
        return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def shutdown(self) -> None:
        await self.close()
        seen, self._seen = self._seen, None
        if seen is not None:
            seen.close()

    # -- recordings (served through smdr.cti.gis_recordings) -------------------------------------

    def recording_id(self, event: CallEvent) -> str | None:
        """The id to fetch the recording of this event's record by, or None when the record names none."""
        if not self.recordings or event.provenance is None:
            return None
        try:
            record = json.loads(event.provenance.raw)
        except ValueError:
            return None
        if not isinstance(record, dict) or value_at(record, self.recording_field).strip() in ("", "0", "false"):
            return None
        if self.recording_id_field:
            return value_at(record, self.recording_id_field).strip() or None
        return record_uid(record, self.id_field)

    async def download_recording(self, recording_id: str, target: Path, *, limit: int) -> str:
        client = self._client
        if client is None:
            raise GisError("the GIS source is not connected")
        return await client.download_recording(recording_id, target, limit=limit)

    # -- the dialer ------------------------------------------------------------------------------

    async def dial(self, extension: str, number: str) -> DialResult:
        if not self.can_dial:
            raise DialError("not-available", "dialing is switched off for this GIS source (dial=0)")
        client = self._client
        if client is None:
            raise DialError("unavailable", "the GIS source is not connected")
        try:
            answer = await client.dial(extension, number, **self.dial_options)
        except GisError as exc:
            raise DialError("failed", f"GIS DIAL: {exc}") from None
        if isinstance(answer, dict) and (answer.get("success") is False or "error" in answer
                                         or str(answer.get("status", "")).lower() in ("error", "fail", "failed")):
            raise DialError("failed", f"GIS DIAL refused: {self.credentials.scrub(json.dumps(answer))[:200]}")
        reference = answer.get("id", answer.get("callid", "")) if isinstance(answer, dict) else answer
        return DialResult(via="gis", reference=str(reference)[:100])
