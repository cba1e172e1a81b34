"""Which records of a polled source were delivered already: durable across restarts (SQLite in the data dir).

A polling source asks overlapping windows, so most records come back more than once; each is handed
on only the first time its unique id is seen. Ids are marked once the pipeline asked for the next chunk
(it has then stored the events of the previous one), so a crash in between repeats a record rather than
losing it. Old ids are forgotten after ``keep_days`` (far longer than any window overlaps).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path


class SeenStore:
    def __init__(self, path: str | Path | None, keep_days: float = 14.0) -> None:
        self.path = Path(path) if path else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path) if self.path else ":memory:", check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (uid TEXT PRIMARY KEY, at REAL NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.commit()
        self._db.execute("DELETE FROM seen WHERE at < ?", (time.time() - keep_days * 86400,))
        self._db.commit()

    def unseen(self, uids: Iterable[str]) -> set[str]:
        wanted = set(uids)
        known: set[str] = set()
        items = list(wanted)
        for start in range(0, len(items), 500):
            batch = items[start:start + 500]
            rows = self._db.execute(f"SELECT uid FROM seen WHERE uid IN ({','.join('?' * len(batch))})", batch)
            known.update(row[0] for row in rows)
        return wanted - known

    def mark(self, uids: Iterable[str]) -> None:
        now = time.time()
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO seen (uid, at) VALUES (?, ?)", [(u, now) for u in uids])

    def get_cursor(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM cursor WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_cursor(self, name: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO cursor (name, value) VALUES (?, ?)", (name, value))

    def close(self) -> None:
        self._db.close()
