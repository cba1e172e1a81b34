"""The GIS cloud PBX HTTP API (gisapi.php, docs/gis-api.md): call records, extension state, DIAL.

Every request carries ``key`` and ``tenant``; they are added here and nowhere else, and every error
text is scrubbed of them before it is raised (an httpx error may quote the URL). Answers are JSON of an
undocumented shape: ``records_in`` finds the list of records in it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from ..transports.urls import REDACTED

DEFAULT_URL = "https://api.phoncall.co/pbx/gisapi.php"
ID_FIELDS = ("uniqueid", "unique_id", "uniqueId", "linkedid", "id", "callid", "call_id")
_LIST_KEYS = ("cdrs", "records", "data", "result", "results", "rows", "calls")


class _ScrubSecrets(logging.Filter):
    """httpx logs every request's URL at INFO, query string included: the key and tenant are cut out."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            for secret in self.secrets:
                text = text.replace(secret, REDACTED)
            record.msg, record.args = text, ()
        return True


_SCRUB = _ScrubSecrets()
logging.getLogger("httpx").addFilter(_SCRUB)


class GisError(Exception):
    """The API did not answer with JSON (network, HTTP status, an HTML page); the text has no secret."""


@dataclass(slots=True)
class GisCredentials:
    key: str
    tenant: str

    def scrub(self, text: str) -> str:
        for secret in (self.key, self.tenant):
            if secret:
                text = text.replace(secret, REDACTED)
        return text


def window_text(moment: datetime) -> str:
    """The API's time format: ``2019-07-25 12:51`` (to the minute)."""
    return moment.strftime("%Y-%m-%d %H:%M")


def records_in(answer: Any, path: str = "") -> list[dict[str, Any]]:
    """The call records of an answer: a list; or the first list of objects under a usual key; or an
    object of objects (keyed by id); ``path`` (dot-separated) names the place when none of these fits."""
    if path:
        for key in path.split("."):
            answer = answer.get(key) if isinstance(answer, dict) else None
    if isinstance(answer, list):
        return [item for item in answer if isinstance(item, dict)]
    if not isinstance(answer, dict):
        return []
    for key in _LIST_KEYS:
        if isinstance(answer.get(key), (list, dict)):
            return records_in(answer[key])
    if any(key in answer for key in ID_FIELDS):
        return [answer]
    values = list(answer.values())
    if values and all(isinstance(value, dict) for value in values):
        return values
    return []


def record_uid(record: dict[str, Any], id_field: str = "") -> str:
    """The record's unique id; without one, a digest of its content (the same record, the same id)."""
    for key in ((id_field,) if id_field else ID_FIELDS):
        value = record.get(key)
        if value not in (None, ""):
            return str(value)
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False)
    return "sha:" + hashlib.blake2b(canonical.encode("utf-8"), digest_size=12).hexdigest()


class GisClient:
    def __init__(self, url: str, credentials: GisCredentials, *, timeout: float = 20.0) -> None:
        self.url = url
        self.credentials = credentials
        _SCRUB.secrets.update(secret for secret in (credentials.key, credentials.tenant) if secret)
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.requests = 0
        self.failures = 0

    async def get(self, **params: str) -> Any:
        """GET the API with ``params`` (plus key, tenant, format=json); the JSON answer or GisError."""
        query = {"key": self.credentials.key, "tenant": self.credentials.tenant, "format": "json", **params}
        self.requests += 1
        try:
            response = await self._client.get(self.url, params=query)
        except httpx.HTTPError as exc:
            self.failures += 1
            raise GisError(self.credentials.scrub(f"{type(exc).__name__}: {exc}")) from None
        body = response.text
        if response.status_code != 200:
            self.failures += 1
            raise GisError(f"HTTP {response.status_code}: {self.credentials.scrub(body[:120])!r}")
        try:
            return json.loads(body)
        except ValueError:
            self.failures += 1
            kind = "an HTML page" if body.lstrip()[:1] == "<" else "not JSON"
            raise GisError(f"the answer is {kind}: {self.credentials.scrub(body[:120])!r}") from None

    async def cdrs(self, start: datetime, end: datetime, *, info: str = "cdrs") -> Any:
        return await self.get(reqtype="info", info=info, start=window_text(start), end=window_text(end))

    async def extension_state(self, extension: str) -> Any:
        return await self.get(reqtype="info", info="extstate", ext=extension)

    async def download_recording(self, recording_id: str, target: Path, *, limit: int) -> str:
        """``info=recording&id=..``: the audio streamed into ``target`` (written as ``target.part``, renamed
        when complete); returns its Content-Type. An answer that is not audio (JSON, an HTML page, text) or
        is larger than ``limit`` bytes is a GisError and leaves no file."""
        query = {"key": self.credentials.key, "tenant": self.credentials.tenant, "reqtype": "INFO",
                 "info": "recording", "id": recording_id}
        partial = target.with_name(target.name + ".part")
        self.requests += 1
        try:
            async with self._client.stream("GET", self.url, params=query) as response:
                kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if response.status_code != 200 or kind.startswith(("text/", "application/json")):
                    head = (await response.aread())[:120].decode("utf-8", "replace")
                    raise GisError(f"recording {recording_id}: HTTP {response.status_code} {kind or 'no type'}: "
                                   f"{self.credentials.scrub(head)!r}")
                size = 0
                with partial.open("wb") as out:
                    async for chunk in response.aiter_bytes(64 * 1024):
                        size += len(chunk)
                        if size > limit:
                            raise GisError(f"recording {recording_id} is larger than {limit} bytes")
                        out.write(chunk)
                if size == 0:
                    raise GisError(f"recording {recording_id}: an empty answer")
                os.replace(partial, target)
                return kind or "application/octet-stream"
        except httpx.HTTPError as exc:
            self.failures += 1
            raise GisError(self.credentials.scrub(f"{type(exc).__name__}: {exc}")) from None
        except GisError:
            self.failures += 1
            raise
        finally:
            partial.unlink(missing_ok=True)

    async def dial(self, extension: str, number: str, **options: str) -> Any:
        return await self.get(reqtype="DIAL", source=extension, dest=number, account="SOURCE", **options)

    async def aclose(self) -> None:
        await self._client.aclose()
