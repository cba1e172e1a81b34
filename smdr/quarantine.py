"""Records no rule could parse: kept raw, counted, logged once per kind, re-processable later.

One JSON object per line: when, source, layout, position, kind, reason, the exact bytes (base64) and
a readable copy. ``smdr parse QUARANTINE.jsonl --layout NAME`` feeds the kept bytes through a layout
again once it is fixed. A full file is renamed with its rotation time and gzip-compressed in a worker
thread (``quarantine.20261201T101500.jsonl.gz``); nothing is ever deleted but by the technician
(``smdr quarantine purge``). Quarantined records are data.
"""

from __future__ import annotations

import io
import json
import logging
import os
import threading
from binascii import a2b_base64, b2a_base64  # base64's own work, without importing the base64 module
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("smdr.quarantine")

QUARANTINE_FILE = "quarantine.jsonl"  # under data_dir, unless the config names another file


class Quarantine:
    def __init__(self, path: str | Path | None, *, log_first: bool = True, max_bytes: int = 50 * 2**20) -> None:
        self.path = Path(path) if path else None
        self.log_first = log_first
        self.max_bytes = max_bytes
        self._compressing: threading.Thread | None = None
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
                "raw_b64": b2a_base64(raw, newline=False).decode("ascii"),
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
        """The full file is renamed with the time and compressed in a worker thread; none is deleted."""
        self._close_file()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        rotated = self.path.with_name(f"{self.path.stem}.{stamp}{self.path.suffix}")
        n = 1
        while rotated.exists() or rotated.with_name(rotated.name + ".gz").exists():
            n += 1
            rotated = self.path.with_name(f"{self.path.stem}.{stamp}-{n}{self.path.suffix}")
        self.path.replace(rotated)
        log.warning("quarantine file %s reached %d MB: kept as %s.gz (nothing is deleted; `smdr quarantine "
                    "purge` removes old files)", self.path, self.max_bytes // 2**20, rotated.name)
        self._file = open(self.path, "a", encoding="utf-8")
        self.wait_compressed()
        self._compressing = threading.Thread(target=compress_rotated, args=(self.path,), daemon=True,
                                             name="quarantine-gzip")
        self._compressing.start()

    def wait_compressed(self, timeout: float | None = None) -> None:
        if self._compressing is not None:
            self._compressing.join(timeout)

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
        self.wait_compressed(30.0)


def rotated_files(path: str | Path) -> list[Path]:
    """The rotated quarantine files beside ``path`` (compressed or not yet), oldest first."""
    path = Path(path)
    found = [p for p in path.parent.glob(f"{path.stem}.*{path.suffix}*")
             if p.name.endswith((path.suffix, path.suffix + ".gz")) and p != path]
    def rotation_order(rotated: Path) -> tuple[str, int]:
        stamp, _, number = rotated.name[len(path.stem) + 1:].split(".")[0].partition("-")
        return stamp, int(number) if number.isdigit() else 1

    return sorted(found, key=rotation_order)


def compress_rotated(path: str | Path) -> None:
    """gzip every rotated file not compressed yet (also those a killed process left); the original is
    removed only once its compressed copy is complete on disk."""
    import gzip  # here and below: only where a quarantine file is compressed or read (a capture's parse needs none)
    import shutil

    for rotated in rotated_files(path):
        if rotated.suffix == ".gz":
            continue
        target = rotated.with_name(rotated.name + ".gz")
        partial = rotated.with_name(rotated.name + ".gz.part")
        try:
            with open(rotated, "rb") as source, gzip.open(partial, "wb", compresslevel=6) as out:
                shutil.copyfileobj(source, out, 2**20)
            os.replace(partial, target)
            rotated.unlink()
        except OSError as exc:
            partial.unlink(missing_ok=True)
            log.warning("could not compress %s (%s); it stays uncompressed", rotated, exc.strerror or exc)


def is_quarantine_file(head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and b'"raw_b64"' in head


def is_quarantine_path(path: str | Path) -> bool:
    """A quarantine file, plain or gzip-compressed (a rotated one)."""
    try:
        with _open_binary(path) as handle:
            return is_quarantine_file(handle.read(4096))
    except (OSError, EOFError):
        return False


def _open_binary(path: str | Path) -> io.BufferedIOBase:
    with open(path, "rb") as handle:
        compressed = handle.read(2) == b"\x1f\x8b"
    if not compressed:
        return open(path, "rb")
    import gzip

    return gzip.open(path, "rb")


def read_quarantined(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """(source, raw record bytes) for every entry of a quarantine file (plain or .gz), in order."""
    with _open_binary(path) as raw_handle, io.TextIOWrapper(raw_handle, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                entry = json.loads(line)
                yield entry.get("source", ""), a2b_base64(entry["raw_b64"])
