"""Polling a folder with stat (portable to Windows shares): new files, once they stop growing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(slots=True)
class FoundFile:
    relative: str     # '/' between folders
    path: Path
    size: int
    mtime: float


class FolderWatcher:
    """``scan()`` returns the files that are new and whose size and mtime held still for ``settle`` s."""

    def __init__(self, folder: Path, extensions: frozenset[str], *, recursive: bool = False, settle: float = 5.0,
                 known: set[str] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.folder, self.extensions, self.recursive, self.settle = folder, extensions, recursive, settle
        self.known: set[str] = set(known or ())
        self._growing: dict[str, tuple[int, int, float]] = {}   # relative -> (size, mtime_ns, unchanged since)
        self._clock = clock
        self.errors = 0

    def scan(self) -> list[FoundFile]:
        now = self._clock()
        ready: list[FoundFile] = []
        present: set[str] = set()
        for relative, path, stat in self._walk():
            if relative in self.known:
                continue
            present.add(relative)
            shape = (stat.st_size, stat.st_mtime_ns)
            before = self._growing.get(relative)
            if before is None or before[:2] != shape:
                self._growing[relative] = (*shape, now)
                if self.settle > 0 or stat.st_size == 0:
                    continue
                before = self._growing[relative]
            if stat.st_size > 0 and now - before[2] >= self.settle:
                ready.append(FoundFile(relative, path, stat.st_size, stat.st_mtime))
                self.known.add(relative)
                del self._growing[relative]
        for gone in set(self._growing) - present:
            del self._growing[gone]  # deleted or renamed while still being written
        return ready

    def _walk(self):
        folders = [(self.folder, "")]
        while folders:
            folder, prefix = folders.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                self.errors += 1
                continue
            for entry in entries:
                try:
                    if entry.is_dir():
                        if self.recursive:
                            folders.append((Path(entry.path), f"{prefix}{entry.name}/"))
                        continue
                    if entry.name.rpartition(".")[2].lower() not in self.extensions:
                        continue
                    yield f"{prefix}{entry.name}", Path(entry.path), entry.stat()
                except OSError:
                    self.errors += 1  # vanished between listing and stat
