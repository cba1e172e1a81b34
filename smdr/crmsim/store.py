"""SQLite storage of the simulated PBXManager: one row per call_id, every accepted request, the popups.

One connection guarded by a lock; WAL with synchronous=NORMAL when on a file, so each request costs one
short transaction and no fsync. ``:memory:`` (the default) needs no file at all.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timedelta
from typing import Any, Final

from .cdr import CdrRequest

CALL_COLUMNS: Final = ("call_id", "agent", "phone", "direction", "event", "duration", "billduration",
                       "gateway", "linename", "recordingurl", "starttime", "endtime")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL UNIQUE,
    agent TEXT, phone TEXT, direction TEXT, event TEXT,
    duration INTEGER NOT NULL DEFAULT 0, billduration INTEGER NOT NULL DEFAULT 0,
    gateway TEXT, linename TEXT, recordingurl TEXT, starttime TEXT, endtime TEXT,
    updates INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL, event TEXT NOT NULL, received_at TEXT NOT NULL, fields TEXT NOT NULL,
    arrived REAL  -- unix time (time.time()) the whole request had been read; for latency measurements
);
CREATE INDEX IF NOT EXISTS events_by_call ON events (call_id, seq);
CREATE TABLE IF NOT EXISTS popups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL, phone TEXT, agent TEXT, time TEXT NOT NULL, contact TEXT, contact_id TEXT
);
"""

_UPSERT: Final = f"""
INSERT INTO calls ({", ".join(CALL_COLUMNS)}, updates, created_at, updated_at)
VALUES ({", ".join("?" * len(CALL_COLUMNS))}, 1, ?, ?)
ON CONFLICT (call_id) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in CALL_COLUMNS[1:])},
    updates = calls.updates + 1, updated_at = excluded.updated_at
RETURNING id
"""


class CallStore:
    """The calls, events and popups tables. Every method is thread-safe."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
        if "arrived" not in columns:  # a file written before the column existed
            self._db.execute("ALTER TABLE events ADD COLUMN arrived REAL")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(self, cdr: CdrRequest, form: dict[str, str], received_at: datetime,
               arrived: float | None = None) -> str:
        """Create or update the call of ``cdr.call_id``; returns its record id (stable per call_id).

        ``arrived`` is the unix time (``time.time()``) the request had been read off the socket, kept
        per event for latency measurements (``received_at`` is the local time, to the millisecond).

        The document's defaults apply: duration 0, billduration = duration, starttime = now, endtime =
        starttime + duration. On an update, a starttime not sent keeps the stored one, and gateway,
        linename and recordingurl not sent keep their stored values.
        """
        received = received_at.isoformat(timespec="milliseconds")
        with self._lock:
            stored = self._db.execute(
                "SELECT starttime, gateway, linename, recordingurl FROM calls WHERE call_id = ?",
                (cdr.call_id,)).fetchone()
            duration = cdr.duration or 0
            billduration = duration if cdr.billduration is None else cdr.billduration
            start = cdr.starttime
            if start is None and stored and stored[0]:
                start = datetime.fromisoformat(stored[0])
            if start is None:
                start = received_at.replace(microsecond=0)
            end = cdr.endtime or start + timedelta(seconds=duration)
            gateway, linename, recordingurl = cdr.gateway, cdr.linename, cdr.recordingurl
            if stored:
                gateway = gateway or stored[1]
                linename = linename or stored[2]
                recordingurl = recordingurl or stored[3]
            row = (cdr.call_id, cdr.agent, cdr.phone, cdr.direction, cdr.event, duration, billduration,
                   gateway, linename, recordingurl, _iso(start), _iso(end), received, received)
            self._db.execute("BEGIN")
            try:
                (record_id,) = self._db.execute(_UPSERT, row).fetchone()
                self._db.execute(
                    "INSERT INTO events (call_id, event, received_at, fields, arrived) VALUES (?, ?, ?, ?, ?)",
                    (cdr.call_id, cdr.event, received, json.dumps(form, ensure_ascii=False), arrived))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return str(record_id)

    def add_popup(self, call_id: str, phone: str, agent: str, time: datetime,
                  contact: str | None, contact_id: str | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO popups (call_id, phone, agent, time, contact, contact_id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (call_id, phone, agent, time.isoformat(timespec="seconds"), contact, contact_id))

    def calls(self, *, limit: int | None = None, call_id: str | None = None) -> list[dict[str, Any]]:
        """Calls in creation order (with ``limit``: the newest ``limit`` calls), each with its events."""
        where, params = ("WHERE call_id = ?", [call_id]) if call_id is not None else ("", [])
        query = f"SELECT id, {', '.join(CALL_COLUMNS)}, updates FROM calls {where} ORDER BY id"
        if limit is not None:
            query = f"SELECT * FROM ({query} DESC LIMIT ?) ORDER BY id"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
            if not rows:
                return []
            if limit is None and call_id is None:
                event_rows = self._db.execute("SELECT call_id, event FROM events ORDER BY seq").fetchall()
            else:
                ids = [row[1] for row in rows]
                marks = ", ".join("?" * len(ids))
                event_rows = self._db.execute(
                    f"SELECT call_id, event FROM events WHERE call_id IN ({marks}) ORDER BY seq", ids
                ).fetchall()
        events: dict[str, list[str]] = {}
        for event_call_id, event in event_rows:
            events.setdefault(event_call_id, []).append(event)
        out = []
        for row in rows:
            call = {"id": str(row[0]), **dict(zip(CALL_COLUMNS, row[1:-1])), "updates": row[-1]}
            call["events"] = events.get(call["call_id"], [])
            out.append(call)
        return out

    def events(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Every accepted ProcessCDR request in arrival order (with ``limit``: the newest ones)."""
        query = "SELECT seq, call_id, event, received_at, fields, arrived FROM events ORDER BY seq"
        params: list[Any] = []
        if limit is not None:
            query = f"SELECT * FROM ({query} DESC LIMIT ?) ORDER BY seq"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [{"seq": seq, "call_id": cid, "event": event, "received_at": at, "arrived": arrived,
                 "fields": json.loads(form)}
                for seq, cid, event, at, form, arrived in rows]

    def popups(self, *, limit: int | None = None) -> list[dict[str, Any]]:
        query = "SELECT id, call_id, phone, agent, time, contact, contact_id FROM popups ORDER BY id"
        params: list[Any] = []
        if limit is not None:
            query = f"SELECT * FROM ({query} DESC LIMIT ?) ORDER BY id"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        names = ("id", "call_id", "phone", "agent", "time", "contact", "contact_id")
        return [dict(zip(names, row)) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {table: self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                    for table in ("calls", "events", "popups")}


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds") if not value.microsecond else value.isoformat()
