"""smdr.outbox.rows: a batch's payloads go to SQLite as one UTF-8 blob cut at byte offsets, and are
stored exactly as EventJson wrote them (Persian names, 4-byte characters, quotes and backslashes)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from test_delivery_support import make_event

from smdr.eventjson import EventJson
from smdr.model import CallEvent
from smdr.outbox import Outbox
from smdr.outbox.rows import encode_rows, insert_encoded
from smdr.outbox.store import OutboxStore


def _events() -> list[CallEvent]:
    linenames = ["CO 01", "خط تهران ۲", 'a "quoted" \\ line', "emoji \U0001f4de end", "", "\u00e9\u00e8 latin"]
    events = []
    for index, linename in enumerate(linenames * 3):
        event = make_event(f"call-{index}", "answered" if index % 2 else "ringing")
        event.linename = linename or None
        event.agent = "۱۰۱" if index % 4 == 0 else "101"
        events.append(event)
    return events


def test_every_payload_is_stored_as_written_whatever_its_characters(tmp_path: Path) -> None:
    events = _events()
    outbox = Outbox.open(tmp_path / "outbox.sqlite3")

    async def go() -> None:
        await outbox.emit_many(list(events))

    asyncio.run(go())
    outbox.close()
    rows = sqlite3.connect(tmp_path / "outbox.sqlite3").execute(
        "SELECT call_id, event, payload, typeof(payload) FROM events ORDER BY id").fetchall()
    writer = EventJson()
    assert [(call_id, event) for call_id, event, _, _ in rows] == [(e.call_id, e.event) for e in events]
    assert [payload for _, _, payload, _ in rows] == [writer.line(e) for e in events]
    assert {kind for *_, kind in rows} == {"text"}
    assert [json.loads(payload)["linename"] for _, _, payload, _ in rows] == [e.linename for e in events]


def test_the_rows_of_one_insert_get_consecutive_ids_in_order(tmp_path: Path) -> None:
    store = OutboxStore.open(tmp_path / "outbox.sqlite3")
    writer = EventJson()
    first = [(e.call_id, e.event, writer.line(e), 1.5) for e in _events()[:5]]
    second = [(e.call_id, e.event, writer.line(e), 2.5) for e in _events()[5:]]
    with store.conn:
        ids = insert_encoded(store.conn, len(first), encode_rows(first))
        ids += insert_encoded(store.conn, len(second), encode_rows(second))
    assert ids == list(range(1, len(first) + len(second) + 1))
    stored = store.conn.execute("SELECT id, call_id, payload, created_at FROM events ORDER BY id").fetchall()
    assert stored == [(n, call_id, payload, at) for n, (call_id, _, payload, at) in zip(ids, first + second)]
    assert insert_encoded(store.conn, 0, encode_rows([])) == []
    store.close()
