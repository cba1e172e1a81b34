"""Serving a file with byte ranges (RFC 9110 single ranges), so an audio player can seek."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from .messages import FilePart, HttpError, Request, Response

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg",
                ".amr": "audio/amr", ".gsm": "audio/x-gsm", ".m4a": "audio/mp4", ".wma": "audio/x-ms-wma"}


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return _AUDIO_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def suffix_for(kind: str) -> str:
    """The file suffix that ``content_type`` reads back as ``kind`` (``.bin`` for an unknown type)."""
    kind = kind.split(";")[0].strip().lower()
    for suffix, known in _AUDIO_TYPES.items():
        if known == kind:
            return suffix
    return mimetypes.guess_extension(kind) or ".bin"


def file_response(request: Request, path: Path) -> Response:
    """200 with the whole file, 206 with the requested range, 416 for a range that is malformed or
    outside the file. A list of ranges (``bytes=0-1,5-9``) is answered with the whole file, as RFC 9110
    allows."""
    try:
        size = path.stat().st_size
    except OSError:
        raise HttpError(404, "no such recording") from None
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=86400"}
    wanted = request.header("range")
    if not wanted or "," in wanted:
        return Response(200, content_type=content_type(path), headers=headers, file=FilePart(path, 0, size))
    span = parse_range(wanted, size)
    if span is None:
        raise HttpError(416, f"range {wanted!r} is not within the file's {size} bytes",
                        {"Content-Range": f"bytes */{size}"})
    first, last = span
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return Response(206, content_type=content_type(path), headers=headers,
                    file=FilePart(path, first, last - first + 1))


def parse_range(text: str, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` as (first, last) inclusive, or None if not satisfiable."""
    match = _RANGE.fullmatch(text.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    start, end = match.groups()
    if start == "":
        suffix = int(end)
        if suffix == 0 or size == 0:
            return None
        return max(0, size - suffix), size - 1
    first = int(start)
    last = size - 1 if end == "" else min(int(end), size - 1)
    if first >= size or (end != "" and int(end) < first):
        return None
    return first, last
