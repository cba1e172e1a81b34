"""The outbox table in SQLite: every call event, from the moment it is accepted until the CRM has it.

One row per event, in arrival order (``id``). A row is ``queued`` until the CRM confirms it
(``delivered``), refuses it as invalid (``dead``, with the reason) or a later state of the same call
replaces a popup that went stale (``superseded``). Nothing is written while a request is in flight,
so an event interrupted by a crash is simply still ``queued`` and goes out again (at least once).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ..errors import SmdrError
from ..model import RINGING, CallEvent
from .rows import DELIVERED, QUEUED, DeliveryMark, event_row, insert_rows, mark_rows_delivered

DEAD: Final = "dead"
SUPERSEDED: Final = "superseded"
STATES: Final = (QUEUED, DELIVERED, DEAD, SUPERSEDED)

OUTBOX_FILE: Final = "outbox.sqlite3"
WAL_SIZE_LIMIT: Final = 4 * 1024 * 1024
SCHEMA_VERSION: Final = 1

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,        -- arrival order; events of one call go out in this order
    call_id TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,                       -- CallEvent.to_dict() as JSON
    state TEXT NOT NULL DEFAULT '{QUEUED}',
    created_at REAL NOT NULL,                    -- unix time the outbox accepted it
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,     -- unix time; retry backoff
    last_error TEXT,                             -- for dead letters: the CRM's reason
    settled_at REAL,                             -- unix time it became delivered / dead / superseded
    record_id TEXT,                              -- the CRM's PBXManager record id
    sent_event TEXT                              -- the event value sent, when it differs (stale popup)
);
CREATE INDEX IF NOT EXISTS events_by_state ON events(state, id);
CREATE INDEX IF NOT EXISTS events_queued_by_call ON events(call_id, id) WHERE state = '{QUEUED}';
CREATE INDEX IF NOT EXISTS events_queued_ringing ON events(id)
    WHERE state = '{QUEUED}' AND event = '{RINGING}';
CREATE VIEW IF NOT EXISTS dead_letters AS
    SELECT id, call_id, event, payload, last_error AS reason, attempts, created_at, settled_at AS failed_at
    FROM events WHERE state = '{DEAD}';
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS source_state (  -- a live source's committed journal position and open calls
    source TEXT PRIMARY KEY,
    state TEXT NOT NULL,                     -- JSON, see smdr.journal and smdr.pipeline
    saved_at REAL NOT NULL
);
"""

_COLUMNS = ("id, call_id, event, payload, state, created_at, attempts, next_attempt_at, last_error, "
            "settled_at, record_id, sent_event")

_READY_HEADS = f"""
SELECT {{columns}} FROM events e {{index}}
WHERE e.state = '{QUEUED}' AND (e.next_attempt_at <= ? OR e.next_attempt_at > ?) {{extra}}
  AND NOT EXISTS (SELECT 1 FROM events p WHERE p.call_id = e.call_id AND p.state = '{QUEUED}' AND p.id < e.id)
ORDER BY e.id LIMIT ?
"""

# a ready call's oldest queued event, and whether the call has more queued after it
_READY_ROW = (", ".join(f"e.{column}" for column in _COLUMNS.split(", "))
              + f", EXISTS (SELECT 1 FROM events n WHERE n.call_id = e.call_id AND n.state = '{QUEUED}' "
              "AND n.id > e.id)")

META_PAUSED = "paused_by_auth"
META_LAST_ERROR = "last_error"
META_LAST_ERROR_AT = "last_error_at"


class OutboxError(SmdrError):
    """The outbox file cannot be opened or is not an smdr outbox."""


@dataclass(slots=True)
class OutboxRow:
    id: int
    call_id: str
    event: str
    payload: str
    state: str
    created_at: float
    attempts: int
    next_attempt_at: float
    last_error: str | None
    settled_at: float | None
    record_id: str | None
    sent_event: str | None

    def call_event(self) -> CallEvent:
        return CallEvent.from_dict(json.loads(self.payload))


class OutboxStore:
    """Queries on one SQLite connection. Not thread-safe: one store per thread (the event loop's)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn, self.path = conn, path

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> OutboxStore:
        """Open (or create) the outbox file: WAL, synchronous=NORMAL on this connection.

        This connection reads, and makes the rare writes of ``smdr outbox`` and of delivery errors.
        The daemon's call events and delivery marks go through ``OutboxWriter`` (its own thread and
        connection, synchronous=FULL for call events: see there and the README for what survives what).
        """
        path = Path(path)
        if not create and not path.is_file():
            raise OutboxError(f"no outbox at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")  # the WAL shrinks back after a burst
            conn.executescript(_SCHEMA)
            version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version is None:
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
            elif int(version[0]) > SCHEMA_VERSION:
                raise OutboxError(f"{path} was written by a newer smdr (schema {version[0]})")
        except (sqlite3.Error, OSError) as exc:
            raise OutboxError(f"cannot open the outbox {path}: {exc}") from None
        return cls(conn, path)

    def close(self) -> None:
        self.conn.close()

    # --- upkeep on connections of their own (worker threads) -----------------------------------

    def no_checkpoints_here(self) -> None:
        """This connection (the event loop's) never checkpoints after its own rare commits: a checkpoint
        copies the WAL into the database and fsyncs it (milliseconds), which would stall a popup. The
        writer's checkpoint thread does it (smdr.outbox.writer)."""
        self.conn.execute("PRAGMA wal_autocheckpoint=0")

    def prune_settled(self, older_than: float, batch: int = 5000) -> int:
        """Delete delivered and superseded rows settled before ``older_than`` (unix time), a batch per
        transaction, on a connection of its own: meant for a worker thread. Dead letters stay."""
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        total = 0
        try:
            while True:
                cursor = conn.execute(
                    f"DELETE FROM events WHERE id IN (SELECT id FROM events WHERE state IN "
                    f"('{DELIVERED}', '{SUPERSEDED}') AND settled_at < ? ORDER BY id LIMIT ?)",
                    (older_than, batch))
                total += cursor.rowcount
                if cursor.rowcount < batch:
                    return total
        finally:
            conn.close()

    # --- the delivery path -------------------------------------------------------------------

    def insert(self, event: CallEvent, now: float) -> int:
        return insert_rows(self.conn, [event_row(event, now)])[0]

    def source_state(self, source: str) -> str | None:
        row = self.conn.execute("SELECT state FROM source_state WHERE source = ?", (source,)).fetchone()
        return row[0] if row else None

    def mark_many_delivered(self, marks: list[DeliveryMark]) -> None:
        """On this connection, in one transaction (the marks a full disk refused to the writer)."""
        with self._transaction():
            mark_rows_delivered(self.conn, marks)

    def has_queued(self) -> bool:
        return self.conn.execute(f"SELECT 1 FROM events WHERE state = '{QUEUED}' LIMIT 1").fetchone() is not None

    def head_of_call(self, call_id: str, after_id: int = 0) -> OutboxRow | None:
        """The oldest queued event of the call (after ``after_id``: those sent, their marks not yet
        committed): the only one of that call that may be sent now."""
        heads = self.heads_of_call(call_id, after_id, 1)
        return heads[0] if heads else None

    def heads_of_call(self, call_id: str, after_id: int = 0, limit: int = 2) -> list[OutboxRow]:
        """The call's oldest queued events after ``after_id``: the second tells whether there is more."""
        return [OutboxRow(*row) for row in self.conn.execute(
            f"SELECT {_COLUMNS} FROM events WHERE call_id = ? AND state = '{QUEUED}' AND id > ? ORDER BY id LIMIT ?",
            (call_id, after_id, limit))]

    def later_event_id(self, call_id: str, after_id: int) -> int | None:
        row = self.conn.execute(
            f"SELECT id FROM events WHERE call_id = ? AND state = '{QUEUED}' AND id > ? ORDER BY id LIMIT 1",
            (call_id, after_id)).fetchone()
        return row[0] if row else None

    def ready_heads(self, now: float, limit: int, *, ringing_only: bool = False,
                    horizon: float = float("inf")) -> list[tuple[int, str]]:
        """(id, call_id) of calls whose oldest queued event is due, oldest first.

        A retry time further than ``horizon`` ahead cannot come from a backoff: the wall clock was set
        back since it was stored, so the event is due now rather than stuck until the clock catches up.
        """
        if ringing_only:  # the planner prefers events_by_state, which scans the whole backlog
            sql = _READY_HEADS.format(columns="e.id, e.call_id", index="INDEXED BY events_queued_ringing",
                                      extra=f"AND e.event = '{RINGING}'")
        else:
            sql = _READY_HEADS.format(columns="e.id, e.call_id", index="", extra="")
        return self.conn.execute(sql, (now, now + horizon, limit)).fetchall()

    def ready_rows(self, now: float, limit: int, *, horizon: float = float("inf")) -> list[tuple[OutboxRow, bool]]:
        """As ``ready_heads``, with each call's oldest queued event in full and whether the call has
        more queued after it: one statement for a batch of calls instead of one per call."""
        sql = _READY_HEADS.format(columns=_READY_ROW, index="", extra="")
        return [(OutboxRow(*row[:-1]), bool(row[-1]))
                for row in self.conn.execute(sql, (now, now + horizon, limit))]

    def next_due_at(self) -> float | None:
        row = self.conn.execute(
            f"SELECT MIN(next_attempt_at) FROM events WHERE state = '{QUEUED}'").fetchone()
        return row[0] if row else None

    def mark_delivered(self, event_id: int, record_id: str, sent_event: str | None, now: float) -> None:
        mark_rows_delivered(self.conn, [(event_id, record_id, sent_event, now)])

    def mark_retry(self, event_id: int, error: str, next_attempt_at: float) -> None:
        self.conn.execute(
            f"UPDATE events SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
            f"WHERE id = ? AND state = '{QUEUED}'", (error, next_attempt_at, event_id))

    def mark_dead(self, event_id: int, reason: str, now: float) -> None:
        self.conn.execute(
            f"UPDATE events SET state = '{DEAD}', attempts = attempts + 1, last_error = ?, settled_at = ? "
            f"WHERE id = ? AND state = '{QUEUED}'", (reason, now, event_id))

    def mark_superseded(self, event_id: int, by_id: int, now: float) -> None:
        self.conn.execute(
            f"UPDATE events SET state = '{SUPERSEDED}', settled_at = ?, "
            f"last_error = 'stale popup; superseded by event ' || ? WHERE id = ? AND state = '{QUEUED}'",
            (now, by_id, event_id))

    def clear_backoff(self) -> int:
        """Every queued event due now (the CRM is back: no reason to wait out old backoffs)."""
        return self.conn.execute(f"UPDATE events SET next_attempt_at = 0 WHERE state = '{QUEUED}' "
                                 "AND next_attempt_at > 0").rowcount

    # --- status flags ------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, values: dict[str, str | None]) -> None:
        with self._transaction():
            for key, value in values.items():
                if value is None:
                    self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))
                else:
                    self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def record_error(self, message: str, now: float, *, auth: bool = False) -> None:
        values: dict[str, str | None] = {META_LAST_ERROR: message, META_LAST_ERROR_AT: repr(now)}
        if auth:
            values[META_PAUSED] = "1"
        self.set_meta(values)

    def clear_pause(self) -> None:
        self.set_meta({META_PAUSED: None})

    @property
    def paused_by_auth(self) -> bool:
        return self.get_meta(META_PAUSED) == "1"

    # --- inspection and maintenance (smdr outbox ...) -----------------------------------------

    def counts(self) -> dict[str, int]:
        found = dict(self.conn.execute("SELECT state, COUNT(*) FROM events GROUP BY state").fetchall())
        return {state: int(found.get(state, 0)) for state in STATES}

    def oldest_queued_at(self) -> float | None:
        row = self.conn.execute(
            f"SELECT created_at FROM events WHERE state = '{QUEUED}' ORDER BY id LIMIT 1").fetchone()
        return row[0] if row else None

    def rows(self, state: str | None = None, limit: int = 20, *,
             newest_first: bool = False) -> list[OutboxRow]:
        where = "WHERE state = ?" if state else ""
        order = "DESC" if newest_first else "ASC"
        params: tuple[object, ...] = (state, limit) if state else (limit,)
        return [OutboxRow(*row) for row in self.conn.execute(
            f"SELECT {_COLUMNS} FROM events {where} ORDER BY id {order} LIMIT ?", params)]

    def iter_events_since(self, created_after: float) -> Iterator[CallEvent]:
        """Every event accepted after ``created_after`` (unix time), in arrival order, whatever its state."""
        query = "SELECT payload FROM events WHERE created_at > ? ORDER BY id"
        for (payload,) in self.conn.execute(query, (created_after,)):
            try:
                yield CallEvent.from_dict(json.loads(payload))
            except (ValueError, KeyError, TypeError):
                continue  # an unreadable row is a dead letter's business, not a reader's

    def iter_payloads(self, state: str) -> Iterator[str]:
        query = "SELECT payload FROM events WHERE state = ? ORDER BY id"
        for (payload,) in self.conn.execute(query, (state,)):
            yield payload

    def requeue_dead(self) -> int:
        """Dead letters back to queued, keeping their place in their call's order."""
        cursor = self.conn.execute(
            f"UPDATE events SET state = '{QUEUED}', attempts = 0, next_attempt_at = 0, settled_at = NULL "
            f"WHERE state = '{DEAD}'")
        return cursor.rowcount

    def due_now(self) -> int:
        """Queued events waiting out a backoff become due at once; the auth pause is lifted."""
        with self._transaction():
            count = self.clear_backoff()
            self.conn.execute("DELETE FROM meta WHERE key = ?", (META_PAUSED,))
        return count

    def purge(self, states: Iterable[str], older_than: float | None) -> int:
        """Delete rows in ``states`` settled (or, for queued, created) before ``older_than`` (unix time)."""
        total = 0
        with self._transaction():
            for state in states:
                column = "created_at" if state == QUEUED else "settled_at"
                if older_than is None:
                    cursor = self.conn.execute("DELETE FROM events WHERE state = ?", (state,))
                else:
                    cursor = self.conn.execute(f"DELETE FROM events WHERE state = ? AND {column} < ?",
                                               (state, older_than))
                total += cursor.rowcount
        return total

    def _transaction(self) -> _Transaction:
        return _Transaction(self.conn)


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return
            except sqlite3.Error:
                self._rollback()
                raise
        self._rollback()

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # SQLite has rolled back already (a full disk)


def outbox_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / OUTBOX_FILE
