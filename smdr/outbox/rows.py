"""The statements the outbox writer thread runs (smdr.outbox.writer), on the connection it is given."""

from __future__ import annotations

import json
import sqlite3
from typing import Final

from ..model import CallEvent

DELIVERED: Final = "delivered"
QUEUED: Final = "queued"

#: (call_id, event, payload JSON, accepted at): an events row as the writer thread inserts it
EventRow = tuple[str, str, str, float]
#: (event id, CRM record id, event sent, settled at): a delivery the CRM confirmed, to be marked on disk
DeliveryMark = tuple[int, str, str | None, float]


def event_row(event: CallEvent, now: float) -> EventRow:
    return event.call_id, event.event, json.dumps(event.to_dict(), ensure_ascii=False), now


#: the rows of one INSERT, as ``encode_rows`` gives them: (JSON of (call_id, event, offset, length,
#: accepted at) per row, every payload's UTF-8 one after the other)
EncodedRows = tuple[str, bytes]


def encode_rows(rows: list[EventRow]) -> EncodedRows:
    """The rows for ``insert_encoded``: made on the event loop, where the CPU is spent anyway (in the
    writer thread it would only fight the loop for the GIL).

    The payloads are already JSON: inside the rows' JSON each would be escaped again (every quote), and
    unescaped again by SQLite, about half the cost of a burst's rows. So they go as one UTF-8 blob that
    the INSERT cuts at byte offsets, and they are stored as they were given."""
    payloads: list[bytes] = []
    meta = []
    offset = 1  # substr counts from 1
    for call_id, event, payload, at in rows:
        data = payload.encode()
        payloads.append(data)
        meta.append((call_id, event, offset, len(data), at))
        offset += len(data)
    return json.dumps(meta, ensure_ascii=False), b"".join(payloads)


_INSERT_ENCODED = ("INSERT INTO events (call_id, event, payload, created_at) SELECT json_extract(value, '$[0]'), "
                   "json_extract(value, '$[1]'), "
                   "CAST(substr(?2, json_extract(value, '$[2]'), json_extract(value, '$[3]')) AS TEXT), "
                   "json_extract(value, '$[4]') FROM json_each(?1) ORDER BY key")


def insert_encoded(conn: sqlite3.Connection, count: int, encoded: EncodedRows) -> list[int]:
    """Insert ``count`` rows given by ``encode_rows`` (inside the caller's transaction); their ids, in order.

    One statement for the whole batch: the sqlite3 module lets go of the GIL around every statement,
    and taking it back costs up to a switch interval (5 ms) while the event loop is busy, so one
    statement per row would make a burst's transaction last seconds. The ids of one INSERT are
    consecutive (AUTOINCREMENT, and this transaction is the only writer)."""
    if not count:
        return []
    last = int(conn.execute(_INSERT_ENCODED, encoded).lastrowid or 0)
    return list(range(last - count + 1, last + 1))


def insert_rows(conn: sqlite3.Connection, rows: list[EventRow]) -> list[int]:
    return insert_encoded(conn, len(rows), encode_rows(rows))


def save_source_states(conn: sqlite3.Connection, states: dict[str, str], now: float) -> None:
    conn.executemany("INSERT OR REPLACE INTO source_state VALUES (?, ?, ?)",
                     [(source, state, now) for source, state in states.items()])


def mark_rows_delivered(conn: sqlite3.Connection, marks: list[DeliveryMark]) -> None:
    conn.executemany(
        f"UPDATE events SET state = '{DELIVERED}', settled_at = ?, record_id = ?, sent_event = ?, "
        f"attempts = attempts + 1, last_error = NULL WHERE id = ? AND state = '{QUEUED}'",
        [(settled_at, record_id, sent_event, event_id) for event_id, record_id, sent_event, settled_at in marks])
