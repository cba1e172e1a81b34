"""Call recordings -> the CRM's ``recordingurl``: a watched folder, file names read by a pattern, each
file matched to its call and linked (served by the connector's HTTP server, or by a URL template)."""

from __future__ import annotations

from ..evidence import same_line, same_number
from .matcher import CallIndex
from .pattern import FileFacts, FilenamePattern, PatternError
from .settings import RecordingSettings
from .store import MATCHED, RECORDINGS_FILE, UNMATCHED, RecordingRow, RecordingStore

__all__ = ["RecordingSettings", "FilenamePattern", "FileFacts", "PatternError", "CallIndex", "same_line",
           "same_number", "RecordingStore", "RecordingRow", "RECORDINGS_FILE", "MATCHED", "UNMATCHED"]
