"""The outbox on disk: commit before emit returns, survival of a killed process, order, the CLI."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_delivery_support import make_event

from smdr.cli.main import main
from smdr.model import CallEvent
from smdr.outbox import Outbox, OutboxStore, outbox_path, resolve_data_dir
from smdr.yamlfile import load_text


def emit_all(outbox: Outbox, events: list[CallEvent]) -> None:
    async def go() -> None:
        for event in events:
            await outbox.emit(event)
    asyncio.run(go())


def test_emit_commits_before_returning(tmp_path: Path) -> None:
    outbox = Outbox.open(tmp_path / "outbox.sqlite3")
    seen_by_another_connection: list[int] = []

    async def go() -> None:
        await outbox.emit(make_event("c1", "ringing"))
        other = sqlite3.connect(tmp_path / "outbox.sqlite3")
        seen_by_another_connection.append(other.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        other.close()
    asyncio.run(go())
    outbox.close()
    assert seen_by_another_connection == [1]
    assert sqlite3.connect(tmp_path / "outbox.sqlite3").execute("PRAGMA journal_mode").fetchone() == ("wal",)


KILLED_WRITER = """
import asyncio, os, signal, sys
sys.path.insert(0, {tests!r})
from smdr.outbox import Outbox
from test_delivery_support import make_event

async def go():
    outbox = Outbox.open({path!r})
    for index in range(50):
        await outbox.emit(make_event(f"c{{index % 7}}", "answered" if index % 2 else "ringing"))
    os.kill(os.getpid(), signal.SIGKILL)  # no close(), no atexit: the process just dies

asyncio.run(go())
"""


def test_events_survive_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "data" / "outbox.sqlite3"
    script = KILLED_WRITER.format(tests=str(Path(__file__).parent), path=str(path))
    result = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert result.returncode == -signal.SIGKILL
    store = OutboxStore.open(path, create=False)
    assert store.counts() == {"queued": 50, "delivered": 0, "dead": 0, "superseded": 0}
    rows = store.rows("queued", 100)
    assert [row.id for row in rows] == sorted(row.id for row in rows)
    assert rows[0].call_event().to_dict() == make_event("c0", "ringing").to_dict()
    store.close()


def test_reopened_outbox_keeps_queue_and_order(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox.open(path)
    emit_all(outbox, [make_event("a", "ringing"), make_event("b", "ringing"), make_event("a", "answered")])
    del outbox  # process state dropped without a clean close
    store = OutboxStore.open(path)
    head = store.head_of_call("a")
    assert head is not None and head.event == "ringing"
    assert store.later_event_id("a", head.id) == head.id + 2
    assert [call_id for _, call_id in store.ready_heads(time.time(), 10)] == ["a", "b"]
    store.close()


def test_open_without_create_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no outbox at"):
        OutboxStore.open(tmp_path / "nothing.sqlite3", create=False)


def test_data_dir_is_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load_text("data_dir: ./state\n", str(tmp_path / "smdr.yaml"))
    assert resolve_data_dir(config) == tmp_path / "state"
    assert outbox_path(tmp_path) == tmp_path / "outbox.sqlite3"


# --- the CLI -----------------------------------------------------------------------------------

@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """An outbox with one event in each state, a last error and the auth pause set."""
    store = OutboxStore.open(outbox_path(tmp_path))
    now = time.time()
    ids = [store.insert(make_event(f"c{index}", event), now - 3600) for index, event in
           enumerate(["ringing", "answered", "answered", "ringing", "answered"])]
    store.mark_delivered(ids[1], "1001", None, now - 3 * 86400)
    store.mark_delivered(ids[2], "1002", None, now)
    store.mark_dead(ids[3], "ProcessCDR: the CRM refused the record: INVALID: unknown extension", now)
    store.mark_superseded(ids[4], 99, now)
    store.record_error("ProcessCDR: the CRM refused the secret key (AUTH: invalid secretkey)", now, auth=True)
    store.close()
    return tmp_path


def smdr(*args: str) -> int:
    return main(["outbox", *args])


def test_status(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert smdr("status", "--data-dir", str(filled)) == 0
    out = capsys.readouterr().out
    assert "queued       1  (oldest 1h 0m ago)" in out
    assert "delivered    2" in out and "dead         1" in out and "superseded   1" in out
    assert "PAUSED" in out and "invalid secretkey" in out
    assert smdr("status", "--json", "--data-dir", str(filled)) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["counts"] == {"queued": 1, "delivered": 2, "dead": 1, "superseded": 1}
    assert status["paused_by_auth"] is True and 3599 < status["oldest_queued_age"] < 4000


def test_status_via_config(filled: Path, tmp_path_factory: pytest.TempPathFactory,
                           capsys: pytest.CaptureFixture[str]) -> None:
    config = filled / "smdr.yaml"
    config.write_text("data_dir: .\ncrm:\n  url: http://127.0.0.1:1/x\n  secretkey: hush-hush\n")
    assert smdr("status", "--config", str(config)) == 0
    assert "delivered    2" in capsys.readouterr().out


def test_status_of_a_missing_outbox(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert smdr("status", "--data-dir", str(tmp_path / "none")) == 2
    assert "no outbox at" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_list(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert smdr("list", "--data-dir", str(filled)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and lines[0].split()[:3] == ["id", "state", "created"]
    assert smdr("list", "--state", "dead", "--data-dir", str(filled)) == 0
    [_header, dead] = capsys.readouterr().out.splitlines()
    assert "c3" in dead and "unknown extension" in dead
    assert smdr("list", "--state", "delivered", "--limit", "1", "--data-dir", str(filled)) == 0
    assert "record 1002" in capsys.readouterr().out  # newest first


def test_retry_dead_and_due_now(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert smdr("retry", "--dead", "--data-dir", str(filled)) == 0
    assert "1 dead letter(s) queued again" in capsys.readouterr().out
    store = OutboxStore.open(outbox_path(filled))
    assert store.counts()["queued"] == 2 and store.paused_by_auth
    store.mark_retry(store.rows("queued", 1)[0].id, "HTTP 503", time.time() + 999)
    store.close()
    assert smdr("retry", "--data-dir", str(filled)) == 0
    assert "1 queued event(s) due now" in capsys.readouterr().out
    store = OutboxStore.open(outbox_path(filled))
    assert not store.paused_by_auth and store.next_due_at() == 0
    store.close()


def test_purge(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert smdr("purge", "--data-dir", str(filled)) == 2
    assert smdr("purge", "--queued", "--data-dir", str(filled)) == 2
    assert "--force" in capsys.readouterr().err
    assert smdr("purge", "--delivered", "--older-than", "2", "--data-dir", str(filled)) == 0
    assert "1 event(s) deleted" in capsys.readouterr().out
    assert smdr("purge", "--delivered", "--superseded", "--data-dir", str(filled)) == 0
    assert "2 event(s) deleted" in capsys.readouterr().out
    store = OutboxStore.open(outbox_path(filled))
    assert store.counts() == {"queued": 1, "delivered": 0, "dead": 1, "superseded": 0}
    store.close()
    assert smdr("purge", "--queued", "--force", "--data-dir", str(filled)) == 0
    assert "1 event(s) deleted" in capsys.readouterr().out


def test_export_jsonl(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = filled / "delivered.jsonl"
    assert smdr("export", "--state", "delivered", "-o", str(target), "--data-dir", str(filled)) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [make_event("c1").to_dict(), make_event("c2").to_dict()]
    assert smdr("export", "--state", "queued", "-o", "-", "--data-dir", str(filled)) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == make_event("c0", "ringing").to_dict()


def test_dead_letters_view(filled: Path) -> None:
    conn = sqlite3.connect(outbox_path(filled))
    [(call_id, reason)] = conn.execute("SELECT call_id, reason FROM dead_letters").fetchall()
    assert call_id == "c3" and "unknown extension" in reason
