"""Every recording file the connector has taken, matched or not (SQLite under the data directory).

A file is a row from the moment its size is stable: ``unmatched`` (with the reason) until a call
fits it, then ``matched`` with the call_id and the link sent. Nothing is ever dropped from the list;
`smdr recordings` shows it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

RECORDINGS_FILE: Final = "recordings.sqlite3"
MATCHED: Final = "matched"
UNMATCHED: Final = "unmatched"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS recordings (
    path TEXT PRIMARY KEY,          -- relative to the watched folder, '/' between folders
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    line TEXT,
    number TEXT,
    at REAL,                        -- unix time the recording says (name, else the file's time)
    state TEXT NOT NULL DEFAULT '{UNMATCHED}',
    reason TEXT,                    -- why it is unmatched
    call_id TEXT,
    url TEXT,
    taken_at REAL NOT NULL,
    matched_at REAL
);
CREATE INDEX IF NOT EXISTS recordings_unmatched ON recordings(at) WHERE state = '{UNMATCHED}';
CREATE INDEX IF NOT EXISTS recordings_by_call ON recordings(call_id);
"""
_COLUMNS = "path, size, mtime, line, number, at, state, reason, call_id, url, taken_at, matched_at"


@dataclass(slots=True)
class RecordingRow:
    path: str
    size: int
    mtime: float
    line: str | None
    number: str | None
    at: float | None
    state: str
    reason: str | None
    call_id: str | None
    url: str | None
    taken_at: float
    matched_at: float | None


class RecordingStore:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> RecordingStore:
        if not create and not path.is_file():
            raise FileNotFoundError(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        return cls(conn)

    def close(self) -> None:
        self.conn.close()

    def paths(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT path FROM recordings")}

    def add(self, row: RecordingRow) -> None:
        self.conn.execute(f"INSERT OR REPLACE INTO recordings ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                          (row.path, row.size, row.mtime, row.line, row.number, row.at, row.state, row.reason,
                           row.call_id, row.url, row.taken_at, row.matched_at))

    def set_unmatched(self, path: str, reason: str) -> None:
        self.conn.execute(f"UPDATE recordings SET state = '{UNMATCHED}', reason = ? WHERE path = ?", (reason, path))

    def set_matched(self, path: str, call_id: str, url: str, now: float) -> None:
        self.conn.execute(f"UPDATE recordings SET state = '{MATCHED}', reason = NULL, call_id = ?, url = ?, "
                          "matched_at = ? WHERE path = ?", (call_id, url, now, path))

    def get(self, path: str) -> RecordingRow | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM recordings WHERE path = ?", (path,)).fetchone()
        return RecordingRow(*row) if row else None

    def unmatched_between(self, first: float, last: float) -> list[RecordingRow]:
        """Unmatched files whose time lies in [first, last], or that carry no time at all."""
        return [RecordingRow(*row) for row in self.conn.execute(
            f"SELECT {_COLUMNS} FROM recordings WHERE state = '{UNMATCHED}' AND at BETWEEN ? AND ? ORDER BY at",
            (first, last))]

    def matched_calls(self) -> dict[str, tuple[str, str]]:
        """call_id -> (path, url) of every matched recording."""
        return {row[0]: (row[1], row[2]) for row in self.conn.execute(
            f"SELECT call_id, path, url FROM recordings WHERE state = '{MATCHED}' ORDER BY matched_at")}

    def rows(self, state: str | None = None, limit: int = 100) -> Iterator[RecordingRow]:
        where, params = ("WHERE state = ?", (state, limit)) if state else ("", (limit,))
        for row in self.conn.execute(f"SELECT {_COLUMNS} FROM recordings {where} ORDER BY taken_at DESC LIMIT ?",
                                     params):
            yield RecordingRow(*row)

    def counts(self) -> dict[str, int]:
        found = dict(self.conn.execute("SELECT state, COUNT(*) FROM recordings GROUP BY state").fetchall())
        return {MATCHED: int(found.get(MATCHED, 0)), UNMATCHED: int(found.get(UNMATCHED, 0))}
