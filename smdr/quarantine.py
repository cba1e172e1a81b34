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
    def __init__(self, path: str | Path | None, *, log_first: bool = True, max_bytes: int = 50 * 2**20,
                 backups: int = 5) -> None:
        self.path = Path(path) if path else None
        self.log_first = log_first
        self.max_bytes, self.backups = max_bytes, backups
        self.unwritten = 0  # records that could not be written (disk full, no permission)
        self._failing = False
        self.counts: dict[str, int] = {}
        self._file = None

    def add(self, raw: bytes, *, source: str, layout: str, kind: str, reason: str, position: int = 0) -> None:
        first = kind not in self.counts
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.path is not None:
            self._write(raw, source=source, layout=layout, kind=kind, reason=reason, position=position)
        if first and self.log_first:
            where = f"; kept in {self.path}" if self.path else ""
            log.warning("%s: record %d not parsed by %s (%s: %s)%s; further '%s' records are counted, not logged",
                        source, position, layout, kind, reason, where, kind)

    def _write(self, raw: bytes, *, source: str, layout: str, kind: str, reason: str, position: int) -> None:
        """Append one entry; a full or failing disk is logged once and never stops the source."""
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8")
            elif self._file.tell() >= self.max_bytes:
                self._rotate()
            entry = {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "source": source, "layout": layout, "position": position, "kind": kind, "reason": reason,
                "raw_b64": base64.b64encode(raw).decode("ascii"),
                "text": raw.decode("latin-1"),
            }
            self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._file.flush()
            self._failing = False
        except OSError as exc:
            self.unwritten += 1
            if not self._failing:
                self._failing = True
                log.error("cannot write the quarantine file %s (%s): unparsed records are only counted until "
                          "it works again", self.path, exc.strerror or exc)
            self._close_file()

    def _rotate(self) -> None:
        """Keep the newest ``backups`` full files beside the current one: bounded on disk."""
        self._close_file()
        for n in range(self.backups, 0, -1):
            older = self.path.with_name(f"{self.path.stem}.{n}{self.path.suffix}")
            newer = self.path if n == 1 else self.path.with_name(f"{self.path.stem}.{n - 1}{self.path.suffix}")
            if newer.exists():
                newer.replace(older)
        log.warning("quarantine file %s reached %d MB: rotated (%d older files kept)", self.path,
                    self.max_bytes // 2**20, self.backups)
        self._file = open(self.path, "a", encoding="utf-8")

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        self._close_file()


def is_quarantine_file(head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and b'"raw_b64"' in head


def read_quarantined(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """(source, raw record bytes) for every entry of a quarantine file, in order."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                entry = json.loads(line)
                yield entry.get("source", ""), base64.b64decode(entry["raw_b64"])
