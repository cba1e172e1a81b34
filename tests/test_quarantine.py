"""Quarantine: records no rule could parse are kept byte-exact, counted, logged once per kind, re-processable."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from smdr import layouts
from smdr.decoder import Decoder
from smdr.normalize import Localizer, PhoneRules, zone
from smdr.quarantine import Quarantine, is_quarantine_file, read_quarantined

TDA_OK = b"21/11/26 08:03AM   101 01 09121234567                    00:01'25               "
TDA_STARS = b"**/**/** **:****   105 02 <I>02177461847            *'** **:**'**               "
TDA_ALARM = b"21/11/26 09:41AM  MN ALM  302 CO LINE 06 NO RESPONSE                            "
GARBAGE = [b"\xff\xfe garbage \x80\x81", b"ATZ OK", b"%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%"]


def decoder(layout: str, quarantine: Quarantine, source: str = "pbx") -> Decoder:
    return Decoder(source, layouts.load(layout), localize=Localizer(zone("Asia/Tehran")), phone=PhoneRules(),
                   quarantine=quarantine)


def entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_smdr(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMDR_")}
    return subprocess.run([sys.executable, "-m", "smdr", *args], check=False, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_bad_records_are_kept_exactly_with_reason_and_kind(tmp_path: Path) -> None:
    path = tmp_path / "q" / "quarantine.jsonl"
    q = Quarantine(path)
    d = decoder("panasonic-kx-tda", q)
    stream = b"\r\n".join([TDA_OK, GARBAGE[0], TDA_STARS, TDA_ALARM, GARBAGE[1], GARBAGE[2], TDA_OK]) + b"\r\n"
    events = d.feed(stream)
    q.close()
    assert len(events) == 2 and all(e.provenance.raw == TDA_OK.decode().rstrip() for e in events)
    kept = entries(path)
    assert [base64.b64decode(e["raw_b64"]) for e in kept] == [GARBAGE[0], TDA_STARS, TDA_ALARM, *GARBAGE[1:]]
    assert [e["kind"] for e in kept] == ["too-short", "bad-field", "rejected", "too-short", "bad-field"]
    assert [e["position"] for e in kept] == [2, 3, 4, 5, 6]
    assert all(e["source"] == "pbx" and e["layout"] == "panasonic-kx-tda" for e in kept)
    stars = kept[1]
    assert "date" in stars["reason"] and "**/**/**" in stars["reason"]
    assert stars["text"] == TDA_STARS.decode("latin-1")
    assert "alarm" in kept[2]["reason"].lower()
    assert q.counts == {"too-short": 2, "bad-field": 2, "rejected": 1}
    assert d.stats.quarantined == q.counts
    assert is_quarantine_file(path.read_bytes()[:4096])
    assert [raw for _src, raw in read_quarantined(path)] == [GARBAGE[0], TDA_STARS, TDA_ALARM, *GARBAGE[1:]]


def test_each_kind_is_logged_once_however_many_records(tmp_path: Path, caplog) -> None:
    q = Quarantine(tmp_path / "q.jsonl")
    d = decoder("panasonic-kx-tda", q)
    with caplog.at_level(logging.WARNING, logger="smdr.quarantine"):
        for _ in range(50):
            d.feed(b"short garbage\r\n" + TDA_STARS + b"\r\n")
    q.close()
    assert q.counts == {"too-short": 50, "bad-field": 50}
    warnings = [r for r in caplog.records if r.name == "smdr.quarantine" and r.levelno == logging.WARNING]
    assert len(warnings) == 2
    messages = [r.getMessage() for r in warnings]
    assert any("too-short" in m for m in messages) and any("bad-field" in m for m in messages)
    assert all(str(tmp_path / "q.jsonl") in m for m in messages)
    assert len(entries(tmp_path / "q.jsonl")) == 100


def test_quarantine_without_a_file_still_counts(caplog) -> None:
    q = Quarantine(None)
    d = decoder("panasonic-kx-tda", q)
    with caplog.at_level(logging.WARNING, logger="smdr.quarantine"):
        d.feed(b"nope\r\nnope\r\n")
    assert q.counts == {"too-short": 2}
    assert len([r for r in caplog.records if r.name == "smdr.quarantine"]) == 1


def test_link_loss_sends_the_half_record_to_quarantine_as_incomplete(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    q = Quarantine(path)
    d = decoder("panasonic-kx-tda", q)
    half = TDA_OK[:41]
    assert len(d.feed(TDA_OK + b"\r\n" + half)) == 1
    d.link_lost()
    # after the reconnect the stream starts again at a record boundary
    after = d.feed(TDA_OK.replace(b"08:03AM", b"08:09AM") + b"\r\n")
    assert d.finish() == []
    q.close()
    assert len(after) == 1 and after[0].provenance.raw.startswith("21/11/26 08:09AM")
    (entry,) = entries(path)
    assert entry["kind"] == "incomplete"
    assert base64.b64decode(entry["raw_b64"]) == half
    assert entry["position"] == 2
    assert d.stats.records == 3


def test_link_loss_on_a_record_boundary_quarantines_nothing(tmp_path: Path) -> None:
    q = Quarantine(tmp_path / "q.jsonl")
    d = decoder("panasonic-kx-tda", q)
    d.feed(TDA_OK + b"\r\n")
    d.link_lost()
    assert q.counts == {}
    assert not (tmp_path / "q.jsonl").exists()


def test_smdr_parse_reprocesses_a_quarantine_file_with_the_right_layout(tmp_path: Path) -> None:
    # A KX-TDA stream read with the KX-TES layout by mistake: every record is quarantined ...
    capture = tmp_path / "site.smdr"
    tda2 = b"21/11/26 08:05AM   102 02 <I>02188776655            0'06 00:02'14               "
    capture.write_bytes(b"\x0c  Date     Time    Ext CO        Dial Number        Ring Duration  Acc code  CD \r\n"
                        + TDA_OK + b"\r\n" + tda2 + b"\r\n" + TDA_STARS + b"\r\n")
    quarantine = tmp_path / "quarantine.jsonl"
    first = run_smdr("parse", str(capture), "--layout", "panasonic-kx-tes", "--quarantine", str(quarantine),
                     cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == ""
    assert "3 record(s) not parsed" in first.stderr and str(quarantine) in first.stderr
    assert len(entries(quarantine)) == 3
    # ... and the kept bytes parse fine with the right layout
    again = run_smdr("parse", str(quarantine), "--layout", "panasonic-kx-tda", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    events = [json.loads(line) for line in again.stdout.splitlines()]
    assert [(e["direction"], e["phone"], e["duration"], e["agent"]) for e in events] == [
        ("outbound", "09121234567", 85, "101"), ("inbound", "02188776655", 134, "102")]
    assert [e["provenance"]["raw"] for e in events] == [TDA_OK.decode().rstrip(), tda2.decode().rstrip()]
    assert "1 record(s) not parsed" in again.stderr and "bad-field 1" in again.stderr   # the ** line stays bad


def _limit_file_size() -> None:  # runs in the child: a runaway writer dies at 1 MB instead of filling the disk
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def test_reprocessing_into_the_same_quarantine_file_terminates(tmp_path: Path) -> None:
    quarantine = tmp_path / "q.jsonl"
    capture = tmp_path / "g.smdr"
    capture.write_bytes(b"garbage line one\r\nmore garbage\r\n")
    first = run_smdr("parse", str(capture), "--layout", "panasonic-kx-tda", "--quarantine", str(quarantine),
                     cwd=tmp_path)
    assert first.returncode == 0 and len(entries(quarantine)) == 2
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMDR_")}
    again = subprocess.run([sys.executable, "-m", "smdr", "parse", str(quarantine), "--layout", "panasonic-kx-tda",
                            "--quarantine", str(quarantine)], check=False, cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=30, preexec_fn=_limit_file_size)
    assert again.returncode in (0, 2), again.stderr[-500:]
    assert quarantine.stat().st_size < 10_000
    assert len(entries(quarantine)) <= 4
