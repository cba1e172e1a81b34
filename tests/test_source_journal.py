"""The journal and the committed state of a live source, in-process with a real outbox: what a kill -9
between the journal write and the commit leaves is parsed again on restart, under the same call_ids."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from smdr.journal import Journal, read_after, segments
from smdr.outbox import Outbox
from smdr.pipeline import SourceSpec, make_decoder
from smdr.source_journal import SourceJournal

STREAM = Path(__file__).resolve().parent.parent / "fixtures" / "panasonic" / "kx-tda-a.smdr"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _source(journal_dir: Path, sink) -> SourceJournal:
    decoder = make_decoder(SourceSpec(name="pbx", url="", layout="panasonic-kx-tda"))

    async def deliver(call) -> None:
        await call()

    return SourceJournal("pbx", Journal(journal_dir), sink, decoder, deliver)


def test_bytes_journaled_but_not_committed_are_parsed_again_and_an_open_call_keeps_its_call_id(
        tmp_path: Path) -> None:
    lines = STREAM.read_bytes().split(b"\r\n")
    first = b"\r\n".join(lines[:17]) + b"\r\n"    # line 17 rings: one call open after it
    second = b"\r\n".join(lines[17:])             # its answer and end, and the rest

    async def go() -> list[dict]:
        outbox = Outbox.open(tmp_path / "outbox.sqlite3")
        source = _source(tmp_path / "journal", outbox)
        await source.process(first, NOW)
        await source.flush()  # committed: the kill comes after
        source.journal.append(second[:300])  # read and journaled; the kill comes before the commit
        source.close()
        outbox.close()

        outbox = Outbox.open(tmp_path / "outbox.sqlite3")
        again = _source(tmp_path / "journal", outbox)
        assert again.restore()
        assert len(again.decoder.tracker.open_calls()) == 1
        await again.recover(lambda: NOW)
        await again.process(second[300:], NOW)
        await again.flush()
        again.decoder.finish()
        rows = [json.loads(r.payload) for r in outbox.store.rows(limit=1000)]
        again.close()
        outbox.close()
        return rows

    stored = asyncio.run(asyncio.wait_for(go(), 20))
    expected = make_decoder(SourceSpec(name="pbx", url="", layout="panasonic-kx-tda")).feed(STREAM.read_bytes(), NOW)
    assert [(e["call_id"], e["event"]) for e in stored] == [(e.call_id, e.event) for e in expected]
    assert [e["provenance"]["position"] for e in stored] == [e.provenance.position for e in expected]


def test_the_journal_rotates_keeps_the_wall_clock_start_and_reads_back_after_an_offset(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_bytes=100)
    data = STREAM.read_bytes()[:1000]
    for start in range(0, len(data), 64):
        journal.append(data[start:start + 64])
    journal.close()
    found = segments(tmp_path)
    assert len(found) >= 5 and int(found[1].stem) > 0
    assert Path(f"{found[0]}.timing").read_text().startswith("H 0.000000 START_TIME ")
    assert b"".join(p.read_bytes() for p in found) == data
    back = list(read_after(tmp_path, 333))
    assert b"".join(chunk for chunk, _ in back) == data[333:]
    assert all(at is not None for _, at in back)
    assert Journal(tmp_path).end == len(data)  # the numbering goes on after a restart


def test_smdr_parse_reads_a_journal_and_gives_each_record_the_time_it_was_read(tmp_path: Path) -> None:
    import subprocess
    import sys

    journal = Journal(tmp_path / "journal")
    journal.append(STREAM.read_bytes())
    journal.close()
    timing = Path(f"{segments(tmp_path / 'journal')[0]}.timing")
    lines = timing.read_text().splitlines()
    started = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)  # as if recorded long ago: not "now"
    timing.write_text("\n".join([f"H 0.000000 START_TIME {started.isoformat()}", *lines[1:]]) + "\n")
    for target in (tmp_path / "journal", segments(tmp_path / "journal")[0]):
        run = subprocess.run([sys.executable, "-m", "smdr", "parse", str(target), "--layout", "panasonic-kx-tda"],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        times = {datetime.fromisoformat(json.loads(line)["provenance"]["received_at"])
                 for line in run.stdout.splitlines()}
        assert times and all(abs((at - started).total_seconds()) < 5 for at in times), (times, started)


def test_the_open_calls_text_kept_per_call_is_the_full_encoding_after_every_record() -> None:
    """The per-chunk state reuses each open call's text while nothing of it changes: after every record of
    streams that open, fold, answer and end calls (line fold, call-ref fold), it must read exactly as the
    whole list encoded again."""
    from smdr import tracker_state

    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    streams = {"panasonic-kx-tda": fixtures / "panasonic" / "kx-tda-a.smdr",
               "siemens-hipath-3000": next((fixtures / "siemens").glob("*3000*.smdr")),
               "avaya-ipoffice": fixtures / "avaya-ipoffice" / "vendor-examples.smdr"}
    compared = changed = 0
    for layout, stream in streams.items():
        decoder = make_decoder(SourceSpec(name="pbx", url="", layout=layout))
        kept = tracker_state.OpenCallsText()
        texts: list[str] = []
        for line in stream.read_bytes().splitlines(keepends=True):
            decoder.feed(line, NOW)
            expected = json.dumps(tracker_state.to_json(decoder.tracker), ensure_ascii=False)
            assert kept.text(decoder.tracker) == expected, (layout, line)
            compared += 1
            changed += bool(texts) and texts[-1] != expected
            texts.append(expected)
        assert any(text != "[]" for text in texts), layout  # the stream left calls open at some point
    assert compared > 50 and changed > 10
