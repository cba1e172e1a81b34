"""Records no rule could parse: kept raw, counted, logged once per kind, re-processable later.

One JSON object per line: when, source, layout, position, kind, reason, the exact bytes (base64) and
a readable copy. ``smdr parse QUARANTINE.jsonl --layout NAME`` feeds the kept bytes through a layout
again once it is fixed.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("smdr.quarantine")


class Quarantine:
    def __init__(self, path: str | Path | None, *, log_first: bool = True) -> None:
        self.path = Path(path) if path else None
        self.log_first = log_first
        self.counts: dict[str, int] = {}
        self._file = None

    def add(self, raw: bytes, *, source: str, layout: str, kind: str, reason: str, position: int = 0) -> None:
        first = kind not in self.counts
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.path is not None:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8")
            entry = {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "source": source, "layout": layout, "position": position, "kind": kind, "reason": reason,
                "raw_b64": base64.b64encode(raw).decode("ascii"),
                "text": raw.decode("latin-1"),
            }
            self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._file.flush()
        if first and self.log_first:
            where = f"; kept in {self.path}" if self.path else ""
            log.warning("%s: record %d not parsed by %s (%s: %s)%s; further '%s' records are counted, "
                        "not logged", source, position, layout, kind, reason, where, kind)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def is_quarantine_file(head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and b'"raw_b64"' in head


def read_quarantined(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """(source, raw record bytes) for every entry of a quarantine file, in order."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                entry = json.loads(line)
                yield entry.get("source", ""), base64.b64decode(entry["raw_b64"])
