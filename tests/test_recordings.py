"""Recordings: file names read by a pattern, stable files taken, matched to calls, linked, served."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from smdr.httpd import HttpServer, HttpSettings, LinkSigner, Router
from smdr.model import CallEvent
from smdr.normalize import Localizer, zone
from smdr.outbox import Outbox
from smdr.recordings import (
    CallIndex,
    FileFacts,
    FilenamePattern,
    PatternError,
    RecordingSettings,
    RecordingStore,
    same_line,
    same_number,
)
from smdr.recordings.service import RecordingService
from smdr.recordings.watcher import FolderWatcher

TZ = zone("Asia/Tehran")
LOCAL = Localizer(TZ)
PATTERN = "{time:%Y%m%d-%H%M%S}-L{line}-{number}.wav"


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 1, 14, hh, mm, ss, tzinfo=TZ)


def call(call_id: str, start: datetime, seconds: int, *, line: str = "01", phone: str = "09121234567",
         event: str = "answered") -> CallEvent:
    return CallEvent(call_id, "inbound", event, "101", phone, seconds, None, "pbx", line, None, start,
                     start + timedelta(seconds=seconds + 6))


# -- names ---------------------------------------------------------------------------------------

def test_a_pattern_reads_line_number_and_time() -> None:
    pattern = FilenamePattern(PATTERN)
    facts = pattern.read("20260114-101502-L1-09121234567.wav", LOCAL)
    assert facts == FileFacts("1", "09121234567", at(10, 15, 2))
    assert pattern.read("20260114-101502-L1-.wav", LOCAL).number is None  # unknown caller
    assert pattern.read("notes.wav", LOCAL) is None
    assert pattern.read("20261314-101502-L1-0912.wav", LOCAL) is None  # month 13


def test_a_pattern_over_folders_with_persian_digits_and_a_wildcard() -> None:
    pattern = FilenamePattern("{time:%Y/%m/%d}/{time:%H%M%S}_*_{number}.mp3")
    facts = pattern.read("۲۰۲۶/۰۱/۱۴/۱۰۱۵۰۲_rec7_۰۹۱۲۱۲۳۴۵۶۷.mp3", LOCAL)
    assert facts == FileFacts(None, "09121234567", at(10, 15, 2))


def test_a_pattern_without_enough_of_the_time_is_refused() -> None:
    with pytest.raises(PatternError, match="needs the year"):
        FilenamePattern("{time:%H%M%S}-{line}.wav")
    with pytest.raises(PatternError, match="not supported"):
        FilenamePattern("{time:%Y%m%d%H%M%j}.wav")
    with pytest.raises(PatternError, match="twice"):
        FilenamePattern("{line}-{line}.wav")


def test_numbers_and_lines_compare_as_the_same_thing_written_differently() -> None:
    assert same_number("9121234567", "09121234567")
    assert same_number("۰۹۱۲۱۲۳۴۵۶۷", "0912-123-4567")
    assert not same_number("1234", "09121234")
    assert not same_number("09121234567", "09121234568")
    assert same_line("1", "01") and same_line("CO 3", "3") and same_line("L2", "02")
    assert not same_line("1", "11")


# -- matching ------------------------------------------------------------------------------------

def test_a_recording_matches_the_call_on_its_line_with_its_number_in_its_time() -> None:
    index = CallIndex()
    index.note(call("a", at(10, 0), 120, line="01"))
    index.note(call("b", at(10, 1), 60, line="02", phone="02188776655"))
    index.note(call("c", at(10, 30), 60, line="01"))
    assert index.match(FileFacts("1", "09121234567", None), at(10, 0, 8)).event.call_id == "a"
    assert index.match(FileFacts("2", None, None), at(10, 1, 5)).event.call_id == "b"
    missing = index.match(FileFacts("2", "09121234567", None), at(10, 1, 5))  # line 2 had another number
    assert missing.event is None and "no call fits" in missing.reason
    assert index.match(FileFacts("1", None, None), at(11, 0)).event is None  # no call then


def test_two_calls_that_fit_alike_leave_the_file_unmatched() -> None:
    index = CallIndex()
    index.note(call("a", at(10, 0), 300, line="01"))
    index.note(call("b", at(10, 0), 300, line="02"))
    found = index.match(FileFacts(None, "09121234567", None), at(10, 2))
    assert found.event is None and "2 calls fit it alike" in found.reason
    assert index.match(FileFacts("2", "09121234567", None), at(10, 2)).event.call_id == "b"


def test_the_next_call_on_the_line_is_nearer_than_the_one_before() -> None:
    index = CallIndex(window=120)
    index.note(call("a", at(10, 0), 300, line="01"))      # ends 10:05:06
    index.note(call("b", at(10, 6), 60, line="01"))
    assert index.match(FileFacts("1", None, None), at(10, 6, 3)).event.call_id == "b"


def test_ringing_and_in_progress_are_not_calls_to_link_yet() -> None:
    index = CallIndex()
    assert not index.note(call("a", at(10, 0), 0, event="ringing"))
    assert index.match(FileFacts("1", None, None), at(10, 0)).event is None


def test_a_line_map_names_the_pbx_line_of_a_recorder_channel() -> None:
    index = CallIndex({"3": "07"})
    index.note(call("a", at(10, 0), 60, line="07"))
    assert index.match(FileFacts("3", None, None), at(10, 0, 30)).event.call_id == "a"


# -- the folder ----------------------------------------------------------------------------------

def test_a_file_still_being_written_is_not_taken_until_its_size_holds(tmp_path: Path) -> None:
    now = [0.0]
    watcher = FolderWatcher(tmp_path, frozenset({"wav"}), settle=5.0, clock=lambda: now[0])
    growing = tmp_path / "a.wav"
    growing.write_bytes(b"x" * 10)
    (tmp_path / "notes.txt").write_text("not a recording")
    assert watcher.scan() == []
    now[0] = 3.0
    growing.write_bytes(b"x" * 20)
    assert watcher.scan() == []
    now[0] = 7.0
    assert watcher.scan() == []       # unchanged for 4 s only
    now[0] = 8.5
    [found] = watcher.scan()
    assert (found.relative, found.size) == ("a.wav", 20)
    now[0] = 20.0
    assert watcher.scan() == []       # taken once


def test_folders_are_walked_when_recursive(tmp_path: Path) -> None:
    (tmp_path / "2026" / "01").mkdir(parents=True)
    (tmp_path / "2026" / "01" / "b.wav").write_bytes(b"x")
    assert [f.relative for f in FolderWatcher(tmp_path, frozenset({"wav"}), settle=0, recursive=True).scan()] == [
        "2026/01/b.wav"]
    assert FolderWatcher(tmp_path, frozenset({"wav"}), settle=0).scan() == []


# -- the service ---------------------------------------------------------------------------------

def make_service(tmp_path: Path, outbox: Outbox, **options) -> tuple[RecordingService, RecordingStore]:
    folder = tmp_path / "rec"
    folder.mkdir(exist_ok=True)
    settings = RecordingSettings(folder, FilenamePattern(PATTERN), settle=0.0, **options)
    store = RecordingStore.open(tmp_path / "data" / "recordings.sqlite3")
    links = None if settings.url_template else LinkSigner.for_data_dir(tmp_path / "data")
    service = RecordingService(settings, outbox, store, TZ, links=links, base_url="http://pc:8470",
                               clock=lambda: at(10, 10).timestamp())
    service.start()
    return service, store


def updates(outbox: Outbox) -> list[CallEvent]:
    return [e for e in outbox.store.iter_events_since(0) if e.recordingurl]


def test_an_unmatched_file_is_listed_then_matched_when_its_call_arrives(arun, tmp_path: Path, outbox) -> None:
    service, store = make_service(tmp_path, outbox)
    (tmp_path / "rec" / "20260114-100005-L1-09121234567.wav").write_bytes(b"RIFF" + bytes(200))

    async def scenario() -> None:
        await service.process()
        [row] = list(store.rows("unmatched"))
        assert row.reason == "no call fits its line, number and time"
        assert service.stats.unmatched == 1 and updates(outbox) == []
        final = call("a", at(10, 0), 90, line="01")
        await outbox.emit(final)
        await service.process()
        [update] = updates(outbox)
        assert update.recordingurl.startswith("http://pc:8470/recordings/20260114-100005-L1-09121234567.wav?t=")
        # every field of the final event is repeated: the CRM reads absent ones as 0 / now
        assert (update.call_id, update.event, update.duration, update.starttime, update.endtime, update.agent,
                update.phone, update.linename, update.gateway) == (
            final.call_id, final.event, final.duration, final.starttime, final.endtime, final.agent,
            final.phone, final.linename, final.gateway)
        assert [r.state for r in store.rows()] == ["matched"]
        assert service.stats.unmatched == 0 and service.stats.matched == 1
        # a later final event of that call (a PBX record after the box's) goes out with the link again
        await outbox.emit(call("a", at(10, 0), 95, line="01"))
        await service.process()
        assert [u.duration for u in updates(outbox)] == [90, 95]

    arun(scenario())
    service.stop()
    store.close()


def test_a_second_file_for_a_call_with_a_recording_stays_listed(arun, tmp_path: Path, outbox) -> None:
    service, store = make_service(tmp_path, outbox, url_template="http://rec.example/download.php?file={path}")

    async def scenario() -> None:
        await outbox.emit(call("a", at(10, 0), 90))
        (tmp_path / "rec" / "20260114-100005-L1-09121234567.wav").write_bytes(b"1")
        await service.process()
        (tmp_path / "rec" / "20260114-100010-L1-09121234567.wav").write_bytes(b"2")
        (tmp_path / "rec" / "random name.wav").write_bytes(b"3")
        await service.process()

    arun(scenario())
    [update] = updates(outbox)
    assert update.recordingurl == "http://rec.example/download.php?file=20260114-100005-L1-09121234567.wav"
    reasons = sorted(r.reason for r in store.rows("unmatched"))
    assert reasons[0] == "its call a has a recording already"
    assert reasons[1].startswith("the name does not fit the pattern")
    service.stop()
    store.close()


def test_after_a_restart_calls_come_back_from_the_outbox(arun, tmp_path: Path, outbox) -> None:
    arun(outbox.emit(call("a", at(10, 0), 90)))
    service, store = make_service(tmp_path, outbox)
    (tmp_path / "rec" / "20260114-100005-L1-09121234567.wav").write_bytes(b"1")
    arun(service.process())
    assert [u.call_id for u in updates(outbox)] == ["a"]
    service.stop()
    store.close()


def test_the_link_serves_ranges_and_refuses_without_its_token(arun, tmp_path: Path, outbox) -> None:
    service, store = make_service(tmp_path, outbox)
    data = bytes(range(256)) * 8
    name = "20260114-100005-L1-09121234567.wav"
    (tmp_path / "rec" / name).write_bytes(data)
    (tmp_path / "secret.wav").write_bytes(b"outside the folder")
    router = Router()
    service.add_routes(router)
    server = HttpServer(HttpSettings(port=0), router)

    async def scenario() -> None:
        await server.start()
        try:
            url = service.url_for(name).replace("http://pc:8470", f"http://127.0.0.1:{server.port}")
            async with httpx.AsyncClient(timeout=5) as client:
                part = await client.get(url, headers={"Range": "bytes=100-199"})
                assert (part.status_code, part.content) == (206, data[100:200])
                assert (await client.get(url.split("?")[0])).status_code == 403
                assert (await client.get(url.split("?")[0] + "?t=AAAA")).status_code == 403
                assert (await client.get(url, headers={"Range": "bytes=5000-"})).status_code == 416
                for sneaky in ("../secret.wav", "%2e%2e/secret.wav", "a/../../secret.wav"):
                    target = f"/recordings/{sneaky}?t={service.links.sign(sneaky.replace('%2e', '.'))}"
                    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                    answer = await reader.read()
                    writer.close()
                    assert answer.startswith(b"HTTP/1.1 404 "), (sneaky, answer[:40])
                (tmp_path / "rec" / name).unlink()
                assert (await client.get(url)).status_code == 404
        finally:
            await server.close()

    arun(scenario())
    service.stop()
    store.close()


def test_the_watch_loop_runs_until_stopped(arun, tmp_path: Path, outbox) -> None:
    service, store = make_service(tmp_path, outbox, poll=0.05)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        await outbox.emit(call("a", at(10, 0), 90))
        (tmp_path / "rec" / "20260114-100005-L1-09121234567.wav").write_bytes(b"1")
        for _ in range(200):  # bounded: 10 s
            if updates(outbox):
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task

    arun(scenario())
    assert [u.call_id for u in updates(outbox)] == ["a"]
    service.stop()
    store.close()
