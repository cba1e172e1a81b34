"""GIS recordings -> the CRM's ``recordingurl``, without the GIS key in any URL the CRM shows.

A GIS call record that names a recording (the source's ``recording_field``, default ``recordingfile``,
the Asterisk CDR column; the API document does not describe the record) gets, on its final event,
``recordingurl = <http base_url>/gis-recordings/<id>?t=<token>``: the id is the record's unique id (or
``recording_id_field``), the token a per-link HMAC (``LinkSigner``, the key in the data directory) of the
source's name and the id, so a link opens one recording of one source. A GET of the link fetches the
audio server-side (``reqtype=INFO&info=recording&id=..``, key and tenant added by GisClient) into a small
cache in the data directory, then serves it from there with byte ranges; the cache keeps the newest
``cache_bytes``. No token or a wrong one: 403. GIS failing (not audio, an error page, no answer): 502
JSON with a scrubbed reason. The link rides on the final event itself, so it goes through the outbox
with every field of that event, in one request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from ..httpd import HttpError, LinkSigner, Request, Response, Router
from ..httpd.files import file_response, suffix_for
from ..model import FINAL_EVENTS, CallEvent
from ..sinks import EventSink, MappedSink
from .gis_api import GisError

log = logging.getLogger("smdr.gis.recordings")

ROUTE = "/gis-recordings/"
CACHE_DIR = "gis-recordings"
MAX_RECORDING_BYTES = 200 * 1024 * 1024


class RecordingProvider(Protocol):
    """A source whose PBX keeps the recordings and hands them out by id (the gis:// transport)."""

    def recording_id(self, event: CallEvent) -> str | None: ...

    async def download_recording(self, recording_id: str, target: Path, *, limit: int) -> str: ...


def provides_recordings(transport: object) -> bool:
    return callable(getattr(transport, "recording_id", None)) and bool(getattr(transport, "recordings", False))


@dataclasses.dataclass(slots=True)
class GisRecordingStats:
    linked: int = 0
    served: int = 0
    fetched: int = 0       # downloads from GIS (cache misses)
    refused: int = 0       # 403: no token or a wrong one
    failed: int = 0        # 502: GIS did not give the audio


class GisRecordingLinks:
    def __init__(self, signer: LinkSigner, base_url: str, cache_dir: Path, *,
                 cache_bytes: int = 256 * 1024 * 1024) -> None:
        self.signer, self.base_url = signer, base_url.rstrip("/")
        self.cache_dir, self.cache_bytes = cache_dir, cache_bytes
        self._providers: dict[str, RecordingProvider] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.stats = GisRecordingStats()

    # -- wiring --------------------------------------------------------------------------------

    def add_routes(self, router: Router) -> None:
        router.add("GET", ROUTE, self.serve, prefix=True, auth=False)  # each link carries its own token

    def add(self, source: str, provider: RecordingProvider) -> None:
        self._providers[source] = provider

    def remove(self, source: str) -> None:
        self._providers.pop(source, None)

    def sink(self, source: str, inner: EventSink) -> EventSink:
        return LinkingSink(self, source, inner)

    # -- links ---------------------------------------------------------------------------------

    @staticmethod
    def _name(source: str, recording_id: str) -> str:
        return f"gis:{source}:{recording_id}"

    def link(self, source: str, recording_id: str) -> str:
        token = self.signer.sign(self._name(source, recording_id))
        return f"{self.base_url}{ROUTE}{quote(recording_id, safe='')}?t={token}"

    def linked(self, source: str, event: CallEvent) -> CallEvent:
        """The event with its recording's link, if it is a final event whose record names a recording."""
        provider = self._providers.get(source)
        if provider is None or event.event not in FINAL_EVENTS or event.recordingurl:
            return event
        recording_id = provider.recording_id(event)
        if not recording_id:
            return event
        self.stats.linked += 1
        return dataclasses.replace(event, recordingurl=self.link(source, recording_id))

    # -- serving -------------------------------------------------------------------------------

    async def serve(self, request: Request) -> Response:
        recording_id, token = request.route_rest, request.query.get("t", "")
        source = next((name for name in self._providers
                       if token and self.signer.verify(self._name(name, recording_id), token)), None)
        if source is None or not recording_id or "/" in recording_id:
            self.stats.refused += 1
            raise HttpError(403, "this link's token is missing or wrong")
        path = await self._cached(source, recording_id)
        self.stats.served += 1
        return file_response(request, path)

    async def _cached(self, source: str, recording_id: str) -> Path:
        stem = hashlib.blake2b(self._name(source, recording_id).encode("utf-8"), digest_size=16).hexdigest()
        lock = self._locks.setdefault(stem, asyncio.Lock())
        async with lock:
            found = self._find(stem)
            if found is not None:
                found.touch()   # newest use: evicted last
                return found
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            download = self.cache_dir / f"{stem}.download"
            try:
                kind = await self._providers[source].download_recording(recording_id, download,
                                                                        limit=MAX_RECORDING_BYTES)
            except GisError as exc:
                self.stats.failed += 1
                log.warning("gis recording %s of %s not fetched: %s", recording_id, source, exc)
                raise HttpError(502, f"the GIS PBX did not give recording {recording_id}: {exc}") from None
            finally:
                self._locks.pop(stem, None)
            path = download.with_suffix(suffix_for(kind))
            download.replace(path)
            self.stats.fetched += 1
            self._evict(keep=path)
            return path

    def _find(self, stem: str) -> Path | None:
        for path in self.cache_dir.glob(f"{stem}.*"):
            if not path.name.endswith((".download", ".part")):
                return path
        return None

    def _evict(self, keep: Path) -> None:
        """Oldest used first until the cache holds at most ``cache_bytes`` (the newest file always stays)."""
        files = []
        for path in self.cache_dir.iterdir():
            try:
                stat = path.stat()
            except OSError:
                continue
            files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files, key=lambda item: item[0]):
            if total <= self.cache_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size


class LinkingSink(MappedSink):
    """Between a source's trackers and the outbox: final events with a recording get its link."""

    def __init__(self, links: GisRecordingLinks, source: str, inner: EventSink) -> None:
        super().__init__(inner)
        self.links, self.source = links, source

    def change(self, event: CallEvent) -> CallEvent:
        return self.links.linked(self.source, event)


__all__ = ["GisRecordingLinks", "LinkingSink", "RecordingProvider", "provides_recordings", "ROUTE", "CACHE_DIR"]
